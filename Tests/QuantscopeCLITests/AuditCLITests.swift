import Foundation
import QuantscopeTestSupport
import Testing

/// `audit` against releases made independently of quantscope: `diff_fixture.py` writes a tiny
/// DeepSeek-V3 FP8 checkpoint and deepseek2 GGUFs quantized by libgguf (ggml's reference
/// quantizers, no FMA) in both attention layouts; `audit_fixture.py` makes a BF16-path release,
/// one tensor quantized with an importance matrix, and a copy with one byte flipped.
@Suite(
  "audit reproduces releases made by ggml's quantizers",
  .enabled(if: !EndToEnd.skipped, Comment(rawValue: EndToEnd.reason)), .serialized)
struct AuditCLITests {
  static let fixture: Result<URL, Error> = Result {
    let dir = try TestPaths.temporaryDirectory("audit-fixture")
    try PythonOracle.script("diff_fixture.py", [dir.path])
    try PythonOracle.script("audit_fixture.py", [dir.path])
    return dir
  }

  struct Document: Decodable {
    let schema: String
    let passed: Bool
    let verdict: String
    let tensorsTotal: Int
    let tensorsReproduced: Int
    let tensors: [Tensor]
  }

  struct Tensor: Decodable {
    let name: String
    let type: String
    let status: String
    let reference: String?
    let precision: String?
    let blocks: Int
    let differingBlocks: Int
    let firstDifference: Difference?
    let nmseVsReproduction: Double?
  }

  struct Difference: Decodable, Equatable {
    let row: Int
    let column: Int
    let block: Int
  }

  struct Placement: Decodable {
    struct Tampered: Decodable {
      let tensor: String
      let block: Int
      let row: Int
      let column: Int
    }
    let tampered: Tampered
    let imatrixTensor: String
  }

  static func path(_ name: String) throws -> String { try fixture.get().appendingPathComponent(name).path }

  /// Runs `audit --json` and decodes its document.
  func audit(_ candidate: String, _ extra: String...) throws -> (status: Int32, document: Document, stderr: String) {
    let r = try CLI.quantscope(
      ["audit", try Self.path(candidate), "--ref", try Self.path("ref"), "--json", "--threads", "2"] + extra)
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    let document = try decoder.decode(Document.self, from: r.data)
    return (r.status, document, r.stderr)
  }

  @Test(arguments: ["split.gguf", "legacy.gguf"])
  func `a release quantized by ggml from the FP8 checkpoint is 100 % identical`(file: String) throws {
    let (status, d, stderr) = try audit(file)
    #expect(status == 0, "\(stderr)")
    #expect(d.schema == "quantscope.audit/1")
    #expect(d.passed)
    #expect(d.tensorsReproduced == d.tensorsTotal && d.tensorsTotal > 40)
    #expect(d.verdict == "reproducible: \(d.tensorsTotal)/\(d.tensorsTotal) tensors, 100.00 % of bytes")
    #expect(d.tensors.allSatisfy { $0.status == "identical" && $0.differingBlocks == 0 && $0.blocks > 0 })
    #expect(d.tensors.allSatisfy { $0.precision == "exact" && $0.nmseVsReproduction == 0 })
    // Several quantized types and the float norms, in the layout of the file.
    #expect(Set(d.tensors.map(\.type)).isSuperset(of: ["Q8_0", "Q6_K", "Q5_K", "Q4_K", "Q3_K", "Q2_K", "F32"]))
    let names = Set(d.tensors.map(\.name))
    #expect(names.contains(file == "split.gguf" ? "blk.0.attn_k_b.weight" : "blk.0.attn_kv_b.weight"))
  }

  @Test func `one flipped byte is exactly one differing block of exactly that tensor, at its place`() throws {
    let placement = try JSONDecoder.snakeCase.decode(
      Placement.self, from: Data(contentsOf: URL(fileURLWithPath: try Self.path("audit.json"))))
    let (status, d, stderr) = try audit("tampered.gguf")
    #expect(status == 2)
    #expect(stderr.contains("audit failed: 1 of \(d.tensorsTotal) tensor(s) not reproduced"), "\(stderr)")
    let bad = d.tensors.filter { $0.status != "identical" }
    #expect(bad.map(\.name) == [placement.tampered.tensor])
    let t = try #require(bad.first)
    #expect(t.status == "differs")
    #expect(t.differingBlocks == 1)
    #expect(
      t.firstDifference
        == Difference(row: placement.tampered.row, column: placement.tampered.column, block: placement.tampered.block))
    #expect((t.nmseVsReproduction ?? 0) > 0)
    #expect(!d.passed)
    // The table lists it first (worst first).
    let table = try CLI.quantscope(["audit", try Self.path("tampered.gguf"), "--ref", try Self.path("ref")])
    #expect(table.status == 2)
    let firstRow = table.stdout.split(separator: "\n").dropFirst(2).first ?? ""
    #expect(firstRow.hasPrefix(placement.tampered.tensor) && firstRow.contains("differs"), "\(table.stdout)")
  }

  @Test func `a tensor quantized with an importance matrix is flagged without it and identical with it`() throws {
    let placement = try JSONDecoder.snakeCase.decode(
      Placement.self, from: Data(contentsOf: URL(fileURLWithPath: try Self.path("audit.json"))))
    let without = try audit("imat-one.gguf")
    #expect(without.status == 2)
    #expect(without.document.tensors.filter { $0.status != "identical" }.map(\.name) == [placement.imatrixTensor])
    let with = try audit("imat-one.gguf", "--imatrix", try Self.path("imatrix-one.gguf"))
    #expect(with.status == 0, "\(with.stderr)")
    #expect(with.document.passed)
  }

  @Test func `a BF16-path release reproduces under auto, reported as bf16`() throws {
    let auto = try audit("bf16path.gguf")
    #expect(auto.status == 0, "\(auto.stderr)")
    #expect(auto.document.passed)
    // Every FP8 tensor (the stacked experts too) needed the BF16 rounding; the BF16 and F32
    // checkpoint tensors are the same either way, and the exact product (tried first) reproduces them.
    let roundedBF16 = Set(auto.document.tensors.filter { $0.precision == "bf16" }.map(\.name))
    #expect(roundedBF16.count > 20)
    let single = auto.document.tensors.filter { $0.reference?.contains("weight_scale_inv") ?? false }
    #expect(!single.isEmpty && single.allSatisfy { roundedBF16.contains($0.name) })
    #expect(roundedBF16.contains("blk.1.ffn_gate_exps.weight"))
    #expect(auto.document.tensors.filter { $0.type == "F32" }.allSatisfy { $0.precision == "exact" })
    let exact = try audit("bf16path.gguf", "--ref-precision", "exact")
    #expect(exact.status == 2)
    #expect(Set(exact.document.tensors.filter { $0.status == "differs" }.map(\.name)) == roundedBF16)
    let bf16 = try audit("bf16path.gguf", "--ref-precision", "bf16")
    #expect(bf16.status == 0, "\(bf16.stderr)")
  }

  @Test func `the HTML report has the audit section`() throws {
    let out = try Self.fixture.get().appendingPathComponent("audit-\(UUID().uuidString).html").path
    let r = try CLI.quantscope([
      "audit", try Self.path("tampered.gguf"), "--ref", try Self.path("ref"), "--report", out, "--quiet",
    ])
    #expect(r.status == 2)
    let html = try String(contentsOfFile: out, encoding: .utf8)
    #expect(html.contains("Audit: reproduction from the reference"))
    #expect(html.contains("blk.2.ffn_down_exps.weight — Q8_0, differs"))
    #expect(html.contains("reproducible: 51/52 tensors"))
  }

  /// The samples are quantized by numpy ports of ggml's quantizers from the BF16-rounded product
  /// (scripts/make-samples.py): every tensor reproduces, the FP8 ones from the BF16 path.
  @Test(arguments: ["deepseek-tiny-Q3_K_M.gguf", "deepseek-tiny-Q8_0-00001-of-00002.gguf"])
  func `every sample reproduces from the FP8 checkpoint through BF16`(sample: String) throws {
    let samples = TestPaths.samples
    let r = try CLI.quantscope([
      "audit", samples.appendingPathComponent(sample).path, "--ref",
      samples.appendingPathComponent("deepseek-tiny-fp8").path, "--json",
    ])
    #expect(r.status == 0, "\(r.stderr)")
    let d = try JSONDecoder.snakeCase.decode(Document.self, from: r.data)
    #expect(d.passed && d.verdict.hasSuffix("tensors, 100.00 % of bytes"))
    let fromFP8 = d.tensors.filter { $0.reference?.contains("weight_scale_inv") ?? false }
    #expect(!fromFP8.isEmpty && fromFP8.allSatisfy { $0.precision == "bf16" })
    #expect(d.tensors.filter { $0.type == "F32" }.allSatisfy { $0.precision == "exact" })
  }

  @Test func `misuse: missing files, swapped arguments and mismatched shapes are clear errors`() throws {
    let missing = try CLI.quantscope(["audit", "/nonexistent/x.gguf", "--ref", try Self.path("ref")])
    #expect(missing.status == 1)
    #expect(missing.stderr.contains("/nonexistent/x.gguf"))
    let swapped = try CLI.quantscope(["audit", try Self.path("ref"), "--ref", try Self.path("split.gguf")])
    #expect(swapped.status == 64, "\(swapped.stderr)")
    #expect(swapped.stderr.contains("swapped"))
    let noImatrix = try CLI.quantscope([
      "audit", try Self.path("split.gguf"), "--ref", try Self.path("ref"), "--imatrix", "/nonexistent/i.gguf",
    ])
    #expect(noImatrix.status == 1)
    #expect(noImatrix.stderr.contains("/nonexistent/i.gguf"))
    // The samples' tiny DeepSeek has other dimensions than the fixture's checkpoint.
    let sample = TestPaths.samples.appendingPathComponent("deepseek-tiny-Q4_K_M.gguf").path
    let shapes = try CLI.quantscope(["audit", sample, "--ref", try Self.path("ref")])
    #expect(shapes.status == 1)
    #expect(shapes.stderr.contains("shape mismatch"), "\(shapes.stderr)")
    #expect(shapes.stderr.split(separator: "\n").count == 1, "\(shapes.stderr)")
    let precision = try CLI.quantscope([
      "audit", try Self.path("split.gguf"), "--ref", try Self.path("ref"), "--ref-precision", "fp8",
    ])
    #expect(precision.status == 64)
  }
}

extension JSONDecoder {
  /// A decoder for snake_case documents.
  static var snakeCase: JSONDecoder {
    let d = JSONDecoder()
    d.keyDecodingStrategy = .convertFromSnakeCase
    return d
  }
}
