import ArgumentParser
import QuantscopeFormats

extension Quantscope {
  /// `quantscope inspect`: metadata and tensor table of weight files.
  struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Show metadata and the tensor table of GGUF or safetensors files.")

    @Argument(help: "GGUF file (any shard of a split set), safetensors file, checkpoint directory or shards.")
    var paths: [String]

    func run() throws {
      let model = try WeightFiles.open(paths)
      for t in model.tensors {
        print(t.name, t.encoding.name, t.shape, t.byteCount, t.dataOffset)
      }
    }
  }
}
