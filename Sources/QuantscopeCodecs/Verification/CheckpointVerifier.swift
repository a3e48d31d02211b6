import QuantscopeFormats

/// `verify` of a safetensors checkpoint: what opening it lets through.
///
/// Opening already validates the container as the safetensors crate does (header, offsets,
/// sizes, shard index). This adds what only the values show:
/// * always: every FP8/int8 weight's scale partner must fit it (``TensorDecoder``'s rule: a block
///   grid is exactly `⌈rows/b⌉ × ⌈cols/b⌉` for `config.json`'s `weight_block_size`), and its
///   entries must be finite — a NaN entry poisons a whole tile;
/// * with `deep`: NaN and ±Inf among the stored values of every float tensor (F32, F16, BF16,
///   F64 and the FP8 formats, whose NaN codes 0x7F/0xFF are easy to miss).
///
/// Findings use ``GGUFFinding`` (its kinds and one-line form) so `verify` prints both formats
/// the same way.
public struct CheckpointVerifier: Sendable {
  /// Also scan every float tensor's values.
  public var deep: Bool
  /// At most this many value findings are listed per tensor; the rest are summarised.
  public var maxValueFindingsPerTensor: Int
  /// Told the bytes of tensor data to scan and advanced as tensors are scanned.
  public var progress: (any ProgressObserver)? = nil

  /// Creates a verifier.
  public init(deep: Bool = false, maxValueFindingsPerTensor: Int = 8) {
    self.deep = deep
    self.maxValueFindingsPerTensor = maxValueFindingsPerTensor
  }

  /// The dtypes whose values can be NaN or infinite.
  static let floatDTypes: Set<SafetensorsDType> = [
    .F64, .F32, .F16, .BF16, .F8_E4M3, .F8_E5M2, .F8_E4M3FNUZ, .F8_E5M2FNUZ, .F8_E8M0,
  ]

  /// The findings of `checkpoint`, in tensor order.
  ///
  /// - Throws: ``FormatError`` when `config.json`'s block size is malformed or a tensor's bytes
  ///   cannot be read.
  public func verify(_ checkpoint: any TensorCollection) throws -> [GGUFFinding] {
    let byName = checkpoint.tensorsByName
    let blockSize = try ScalePartners.blockSize(of: checkpoint)
    var findings: [GGUFFinding] = []
    var scaleOf: [String: String] = [:]
    for t in checkpoint.tensors {
      guard let scale = ScalePartners.scale(for: t, in: byName) else { continue }
      scaleOf[scale.name] = t.name
      let layout: ScaleLayout?
      do {
        layout = try TensorDecoder(t, scale: scale, blockSize: blockSize).scale
      } catch let error as FormatError {
        findings.append(
          GGUFFinding(.scaleShape, path: error.path, tensor: error.tensor, offset: error.offset, error.message))
        continue
      }
      guard let layout else { continue }
      var listed = 0
      for (k, v) in layout.values.enumerated() where !v.isFinite {
        listed += 1
        guard listed <= maxValueFindingsPerTensor else { continue }
        let i = k / layout.gridColumns, j = k % layout.gridColumns
        let r0 = i * layout.blockRows, c0 = j * layout.blockColumns
        var offset: Int? = nil
        if case .safetensors(let dtype) = scale.encoding, dtype.bits % 8 == 0 {
          offset = scale.dataOffset + k * dtype.bits / 8
        }
        findings.append(
          GGUFFinding(
            .nonFiniteScale, path: scale.file.path, tensor: scale.name, block: k, offset: offset,
            "scale entry [\(i), \(j)] is \(v): rows \(r0)..<\(min(t.rowCount, r0 + layout.blockRows)), columns "
              + "\(c0)..<\(min(t.rowLength, c0 + layout.blockColumns)) of \(t.name) dequantize to NaN/Inf"))
      }
      if listed > maxValueFindingsPerTensor {
        findings.append(
          GGUFFinding(
            .more, path: scale.file.path, tensor: scale.name,
            "\(listed - maxValueFindingsPerTensor) more non-finite scale entries"))
      }
    }
    guard deep else { return findings }

    let scanned = checkpoint.tensors.filter {
      if case .safetensors(let d) = $0.encoding { return Self.floatDTypes.contains(d) && scaleOf[$0.name] == nil }
      return false
    }
    progress?.start(total: scanned.reduce(0) { $0 + $1.byteCount })
    defer { progress?.finish() }
    for t in scanned {
      let decoder = try TensorDecoder(t)
      var index = 0
      var count = 0
      var listed: [GGUFFinding] = []
      let bytesPerValue = max(1, t.byteCount / max(1, t.elementCount))
      try decoder.forEachTile { values in
        for v in values {
          if !v.isFinite {
            count += 1
            if listed.count < maxValueFindingsPerTensor {
              let what = v.isNaN ? "NaN" : (v < 0 ? "-Inf" : "+Inf")
              listed.append(
                GGUFFinding(
                  .nonFiniteValue, path: t.file.path, tensor: t.name, block: index,
                  offset: t.dataOffset + index * bytesPerValue,
                  "value [\(index / max(1, t.rowLength)), \(index % max(1, t.rowLength))] is \(what)"))
            }
          }
          index += 1
        }
      }
      findings += listed
      if count > listed.count {
        findings.append(
          GGUFFinding(.more, path: t.file.path, tensor: t.name, "\(count - listed.count) more non-finite values"))
      }
      progress?.advance(by: t.byteCount)
    }
    return findings
  }
}
