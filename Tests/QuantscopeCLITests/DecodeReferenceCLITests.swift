import Foundation
import QuantscopeTestSupport
import Testing

/// `decode CANDIDATE --ref REF` writes the reference values diff compares each tensor with, laid
/// out as the candidate tensor: the MSE between the two decodes is diff's MSE.
@Suite("decode --ref")
struct DecodeReferenceCLITests {
  static let candidate = TestPaths.samples.appendingPathComponent("deepseek-tiny-Q3_K_M.gguf").path
  static let reference = TestPaths.samples.appendingPathComponent("deepseek-tiny-fp8").path

  /// The shape and float32 values of a version 1.0 `<f4` NPY file.
  static func npy(_ path: String) throws -> (shape: [Int], values: [Float]) {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    #expect(data.prefix(8) == Data([0x93] + Array("NUMPY".utf8) + [1, 0]))
    let length = Int(data[8]) | Int(data[9]) << 8
    let header = String(decoding: data[10..<(10 + length)], as: UTF8.self)
    #expect(header.contains("'descr': '<f4'"))
    let dims = try #require(header.firstMatch(of: /\(([0-9, ]*)\)/)).output.1
    let shape = dims.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    let body = data[(10 + length)...]
    let values = body.withUnsafeBytes { raw in
      (0..<raw.count / 4).map {
        Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
      }
    }
    return (shape, values)
  }

  // An expert stack (8 HF tensors stacked), a dense FP8 weight, and kv_b's split and transposed K half.
  @Test(arguments: ["blk.1.ffn_down_exps.weight", "blk.1.attn_q_b.weight", "blk.0.attn_k_b.weight"])
  func `the MSE between decode and decode --ref is diff's MSE`(tensor: String) throws {
    let dir = try TestPaths.temporaryDirectory("decode-ref")
    defer { try? FileManager.default.removeItem(at: dir) }
    let c = dir.appendingPathComponent("c.npy").path
    let r = dir.appendingPathComponent("r.npy").path
    let plain = try CLI.quantscope(["decode", Self.candidate, "--tensor", tensor, "-o", c])
    #expect(plain.status == 0, "\(plain.stderr)")
    let ref = try CLI.quantscope(["decode", Self.candidate, "--ref", Self.reference, "--tensor", tensor, "-o", r])
    #expect(ref.status == 0, "\(ref.stderr)")
    let (cShape, cValues) = try Self.npy(c)
    let (rShape, rValues) = try Self.npy(r)
    #expect(cShape == rShape)
    #expect(cValues.count == rValues.count && !rValues.isEmpty)
    #expect(cValues != rValues)
    var sum = 0.0
    for (x, y) in zip(cValues, rValues) { sum += (Double(x) - Double(y)) * (Double(x) - Double(y)) }
    let mse = sum / Double(cValues.count)

    let diff = try CLI.quantscope(
      ["diff", Self.candidate, "--ref", Self.reference, "--json", "--tensors", "^\(tensor)$"])
    #expect(diff.status == 0, "\(diff.stderr)")
    let object = try #require(try JSONSerialization.jsonObject(with: diff.data) as? [String: Any])
    let rows = try #require(object["tensors"] as? [[String: Any]])
    let row = try #require(rows.first { $0["name"] as? String == tensor })
    let expected = try #require(row["mse"] as? Double)
    // The reference is written as float32, as the candidate is: only that rounding separates them.
    #expect(abs(mse - expected) <= 1e-6 * expected, "\(tensor): \(mse) vs diff's \(expected)")
  }

  @Test func `--ref needs a GGUF candidate and the scaled reference`() throws {
    let dir = try TestPaths.temporaryDirectory("decode-ref-misuse")
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("x.npy").path
    let fromCheckpoint = try CLI.quantscope(
      ["decode", Self.reference, "--ref", Self.reference, "--tensor", "model.embed_tokens.weight", "-o", out])
    #expect(fromCheckpoint.status == 1)
    #expect(fromCheckpoint.stderr.contains("--ref needs a GGUF"), "\(fromCheckpoint.stderr)")
    let noScale = try CLI.quantscope(
      ["decode", Self.candidate, "--ref", Self.reference, "--tensor", "blk.1.attn_q_b.weight", "--no-scale", "-o", out])
    #expect(noScale.status != 0)
    #expect(noScale.stderr.contains("--no-scale"))
    #expect(!FileManager.default.fileExists(atPath: out))
  }

  @Test func `several reference tensors make one safetensors file under the candidate's names`() throws {
    let dir = try TestPaths.temporaryDirectory("decode-ref-several")
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("ref.safetensors").path
    let run = try CLI.quantscope(
      ["decode", Self.candidate, "--ref", Self.reference, "--tensors", "^blk\\.1\\.ffn_(up|gate)_exps", "-o", out])
    #expect(run.status == 0, "\(run.stderr)")
    let inspect = try CLI.quantscope(["inspect", out, "--json"])
    let object = try #require(try JSONSerialization.jsonObject(with: inspect.data) as? [String: Any])
    let tensors = try #require(object["tensors"] as? [[String: Any]])
    let names = Set(tensors.compactMap { $0["name"] as? String })
    #expect(names == ["blk.1.ffn_up_exps.weight", "blk.1.ffn_gate_exps.weight"])
    #expect(tensors.allSatisfy { ($0["shape"] as? [Int]) == [8, 256, 256] && $0["type"] as? String == "F32" })
  }
}
