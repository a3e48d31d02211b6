import QuantscopeFormats

extension TensorExport {
  /// What a decode was asked for: tensors by name and by pattern, how they are written and where.
  public struct Request: Sendable {
    /// Tensors named exactly (`--tensor`), in the order given.
    public var names: [String] = []
    /// Tensors whose name matches (`--tensors`), in file order after the named ones.
    public var filter: TensorNameFilter?
    /// Whether FP8 weights are multiplied by their scale partners (the scales are then not
    /// written again on their own).
    public var applyScales = true
    /// The output name; `-` is standard output; `nil` names the file after the one tensor.
    public var output: String?
    /// The format asked for; `nil` decides it from the output name and the selection.
    public var format: Format?
    /// Whether the output is zstd-compressed (a name ending in `.zst` implies it).
    public var compress = false
    /// Whether only some rows are asked for (one tensor only).
    public var partialRows = false

    /// An empty request: add names or a filter.
    public init() {}
  }

  /// What a decode writes: the tensors selected, the format and the file.
  public struct Selection: Sendable {
    /// The tensors, named ones first, each once.
    public let tensors: [TensorInfo]
    /// The format written.
    public let format: Format
    /// The output file (`-` for standard output).
    public let destination: String
  }

  /// Decides what `request` writes from `model` (read from `path`).
  ///
  /// The output name says what the file is: a known extension (after `.zst`) decides the format,
  /// and a format that cannot hold the selection is refused rather than written under that name.
  /// Without a name or format, several tensors go to safetensors, one to `.npy` (raw f32 on
  /// standard output). A scale that multiplies a selected FP8 weight is consumed by it, as
  /// `fp8_cast_bf16.py` drops `*_scale_inv`.
  /// - Throws: ``FormatError`` — ``FormatError/Kind/notFound`` for a name the model lacks (with
  ///   the nearest names) or a pattern that matches nothing; ``FormatError/Kind/usage`` when the
  ///   name and `format` disagree; ``FormatError/Kind/unsupported`` when the selection does not
  ///   fit the format, rows are asked of several tensors, or several tensors have no output name.
  public static func select(
    _ request: Request, in model: any TensorCollection, path: String
  ) throws -> Selection {
    let index = model.tensorsByName
    var selected: [TensorInfo] = []
    var seen = Set<String>()
    for name in request.names {
      guard let t = index[name] else {
        let nearest = TensorNameFilter.nearest(to: name, among: model.tensors.map(\.name))
        throw FormatError(
          .notFound, path: path, "no tensor named \(name) (nearest: \(nearest.joined(separator: ", ")))")
      }
      if seen.insert(name).inserted { selected.append(t) }
    }
    if let filter = request.filter {
      // Checked against every tensor: a pattern that selects nothing is an error even when
      // names were given too.
      var matched = try filter.select(model.tensors, in: path).filter { !seen.contains($0.name) }
      if request.applyScales {
        let consumed = Set(matched.compactMap { ScalePartners.scale(for: $0, in: index)?.name })
        matched.removeAll { consumed.contains($0.name) }
      }
      for t in matched where seen.insert(t.name).inserted { selected.append(t) }
    }
    guard !selected.isEmpty else {
      throw FormatError(.notFound, path: path, "no tensor matches \(request.filter?.pattern ?? "")")
    }

    let output = request.output
    let toStandardOutput = output == "-"
    // The format is read from the name without its compression suffix: x.npy.zst is npy.
    let plainName = output.map { $0.hasSuffix(".zst") ? String($0.dropLast(4)) : $0 }
    let named = plainName.flatMap { name in
      name.split(separator: "/").last?.split(separator: ".", omittingEmptySubsequences: false).dropFirst().last
        .flatMap { Format(rawValue: $0.lowercased()) }
    }
    let chosen: Format
    if let format = request.format {
      if let named, named != format, !toStandardOutput {
        throw FormatError(
          .usage, path: "", "\(output ?? ""): the name says .\(named.rawValue) but --format is \(format.rawValue)")
      }
      chosen = format
    } else if let named {
      chosen = named
    } else if selected.count > 1 {
      chosen = .safetensors
    } else {
      chosen = toStandardOutput ? .f32 : .npy
    }
    if selected.count > 1 && !chosen.holdsSeveral {
      throw FormatError(
        .unsupported, path: output ?? "",
        "\(selected.count) tensors selected, but \(chosen.rawValue) holds one array; "
          + "name the output .safetensors to write several, or select one tensor")
    }
    if request.partialRows && selected.count > 1 {
      throw FormatError(.unsupported, path: "", "--rows needs exactly one tensor")
    }
    let destination: String
    if let output {
      destination = output
    } else if selected.count == 1 {
      destination =
        selected[0].name.replacingOccurrences(of: "/", with: "_") + "." + chosen.rawValue
        + (request.compress ? ".zst" : "")
    } else {
      throw FormatError(.unsupported, path: "", "several tensors selected: name the output file with -o")
    }
    return Selection(tensors: selected, format: chosen, destination: destination)
  }
}
