import ArgumentParser

/// `--json`, shared by every command that prints a result document.
///
/// The document's first keys are `schema` and `quantscope_version`; keys are snake_case.
struct JSONOptions: ParsableArguments {
  @Flag(help: "Print one JSON document (first keys: schema, quantscope_version) instead of text.")
  var json = false
}
