import ArgumentParser
import QuantscopeAnalysis
import QuantscopeFormats

/// llama-quantize's type options and the version of its mix rules, shared by `plan` and `requant`.
struct MixOptions: ParsableArguments {
  @Option(
    help: ArgumentHelp(
      "Version of llama-quantize's mix rules: 0c1e570 (default, newest verified) or paper.",
      discussion: "0c1e570: llama.cpp 0c1e570 (llama-cpp-python 0.3.36, ggml 0.25.3). paper: llama.cpp 8733e0c "
        + "(llama-cpp-python 0.3.9, April 2025), whose rules reproduce the DQ3_K_M paper's Table 1.",
      valueName: "version"))
  var mixes: String?

  @Flag(help: "As llama-quantize --pure: every quantizable tensor gets the file type's default type.")
  var pure = false

  @Flag(help: "As llama-quantize --leave-output-tensor: output.weight keeps its type.")
  var leaveOutputTensor = false

  @Option(help: ArgumentHelp("As llama-quantize --token-embedding-type: the type of token_embd.", valueName: "type"))
  var tokenEmbeddingType: String?

  @Option(help: ArgumentHelp("As llama-quantize --output-tensor-type: the type of output.weight.", valueName: "type"))
  var outputTensorType: String?

  /// The rule version asked for (the newest by default).
  func rules() throws -> MixRules {
    guard let mixes else { return .newest }
    guard let rules = MixRules.named(mixes) else {
      throw ValidationError(
        "unknown --mixes '\(mixes)' (known: \(MixRules.all.map(\.name).joined(separator: ", ")))")
    }
    return rules
  }

  /// `recipe` with these options applied to its mix; an error when an option needs a mix and it has none.
  func apply(to recipe: Recipe) throws -> Recipe {
    let wanted = pure || leaveOutputTensor || tokenEmbeddingType != nil || outputTensorType != nil
    guard wanted else { return recipe }
    guard var mix = recipe.mix ?? recipe.base.flatMap({ Presets.named($0)?.mix }) else {
      throw CommandFailure.usage(
        "--pure, --leave-output-tensor, --token-embedding-type and --output-tensor-type need a llama-quantize "
          + "file type: a preset such as q4_k_m, or a recipe file with '# base: q4_k_m'")
    }
    func type(_ name: String, _ option: String) throws -> GGMLType {
      guard let type = GGMLType(name: name), RecipeRule.isTargetType(type) else {
        throw CommandFailure.usage("\(option): " + RecipeRule.invalidTypeMessage(name))
      }
      return type
    }
    if pure { mix.pure = true }
    if leaveOutputTensor { mix.leaveOutputTensor = true }
    if let t = tokenEmbeddingType { mix.tokenEmbeddingType = try type(t, "--token-embedding-type") }
    if let t = outputTensorType { mix.outputTensorType = try type(t, "--output-tensor-type") }
    var copy = recipe
    copy.mix = mix
    return copy
  }
}
