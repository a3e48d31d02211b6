// The bodies of the fuzz targets, one function per parser of untrusted bytes.
//
// This file is compiled twice: into the fuzz package's `FuzzHarness` module (each fuzz target's
// `LLVMFuzzerTestOneInput` calls one function) and, through a symlink, into the main package's
// QuantscopeAnalysisTests, where `FuzzRegressionTests` replays every seed and every crasher found
// so far through exactly the same code.
//
// Contract checked by every function: any input either parses or throws a `FormatError`. Any
// other error, a trap, an out-of-bounds read (address sanitizer) or a hang is a finding.

import QuantscopeAnalysis
import QuantscopeCodecs
import QuantscopeFormats

/// The fuzz targets' bodies.
public enum FuzzHarness {
  /// What one input did.
  public enum Outcome: Equatable, Sendable {
    /// It parsed; the number is a digest of what was read (so the work is not optimized away).
    case parsed(Int)
    /// It was rejected with this one-line error.
    case rejected(String)
  }

  /// The fuzz targets by name (the executable is `fuzz-NAME`, the corpus `Fuzz/Corpus/NAME`).
  public static let targets: [String: @Sendable (UnsafeRawBufferPointer) -> Outcome] = [
    "gguf": gguf, "safetensors": safetensors, "shard-index": shardIndex, "imatrix": imatrix,
    "decoders": decoders,
  ]

  /// Runs `body`, turning a `FormatError` into `.rejected` and anything else into a trap (which
  /// libFuzzer records as a crash): parsers must only ever throw `FormatError`.
  static func run(_ body: () throws -> Int) -> Outcome {
    do {
      return .parsed(try body())
    } catch let error as FormatError {
      return .rejected(error.description)
    } catch {
      fatalError("parser threw a non-FormatError: \(error)")
    }
  }

  /// GGUF header, metadata and tensor infos; then every tensor's data range, the structural
  /// verifier and, for small inputs, the value scan (which decodes every tensor).
  @Sendable public static func gguf(_ data: UnsafeRawBufferPointer) -> Outcome {
    run {
      let file = MappedFile(bytes: data, path: "fuzz.gguf")
      let gguf = try GGUFFile(file: file, allowDataOutOfBounds: true)
      var digest = gguf.metadata.count &+ gguf.alignment
      for (key, value) in gguf.metadata {
        digest = digest &+ key.utf8.count &+ "\(value.type)".utf8.count
      }
      for t in gguf.tensors {
        digest = digest &+ t.elementCount &+ t.rowCount &+ t.shape.count
        if let bytes = try? t.bytes() { digest = digest &+ bytes.count }
      }
      let verifier = GGUFVerifier(deep: true)
      digest = digest &+ verifier.structure(of: gguf).count
      if (try? verifier.values(of: gguf))?.count == 1 { digest = digest &+ 1 }
      return digest
    }
  }

  /// Safetensors header parser and validator; then every tensor through `TensorDecoder`.
  @Sendable public static func safetensors(_ data: UnsafeRawBufferPointer) -> Outcome {
    run {
      let file = MappedFile(bytes: data, path: "fuzz.safetensors")
      let st = try SafetensorsFile(file: file)
      var digest = st.metadata.count &+ st.headerLength
      let byName = Dictionary(st.tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
      for t in st.tensors {
        digest = digest &+ t.elementCount &+ t.byteCount
        // Decoding every element is bounded by the input's length (each takes at least a byte,
        // or a bit for sub-byte dtypes), so this cannot blow up in time or memory.
        if let decoder = try? TensorDecoder(t, partnersIn: byName), t.elementCount <= 1 << 16,
          let values = try? decoder.decodeAll()
        {
          digest = digest &+ values.count
        }
      }
      return digest
    }
  }

  /// `model.safetensors.index.json` reader.
  @Sendable public static func shardIndex(_ data: UnsafeRawBufferPointer) -> Outcome {
    run {
      let index = try SafetensorsIndex(bytes: data, path: "fuzz.index.json")
      return index.weightMap.count &+ index.shardFiles.count
    }
  }

  /// Both imatrix readers (GGUF `in_sum2`/`counts` and the legacy binary `.dat`): the first four
  /// bytes pick the reader, as in `ImportanceMatrix(path:)`.
  @Sendable public static func imatrix(_ data: UnsafeRawBufferPointer) -> Outcome {
    run {
      let matrix = try ImportanceMatrix(file: MappedFile(bytes: data, path: "fuzz.imatrix"))
      var digest = matrix.chunkCount &+ matrix.datasets.count
      for (name, values) in matrix.entries {
        digest = digest &+ values.count
        digest = digest &+ (matrix.weights(for: name)?.count ?? 0)
      }
      return digest
    }
  }

  /// Every block decoder fed arbitrary bytes, directly and through `TensorDecoder`; and, from the
  /// same bytes read as floats (NaN, infinities, huge and tiny values), every quantizer.
  ///
  /// Input layout: byte 0 picks the type among `Codecs.all` (sorted by id), byte 1 the quantizer
  /// row count; the rest is block data (whole blocks only) and the float source.
  @Sendable public static func decoders(_ data: UnsafeRawBufferPointer) -> Outcome {
    run {
      guard data.count >= 2 else { return 0 }
      let types = codecTypes
      let type = types[Int(data[0]) % types.count]
      guard let codec = Codecs.codec(for: type) else { return 0 }
      let payload = UnsafeRawBufferPointer(rebasing: data[2...])
      let blocks = payload.count / type.blockBytes
      var digest = 0
      if blocks > 0 {
        // Exact-size copies, so the address sanitizer sees any read or write past the blocks.
        let source = UnsafeMutableRawPointer.allocate(byteCount: blocks * type.blockBytes, alignment: 1)
        defer { source.deallocate() }
        if let from = payload.baseAddress { source.copyMemory(from: from, byteCount: blocks * type.blockBytes) }
        let values = UnsafeMutablePointer<Float>.allocate(capacity: blocks * type.blockElements)
        defer { values.deallocate() }
        codec.decode(UnsafeRawPointer(source), blocks, values)
        for i in 0..<blocks * type.blockElements where values[i].isNaN { digest &+= 1 }

        // The same bytes as a one-row tensor in a file, through the decoder callers use.
        let file = MappedFile(
          bytes: UnsafeRawBufferPointer(start: source, count: blocks * type.blockBytes), path: "fuzz.blocks")
        let n = blocks * type.blockElements
        let tensor = TensorInfo(
          name: "t", encoding: .ggml(type), shape: [n], elementCount: n, byteCount: blocks * type.blockBytes,
          file: file, dataOffset: 0)
        let decoded = try TensorDecoder(tensor).decodeAll()
        for i in 0..<n where decoded[i].bitPattern != values[i].bitPattern { fatalError("TensorDecoder disagrees") }
      }

      // Quantizers: the payload's bytes as floats, padded with zeros to whole blocks.
      if let quantize = codec.quantize {
        let rowLength = type.blockElements * max(1, min(4, payload.count / (4 * type.blockElements)))
        let rows = 1 + Int(data[1]) % 2
        let count = rows * rowLength
        let floats = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { floats.deallocate() }
        floats.initialize(repeating: 0, count: count)
        for i in 0..<min(count, payload.count / 4) {
          floats[i] = Float(bitPattern: payload.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))
        }
        let importance = UnsafeMutablePointer<Float>.allocate(capacity: rowLength)
        defer { importance.deallocate() }
        // Importance from the same bytes (abs, so mostly positive), 1 where NaN.
        for i in 0..<rowLength {
          let v = floats[(i * 7) % count].magnitude
          importance[i] = v.isNaN ? 1 : v
        }
        let outBytes = rows * (rowLength / type.blockElements) * type.blockBytes
        let out = UnsafeMutableRawPointer.allocate(byteCount: outBytes, alignment: 1)
        defer { out.deallocate() }
        quantize(floats, rows, rowLength, codec.requiresImportance || data[1] & 0x80 != 0 ? importance : nil, out)
        digest &+= Int(out.load(fromByteOffset: 0, as: UInt8.self))
      }
      return digest
    }
  }

  /// Decodable types, in id order, so byte 0 of a decoder input means the same type every run.
  static let codecTypes: [GGMLType] = Codecs.all.keys.sorted()
}
