import ArgumentParser

/// `--force`, shared by every command that writes a file (through ``OutputOptions`` or beside
/// another option that names the file, like `diff --report`).
struct ForceOptions: ParsableArguments {
  @Flag(help: "Replace output files that exist.")
  var force = false
}

/// `-o`/`--output` and `--force`, shared by every command that writes a file.
struct OutputOptions: ParsableArguments {
  @Option(
    name: [.short, .customLong("output")],
    help: ArgumentHelp("Write the output to this file (see the description for '-' and .zst).", valueName: "path"))
  var output: String?

  @OptionGroup
  var forceOptions: ForceOptions

  /// Whether an existing output may be replaced.
  var force: Bool { forceOptions.force }
}
