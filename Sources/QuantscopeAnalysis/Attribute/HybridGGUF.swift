import Foundation
import QuantscopeFormats

/// Writes a hybrid GGUF: BASE with some tensors' bytes (and types) taken from CANDIDATE.
///
/// Nothing is requantized: every tensor is copied byte for byte from one file or the other, through the GGUF writer
/// and the copy path `requant` uses, so the output has BASE's metadata, tensor order and alignment. Memory stays
/// flat (tensors are streamed in 16 MiB pieces from the memory-mapped inputs); the file appears only when complete
/// and read back (``OutputFile``, per-tensor XXH3-128 checked).
public enum HybridGGUF {
  /// Writes BASE with the tensors named in `taking` copied from `candidate`, at `output` (one file, even when
  /// BASE is a split set: llama.cpp loads either).
  ///
  /// - Returns: the bytes of tensor data written.
  /// - Throws: ``FormatError`` when a name is not in both files or the shapes differ, or for any I/O error (then no
  ///   file exists at `output`).
  @discardableResult
  public static func write(
    base: GGUFModel, candidate: GGUFModel, taking: Set<String>, output: String, overwrite: Bool = false,
    inputs: [String] = []
  ) throws -> Int {
    let fromCandidate = candidate.tensorsByName
    var declarations: [GGUFTensorDeclaration] = []
    var actions: [Requantization.Action] = []
    for tensor in base.tensors {
      var source = tensor
      if taking.contains(tensor.name) {
        guard let other = fromCandidate[tensor.name], other.shape == tensor.shape else {
          throw FormatError(
            .mismatch, path: candidate.files[0].path, "no tensor of BASE's shape \(tensor.shape) to take",
            tensor: tensor.name)
        }
        source = other
      }
      guard case .ggml(let type) = source.encoding else {
        throw FormatError(.unsupported, path: source.file.path, "not a ggml tensor", tensor: source.name)
      }
      declarations.append(
        GGUFTensorDeclaration(name: tensor.name, type: type, ne: tensor.ne, byteCount: source.byteCount))
      actions.append(.copy(source))
    }
    let metadata = base.metadata.filter { !$0.key.hasPrefix("split.") }
    let allInputs = base.files.map(\.path) + candidate.files.map(\.path) + inputs
    try OutputFile.checkTargets([output], overwrite: overwrite, inputs: allInputs)
    let out = try OutputFile(path: output, overwrite: overwrite, compression: .none, inputs: allInputs)
    var hashes: [String: XXH3Digest128] = [:]
    var total = 0
    do {
      let writer = try GGUFWriter(metadata: metadata, tensors: declarations, sink: out, label: output)
      try writer.writeHeader()
      for (declaration, action) in zip(declarations, actions) {
        let hasher = XXH3Hasher128()
        try Requantization.produce(action, declaration: declaration, options: Requantization.Options()) { bytes in
          hasher.update(bytes)
          try writer.writeData(bytes)
        }
        hashes[declaration.name] = hasher.digest()
        total += declaration.byteCount
      }
      try writer.finish()
      try out.prepare()
      try Requantization.verifyWritten(
        out.temporaryPath ?? output, as: output, declarations: declarations, hashes: hashes)
      try out.commit()
    } catch {
      out.abandon()
      throw error
    }
    return total
  }
}
