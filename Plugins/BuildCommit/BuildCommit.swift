import Foundation
import PackagePlugin

/// Writes `BuildCommit.swift` into the build directory before every build: the git commit the
/// package was built from (with `-dirty` when tracked files had changes), or `unknown` when it is
/// not built from a git checkout (a source archive, say). `quantscope --version` prints it.
///
/// The file is rewritten only when its content changes, so an unchanged commit triggers no
/// recompilation.
@main
struct BuildCommit: BuildToolPlugin {
  func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
    let output = context.pluginWorkDirectoryURL.appending(path: "generated")
    let script = """
      set -u
      cd "$1" || exit 1
      commit=$(git rev-parse --short=12 HEAD 2>/dev/null) || commit=unknown
      if [ "$commit" != unknown ] && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
        commit="$commit-dirty"
      fi
      mkdir -p "$2"
      text="/// The git commit this binary was built from (written by the BuildCommit plugin).
      let buildCommit = \\"$commit\\""
      [ "$(cat "$2/BuildCommit.swift" 2>/dev/null)" = "$text" ] || printf '%s\\n' "$text" > "$2/BuildCommit.swift"
      """
    return [
      .prebuildCommand(
        displayName: "Recording the git commit",
        executable: URL(fileURLWithPath: "/bin/sh"),
        arguments: ["-c", script, "sh", context.package.directoryURL.path, output.path],
        outputFilesDirectory: output)
    ]
  }
}
