import QuantscopeFormats

/// The decode and quantize kernels of one ggml type.
///
/// Kernels work on whole blocks through raw pointers, so callers stream a tensor through a
/// bounded tile buffer. Blocks are read with unaligned loads: GGUF block sizes (18, 34, 110, 210
/// bytes…) leave their fields misaligned.
public struct BlockCodec: Sendable {
  /// Decodes `blocks` consecutive blocks at `source` into `blocks × type.blockElements` floats at
  /// `destination`, bit-exactly as ggml's `to_float` does.
  public typealias Decode =
    @Sendable (
      _ source: UnsafeRawPointer, _ blocks: Int, _ destination: UnsafeMutablePointer<Float>
    ) -> Void

  /// Quantizes `rows` rows of `rowLength` floats at `source` into `destination`, producing
  /// exactly the bytes of ggml's `ggml_quantize_chunk`. `importance` (an imatrix column vector
  /// of `rowLength` weights) is `nil` for the plain quantizer.
  public typealias Quantize =
    @Sendable (
      _ source: UnsafePointer<Float>, _ rows: Int, _ rowLength: Int,
      _ importance: UnsafePointer<Float>?, _ destination: UnsafeMutableRawPointer
    ) -> Void

  /// The type these kernels handle.
  public let type: GGMLType
  /// The decoder.
  public let decode: Decode
  /// The quantizer, where one exists.
  public let quantize: Quantize?
  /// Whether ggml refuses to quantize this type without an importance matrix.
  public let requiresImportance: Bool

  /// Creates a codec entry.
  public init(type: GGMLType, decode: @escaping Decode, quantize: Quantize? = nil, requiresImportance: Bool = false) {
    self.type = type
    self.decode = decode
    self.quantize = quantize
    self.requiresImportance = requiresImportance
  }
}

/// A quantizer of one type, registered by a family's `+Quantize` file.
public struct BlockQuantizer: Sendable {
  /// The type produced.
  public let type: GGMLType
  /// The kernel.
  public let quantize: BlockCodec.Quantize
  /// Whether ggml refuses to quantize this type without an importance matrix.
  public let requiresImportance: Bool

  /// Creates a quantizer entry.
  public init(type: GGMLType, quantize: @escaping BlockCodec.Quantize, requiresImportance: Bool = false) {
    self.type = type
    self.quantize = quantize
    self.requiresImportance = requiresImportance
  }
}

/// The registry of every codec, one family per file.
public enum Codecs {
  /// Every codec, by type.
  public static let all: [GGMLType: BlockCodec] = {
    var table: [GGMLType: BlockCodec] = [:]
    for family in [
      ScalarTypes.codecs, LegacyQuants.codecs, KQuants.codecs, IQuants.codecs, TernaryQuants.codecs,
      MicroscalingQuants.codecs, BinaryQuants.codecs,
    ] {
      for codec in family {
        precondition(table[codec.type] == nil, "two codecs for \(codec.type)")
        table[codec.type] = codec
      }
    }
    for family in [
      ScalarTypes.quantizers, LegacyQuants.quantizers, KQuants.quantizers, IQuants.quantizers,
      TernaryQuants.quantizers, MicroscalingQuants.quantizers, BinaryQuants.quantizers,
    ] {
      for q in family {
        guard let codec = table[q.type] else { preconditionFailure("quantizer without decoder: \(q.type)") }
        table[q.type] = BlockCodec(
          type: q.type, decode: codec.decode, quantize: q.quantize, requiresImportance: q.requiresImportance)
      }
    }
    return table
  }()

  /// The codec for `type`, or `nil` when quantscope cannot decode it.
  public static func codec(for type: GGMLType) -> BlockCodec? { all[type] }
}
