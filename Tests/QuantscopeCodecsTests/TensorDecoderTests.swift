import Foundation
import QuantscopeCodecs
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

/// Builds a file of raw tensor bytes at chosen offsets and hands out `TensorInfo`s over it, the
/// way a safetensors or GGUF reader would.
struct RawTensorFile {
  var bytes: [UInt8] = []
  var entries: [(name: String, encoding: TensorEncoding, shape: [Int], offset: Int, count: Int)] = []

  /// Appends `data` after `padding` filler bytes (to exercise unaligned starts).
  mutating func add(_ name: String, _ encoding: TensorEncoding, shape: [Int], data: [UInt8], padding: Int = 0) {
    bytes += [UInt8](repeating: 0xAB, count: padding)
    entries.append((name, encoding, shape, bytes.count, data.count))
    bytes += data
  }

  func open() throws -> [String: TensorInfo] {
    let dir = try TestPaths.temporaryDirectory("decoder")
    let url = dir.appendingPathComponent("tensors.bin")
    try Data(bytes).write(to: url)
    let file = try MappedFile(path: url.path)
    try? FileManager.default.removeItem(at: dir)  // the mapping stays valid
    var out: [String: TensorInfo] = [:]
    for e in entries {
      out[e.name] = TensorInfo(
        name: e.name, encoding: e.encoding, shape: e.shape, elementCount: e.shape.reduce(1, *),
        byteCount: e.count, file: file, dataOffset: e.offset)
    }
    return out
  }
}

func bytesOf<T>(_ values: [T]) -> [UInt8] { values.withUnsafeBytes { [UInt8]($0) } }

@Suite("Tensor decoder")
struct TensorDecoderTests {
  static let rows = 300
  static let cols = 200

  /// A DeepSeek-style FP8 weight (300×200, so the last tile row and column are partial) with a
  /// 3×2 F32 `weight_scale_inv`, placed at odd offsets.
  static func deepSeekFixture() throws -> (tensors: [String: TensorInfo], codes: [UInt8], scales: [Float]) {
    var rng = SplitMix(seed: 300_200)
    let codes = (0..<(rows * cols)).map { _ in UInt8.random(in: 0...255, using: &rng) }
    // Scales like amax/448: random mantissas over a range of exponents.
    let scales = (0..<6).map { _ in
      Float(
        sign: .plus, exponent: Int.random(in: -14 ... -4, using: &rng),
        significand: Float.random(in: 1..<2, using: &rng))
    }
    var file = RawTensorFile()
    file.add(
      "model.layers.0.mlp.down_proj.weight", .safetensors(.F8_E4M3), shape: [rows, cols], data: codes, padding: 3)
    file.add(
      "model.layers.0.mlp.down_proj.weight_scale_inv", .safetensors(.F32), shape: [3, 2], data: bytesOf(scales),
      padding: 1)
    return (try file.open(), codes, scales)
  }

  static let numpyDequant = """
    import sys, numpy as np, ml_dtypes
    raw = np.fromfile(sys.argv[1], dtype=np.uint8)
    codes = raw[:300*200].reshape(300, 200)
    s = raw[300*200:].view('<f4').reshape(3, 2)
    w = codes.view(ml_dtypes.float8_e4m3fn).astype(np.float32)
    S = np.repeat(np.repeat(s, 128, axis=0), 128, axis=1)[:300, :200]

    """

  @Test func `DeepSeek 128x128 block dequantization matches numpy bit for bit`() throws {
    let (tensors, codes, scales) = try Self.deepSeekFixture()
    let weight = try #require(tensors["model.layers.0.mlp.down_proj.weight"])
    let decoder = try TensorDecoder(weight, partnersIn: tensors)
    let scale = try #require(decoder.scale)
    #expect(scale.gridRows == 3 && scale.gridColumns == 2 && scale.blockRows == 128 && scale.blockColumns == 128)
    #expect(scale.tensor.name.hasSuffix("weight_scale_inv"))
    let got = try decoder.decodeAll()
    let input = codes + bytesOf(scales)

    let f32 = PythonOracle.words(
      try PythonOracle.run(
        Self.numpyDequant + "sys.stdout.buffer.write((w * S).view(np.uint32).tobytes())", input: input))
    try #require(f32.count == got.count)
    var bad = (0..<got.count).filter { !sameFloat(got[$0], f32[$0]) }
    #expect(bad.isEmpty, "f32 path: \(bad.count) mismatches, first \(bad.first ?? -1)")

    // bf16 storage of the f32 product (fp8_cast_bf16.py).
    let bf = try TensorDecoder(weight, partnersIn: tensors, precision: .bfloat16).decodeAll()
    let bfExpected = PythonOracle.words(
      try PythonOracle.run(
        Self.numpyDequant
          + "sys.stdout.buffer.write((w * S).astype(ml_dtypes.bfloat16).astype(np.float32).view(np.uint32).tobytes())",
        input: input))
    bad = (0..<bf.count).filter { !sameFloat(bf[$0], bfExpected[$0]) }
    #expect(bad.isEmpty, "bf16 path: \(bad.count) mismatches")
    // Rounding to bf16 changes most values (the f32 product of a 4-bit and a 24-bit significand rarely fits 8 bits).
    #expect(zip(bf, got).filter { $0.bitPattern != $1.bitPattern }.count > got.count / 4)

    // Exact products in float64.
    let exact = try TensorDecoder(weight, partnersIn: tensors, precision: .exact).decodeAllDouble()
    let f64 = PythonOracle.words64(
      try PythonOracle.run(
        Self.numpyDequant
          + "sys.stdout.buffer.write((w.astype(np.float64) * S.astype(np.float64)).view(np.uint64).tobytes())",
        input: input))
    try #require(f64.count == exact.count)
    let badExact = (0..<exact.count).filter {
      exact[$0].bitPattern != f64[$0] && !(exact[$0].isNaN && Double(bitPattern: f64[$0]).isNaN)
    }
    #expect(badExact.isEmpty, "exact path: \(badExact.count) mismatches")
    // The exact product rounds to the f32 product.
    #expect(zip(exact, got).allSatisfy { Float($0).bitPattern == $1.bitPattern || $1.isNaN })
    // Through the Float API, .exact equals .float32.
    #expect(
      try TensorDecoder(weight, partnersIn: tensors, precision: .exact).decodeAll().map(\.bitPattern)
        == got.map(\.bitPattern))
  }

  @Test func `streaming by rows and by row pieces equals decodeAll`() throws {
    let (tensors, _, _) = try Self.deepSeekFixture()
    let weight = try #require(tensors["model.layers.0.mlp.down_proj.weight"])
    let decoder = try TensorDecoder(weight, partnersIn: tensors)
    let all = try decoder.decodeAll()
    var streamed = [Float]()
    try decoder.forEachTile(maxElements: 37 * Self.cols) { streamed += $0 }
    #expect(streamed.map(\.bitPattern) == all.map(\.bitPattern))
    var pieces = [Float]()
    try decoder.forEachTile(maxElements: 70) { pieces += $0 }  // rows longer than a tile: 70-column pieces
    #expect(pieces.map(\.bitPattern) == all.map(\.bitPattern))
    var middle = [Float](repeating: 0, count: 20 * Self.cols)
    try middle.withUnsafeMutableBufferPointer { try decoder.decodeRows(125..<145, into: $0.baseAddress!) }
    #expect(middle.map(\.bitPattern) == all[(125 * Self.cols)..<(145 * Self.cols)].map(\.bitPattern))
    #expect(throws: FormatError.self) {
      try middle.withUnsafeMutableBufferPointer { try decoder.decodeRows(290..<301, into: $0.baseAddress!) }
    }
  }

  @Test func `per-tensor and per-channel scales`() throws {
    var rng = SplitMix(seed: 9)
    let codes = (0..<(64 * 48)).map { _ in UInt8.random(in: 0...0x7E, using: &rng) }
    let perChannel = (0..<64).map { _ in Float.random(in: 0.001..<0.01, using: &rng) }
    let perChannelBF16 = perChannel.map { Half.bf16FromFloat($0) }
    let scalar: [Float] = [0.0123]
    var file = RawTensorFile()
    file.add("a.weight", .safetensors(.F8_E4M3), shape: [64, 48], data: codes)
    file.add("a.weight_scale", .safetensors(.BF16), shape: [64, 1], data: bytesOf(perChannelBF16))
    file.add("b.weight", .safetensors(.F8_E4M3), shape: [64, 48], data: codes)
    file.add("b.weight_scale", .safetensors(.F32), shape: [], data: bytesOf(scalar))
    file.add("c.weight", .safetensors(.F8_E5M2), shape: [64, 48], data: codes)
    file.add("c.weight_scale", .safetensors(.F32), shape: [64], data: bytesOf(perChannel))
    let tensors = try file.open()
    let a = try TensorDecoder(tensors["a.weight"]!, partnersIn: tensors)
    #expect(a.scale?.kind == "per-channel")
    let b = try TensorDecoder(tensors["b.weight"]!, partnersIn: tensors)
    #expect(b.scale?.kind == "per-tensor")
    let c = try TensorDecoder(tensors["c.weight"]!, partnersIn: tensors)
    #expect(c.scale?.kind == "per-channel")
    let expected = try PythonOracle.run(
      """
      import sys, numpy as np, ml_dtypes
      raw = np.fromfile(sys.argv[1], dtype=np.uint8)
      codes = raw[:64*48].reshape(64, 48)
      sa = raw[64*48:64*48+128].view(ml_dtypes.bfloat16).astype(np.float32).reshape(64, 1)
      sc = raw[64*48+128:64*48+128+256].view('<f4').reshape(64, 1)
      w = codes.view(ml_dtypes.float8_e4m3fn).astype(np.float32)
      w5 = codes.view(ml_dtypes.float8_e5m2).astype(np.float32)
      out = np.concatenate([(w * sa).ravel(), (w * np.float32(0.0123)).ravel(), (w5 * sc).ravel()])
      sys.stdout.buffer.write(out.view(np.uint32).tobytes())
      """, input: codes + bytesOf(perChannelBF16) + bytesOf(perChannel))
    let got = try a.decodeAll() + b.decodeAll() + c.decodeAll()
    #expect(got.map(\.bitPattern) == PythonOracle.words(expected))
  }

  @Test func `ModelOpt 4-D block scale and explicit block sizes`() throws {
    let (tensors, codes, scales) = try Self.deepSeekFixture()
    var file = RawTensorFile()
    file.add("w.weight", .safetensors(.F8_E4M3), shape: [300, 200], data: codes)
    file.add("w.weight_scale", .safetensors(.F32), shape: [3, 1, 2, 1], data: bytesOf(scales))
    let other = try file.open()
    let four = try TensorDecoder(other["w.weight"]!, partnersIn: other).decodeAll()
    let two = try TensorDecoder(tensors["model.layers.0.mlp.down_proj.weight"]!, partnersIn: tensors).decodeAll()
    #expect(four.map(\.bitPattern) == two.map(\.bitPattern))
    #expect(throws: FormatError.self) {
      _ = try TensorDecoder(other["w.weight"]!, scale: other["w.weight_scale"], blockSize: (rows: 64, columns: 128))
    }
  }

  @Test func `a block grid of any other shape than the block size makes is refused, never re-tiled`() throws {
    // 300×200 with 128×128 blocks needs a [3, 2] grid; [2, 3] and [1, 6] hold as many entries
    // and used to be read as 150×67 and 300×34 tiles.
    let (_, codes, scales) = try Self.deepSeekFixture()
    for shape in [[2, 3], [1, 6], [6, 1], [3, 3]] {
      var file = RawTensorFile()
      file.add("w.weight", .safetensors(.F8_E4M3), shape: [300, 200], data: codes)
      let entries = shape[0] * shape[1]
      let values = (0..<entries).map { scales[$0 % scales.count] }
      file.add("w.weight_scale_inv", .safetensors(.F32), shape: shape, data: bytesOf(values))
      let tensors = try file.open()
      do {
        _ = try TensorDecoder(tensors["w.weight"]!, partnersIn: tensors)
        Issue.record("scale shape \(shape) was accepted")
      } catch let error as FormatError {
        #expect(error.tensor == "w.weight_scale_inv")
        #expect(
          error.message.contains(
            "scale shape \(shape) does not fit weight w.weight of shape [300, 200]: "
              + "expected [3, 2] for 128×128 blocks"), "\(error)")
      }
    }
    // With the checkpoint's block size, the grid that size makes is the one accepted.
    var file = RawTensorFile()
    file.add("w.weight", .safetensors(.F8_E4M3), shape: [300, 200], data: codes)
    file.add("w.weight_scale_inv", .safetensors(.F32), shape: [5, 2], data: bytesOf((0..<10).map { scales[$0 % 6] }))
    let tensors = try file.open()
    let d = try TensorDecoder(tensors["w.weight"]!, partnersIn: tensors, blockSize: (rows: 64, columns: 128))
    #expect(d.scale?.blockRows == 64 && d.scale?.blockColumns == 128)
    #expect(throws: FormatError.self) { _ = try TensorDecoder(tensors["w.weight"]!, partnersIn: tensors) }
  }

  @Test func `E8M0 and U8 block scales are powers of two`() throws {
    let (_, codes, _) = try Self.deepSeekFixture()
    let exponents: [UInt8] = [127, 120, 0, 130, 126, 140]
    var file = RawTensorFile()
    file.add("e.weight", .safetensors(.F8_E4M3), shape: [300, 200], data: codes)
    file.add("e.weight_scale_inv", .safetensors(.F8_E8M0), shape: [3, 2], data: exponents)
    file.add("u.weight", .safetensors(.F8_E4M3), shape: [300, 200], data: codes)
    file.add("u.weight_scale_inv", .safetensors(.U8), shape: [3, 2], data: exponents)
    let tensors = try file.open()
    let expectedScales = exponents.map { Float(sign: .plus, exponent: Int($0) - 127, significand: 1) }
    #expect(expectedScales[2].bitPattern == 0x0040_0000)
    for name in ["e.weight", "u.weight"] {
      let d = try TensorDecoder(tensors[name]!, partnersIn: tensors)
      #expect(d.scale?.values == expectedScales)
      let plain = try TensorDecoder(tensors[name]!).decodeAll()
      let got = try d.decodeAll()
      let bad = got.indices.filter { i in
        let want = plain[i] * expectedScales[(i / 200 / 128) * 2 + (i % 200) / 128]
        return !(got[i].bitPattern == want.bitPattern || (got[i].isNaN && want.isNaN))
      }
      #expect(bad.isEmpty, "\(name): \(bad.count) mismatches")
    }
  }

  @Test func `ggml scalar tensors decode through the codec registry`() throws {
    var rng = SplitMix(seed: 16)
    let values = (0..<(6 * 10)).map { _ in Float.random(in: -4..<4, using: &rng) }
    let halves = values.map { Half.fromFloat($0) }
    var file = RawTensorFile()
    file.add("h", .ggml(.f16), shape: [6, 10], data: bytesOf(halves), padding: 5)
    let tensors = try file.open()
    let d = try TensorDecoder(tensors["h"]!)
    #expect(d.rowCount == 6 && d.rowLength == 10 && d.columnAlignment == 1 && d.scale == nil)
    #expect(try d.decodeAll() == halves.map { Half.toFloat($0) })
  }

  @Test func `bad tensors are FormatErrors naming the tensor`() throws {
    var file = RawTensorFile()
    file.add("unknown", .ggml(GGMLType(id: 99)), shape: [4], data: [1, 2, 3, 4])
    file.add("removed", .ggml(GGMLType(id: 4)), shape: [32], data: [UInt8](repeating: 0, count: 20))
    file.add("short", .safetensors(.F32), shape: [4], data: [UInt8](repeating: 0, count: 12))
    file.add("complex", .safetensors(.C64), shape: [1], data: [UInt8](repeating: 0, count: 8))
    file.add("w.weight", .safetensors(.F8_E4M3), shape: [300, 200], data: [UInt8](repeating: 0x38, count: 60000))
    // 301 scale rows cannot tile 300 weight rows.
    file.add("w.weight_scale_inv", .safetensors(.F32), shape: [301, 2], data: [UInt8](repeating: 0, count: 301 * 8))
    let tensors = try file.open()
    for name in ["unknown", "removed", "short", "complex", "w.weight"] {
      do {
        _ = try TensorDecoder(tensors[name]!, partnersIn: tensors)
        Issue.record("\(name) should not decode")
      } catch let error as FormatError {
        #expect(error.tensor == name || error.tensor == "w.weight_scale_inv", "\(error)")
        #expect(error.offset != nil)
      }
    }
    do {
      _ = try TensorDecoder(tensors["unknown"]!)
    } catch let error as FormatError {
      #expect(error.description.contains("type99") && error.description.contains("unknown"))
    }
    // A data range past the end of the file.
    let f = tensors["short"]!
    let past = TensorInfo(
      name: "past", encoding: .safetensors(.F32), shape: [4], elementCount: 4, byteCount: 16, file: f.file,
      dataOffset: f.file.size - 8)
    #expect(throws: FormatError.self) { _ = try TensorDecoder(past) }
  }

  @Test func `scale partner names`() {
    #expect(
      ScalePartners.candidateNames(for: "x.weight") == ["x.weight_scale_inv", "x.weight_scale", "x.qscale_weight"])
    #expect(ScalePartners.isScaleName("model.layers.3.mlp.experts.7.up_proj.weight_scale_inv"))
    #expect(ScalePartners.isScaleName("q_proj.weight_scale"))
    #expect(!ScalePartners.isScaleName("q_proj.input_scale"))
  }
}

@Suite("big-endian GGUF data")
struct BigEndianDecodeTests {
  @Test func `scalar tensors of a big-endian GGUF decode like gguf-py reads them`() throws {
    let dir = try TestPaths.temporaryDirectory("be")
    let path = dir.appendingPathComponent("be.gguf").path
    let script = """
      import sys, numpy as np, gguf
      w = gguf.GGUFWriter(sys.argv[1], "llama", endianess=gguf.GGUFEndian.BIG)
      rng = np.random.default_rng(1)
      w.add_tensor("f32", rng.standard_normal((3, 8)).astype(np.float32))
      w.add_tensor("f16", rng.standard_normal((2, 16)).astype(np.float16))
      w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
      r = gguf.GGUFReader(sys.argv[1])
      for t in r.tensors:
          print(t.name, " ".join(str(int(x)) for x in np.asarray(t.data, dtype=np.float32).reshape(-1).view(np.uint32)))
      """
    let out = try PythonOracle.run(["-c", script, path])
    let model = try GGUFModel(path: path)
    #expect(model.shards[0].isBigEndian)
    for line in out.split(separator: "\n") {
      let parts = line.split(separator: " ")
      let tensor = try #require(model.tensor(named: String(parts[0])))
      let bits = try TensorDecoder(tensor).decodeAll().map(\.bitPattern)
      #expect(bits == parts.dropFirst().map { UInt32($0)! }, "\(parts[0])")
    }
  }
}
