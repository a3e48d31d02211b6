import QuantscopeFormats

extension ReferenceMapping {
  /// Head counts for llama's Q/K permutation (`num_attention_heads`, `num_key_value_heads`).
  public struct HeadCounts: Sendable {
    /// Query heads.
    public var query: Int
    /// Key/value heads.
    public var key: Int
    /// Creates head counts.
    public init(query: Int, key: Int) {
      self.query = query
      self.key = key
    }
  }

  /// A view producing the reference values of GGUF tensor `name`, laid out as the candidate's
  /// tensor of shape `candidateShape` (row-major), or `nil` when the reference has no such tensor.
  ///
  /// - Throws: ``FormatError`` when the shapes cannot agree, naming both sides.
  public func rows(
    for name: String, candidateShape: [Int], precision: ReferencePrecision, heads: HeadCounts? = nil
  ) throws -> (any ReferenceRows)? {
    guard let entry = entries[name] else { return nil }
    let parts: [any ReferenceRows] = try entry.sources.map {
      try SourceRows(tensor: $0, scale: scale(for: $0), blockSize: blockSize, precision: precision)
    }
    let origin =
      entry.sources.count > 1
      ? "\(entry.sources[0].name) … \(entry.sources[entry.sources.count - 1].name) (\(entry.sources.count) stacked)"
      : entry.sources[0].name
    var view: any ReferenceRows = parts.count > 1 ? try StackedRows(parts, origin: origin) : parts[0]

    switch (entry.layout, entry.kvbPart) {
    case (.splitKVB, .k?):
      // attn_k_b numpy [h, c, d] = W[h·stride + d, c]; candidate shape [heads, kv_lora, nope].
      guard candidateShape.count == 3, candidateShape[1] == view.rowLength, candidateShape[0] > 0,
        view.rowCount % candidateShape[0] == 0, candidateShape[2] <= view.rowCount / candidateShape[0]
      else { throw mismatch(name, view, candidateShape, entry) }
      let heads = candidateShape[0]
      view = TransposedGroupRows(
        base: view, groups: heads, groupStride: view.rowCount / heads, inner: candidateShape[2], origin: origin)
    case (.splitKVB, .v?):
      // attn_v_b numpy [h, j, c] = W[h·stride + (stride − v) + j, c]; candidate shape [heads, v, kv_lora].
      guard candidateShape.count == 3, candidateShape[2] == view.rowLength, candidateShape[0] > 0,
        view.rowCount % candidateShape[0] == 0, candidateShape[1] <= view.rowCount / candidateShape[0]
      else { throw mismatch(name, view, candidateShape, entry) }
      let stride = view.rowCount / candidateShape[0]
      let v = candidateShape[1]
      view = PermutedRows(base: view, shape: candidateShape, origin: origin) { row in
        (row / v) * stride + (stride - v) + row % v
      }
    case (.permuteQueryHeads, _), (.permuteKeyHeads, _):
      guard let heads else {
        throw FormatError(
          .malformed, path: entry.sources[0].file.path, "head counts are needed to un-permute \(name)",
          tensor: entry.sources[0].name)
      }
      let h = entry.layout == .permuteQueryHeads ? heads.query : heads.key
      let rows = view.rowCount
      guard h > 0, rows % (2 * h) == 0 else { throw mismatch(name, view, candidateShape, entry) }
      let half = rows / h / 2
      view = PermutedRows(base: view, shape: view.shape, origin: origin) { r in
        let head = r / (2 * half), within = r % (2 * half)
        return head * 2 * half + (within % 2) * half + within / 2
      }
    case (.plusOne, _):
      view = OffsetRows(base: view, offset: 1)
    default:
      break
    }

    // Shapes agree when the element count and row length agree (GGUF drops trailing 1-dims).
    guard view.elementCount == candidateShape.reduce(1, *), view.rowLength == (candidateShape.last ?? 1) else {
      throw mismatch(name, view, candidateShape, entry)
    }
    return view.shape == candidateShape ? view : ReshapedRows(base: view, shape: candidateShape)
  }

  /// The reference's file and first tensor are the error's place; the message names the
  /// candidate's tensor and shape too, so both sides are in the one line.
  private func mismatch(
    _ name: String, _ view: any ReferenceRows, _ candidate: [Int], _ entry: Entry
  ) -> FormatError {
    FormatError(
      .mismatch,
      path: entry.sources[0].file.path,
      "shape mismatch: \(name) is \(candidate) (\(candidate.reduce(1, *)) elements) vs reference "
        + "\(view.origin) \(view.shape) (\(view.elementCount) elements)",
      tensor: entry.sources[0].name)
  }
}
