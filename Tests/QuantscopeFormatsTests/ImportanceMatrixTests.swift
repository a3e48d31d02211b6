import Foundation
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

/// Both of llama.cpp's imatrix formats, written by Python the way llama-imatrix writes them.
@Suite("importance matrices")
struct ImportanceMatrixTests {
  static let writer = """
    import sys, struct, numpy as np, gguf
    out = sys.argv[1]
    rng = np.random.default_rng(3)
    entries = {"blk.0.attn_q.weight": (1, 64), "blk.1.ffn_down_exps.weight": (4, 32)}
    ncall = 7
    # Legacy .dat: n_entries, then per entry name, ncall, nval, values (stored as mean × ncall),
    # then last_call and the dataset name.
    with open(out + "/imatrix.dat", "wb") as f:
        f.write(struct.pack("<i", len(entries)))
        for name, (mats, n) in entries.items():
            v = (rng.random(mats * n) * 5).astype(np.float32)
            np.save(out + "/" + name + ".npy", v)
            f.write(struct.pack("<i", len(name)) + name.encode())
            f.write(struct.pack("<ii", ncall, mats * n))
            f.write((v * ncall).astype(np.float32).tobytes())
        f.write(struct.pack("<i", 12) + struct.pack("<i", 8) + b"wiki.txt")
    # GGUF: in_sum2 [mats, n] and counts [mats]; importance = in_sum2 / count.
    w = gguf.GGUFWriter(out + "/imatrix.gguf", "")
    w.add_array("imatrix.datasets", ["wiki.txt"])
    w.add_uint32("imatrix.chunk_count", 12)
    w.add_uint32("imatrix.chunk_size", 512)
    for name, (mats, n) in entries.items():
        v = np.load(out + "/" + name + ".npy").reshape(mats, n)
        counts = np.array([[3.0]] * mats, np.float32)
        if mats > 1: counts[1] = 0  # an expert that never saw input gets importance 1
        w.add_tensor(name + ".in_sum2", (v * counts).astype(np.float32))
        w.add_tensor(name + ".counts", counts)
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
    """

  @Test func `legacy .dat and GGUF imatrix files give llama-quantize's importances`() throws {
    let dir = try TestPaths.temporaryDirectory("imatrix")
    try PythonOracle.run(["-c", Self.writer, dir.path])
    let dat = try ImportanceMatrix(path: dir.appendingPathComponent("imatrix.dat").path)
    let gguf = try ImportanceMatrix(path: dir.appendingPathComponent("imatrix.gguf").path)
    #expect(dat.datasets == ["wiki.txt"])
    #expect(dat.chunkCount == 12)
    #expect(gguf.datasets == ["wiki.txt"])
    #expect(gguf.chunkCount == 12)
    for name in ["blk.0.attn_q.weight", "blk.1.ffn_down_exps.weight"] {
      let a = try #require(dat.entries[name]), b = try #require(gguf.entries[name])
      #expect(a.count == b.count)
      for i in a.indices {
        let expert = i / 32
        if name.contains("exps") && expert == 1 {
          #expect(b[i] == 1, "a matrix with count 0 has importance 1")
        } else {
          #expect(abs(a[i] - b[i]) <= 1e-6 * max(1, abs(a[i])), "\(name)[\(i)]: \(a[i]) vs \(b[i])")
        }
      }
    }
  }

  @Test func `NaN, infinite or negative importances are refused, naming the entry and offset`() throws {
    let dir = try TestPaths.temporaryDirectory("imatrix-nan")
    defer { try? FileManager.default.removeItem(at: dir) }
    try PythonOracle.run(["-c", Self.writer, dir.path])
    let path = dir.appendingPathComponent("imatrix.dat").path
    let clean = try Data(contentsOf: URL(fileURLWithPath: path))
    // n_entries, name length, "blk.0.attn_q.weight" (19 bytes), ncall, nval: values start at 35.
    let first = 4 + 4 + 19 + 8
    for (bits, word) in [(UInt32(0x7FC0_0000), "nan"), (0x7F80_0000, "inf"), (0xBF80_0000, "-1.0")] {
      var bytes = [UInt8](clean)
      let at = first + 4 * 5
      withUnsafeBytes(of: bits.littleEndian) { bytes.replaceSubrange(at..<at + 4, with: $0) }
      try Data(bytes).write(to: URL(fileURLWithPath: path))
      let error = try #require(throws: FormatError.self) { try ImportanceMatrix(path: path) }
      #expect(error.tensor == "blk.0.attn_q.weight")
      #expect(error.offset == at)
      #expect(error.message == "importance value 5 is \(word): importances must be finite and non-negative", "\(error)")
    }
  }

  @Test func `a truncated legacy file is an error naming the entry`() throws {
    let dir = try TestPaths.temporaryDirectory("imatrix-bad")
    try PythonOracle.run(["-c", Self.writer, dir.path])
    let path = dir.appendingPathComponent("imatrix.dat").path
    let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    try bytes.prefix(40).write(to: URL(fileURLWithPath: path))
    let error = try #require(throws: FormatError.self) { try ImportanceMatrix(path: path) }
    #expect(error.path == path)
    #expect(error.offset != nil)
  }
}
