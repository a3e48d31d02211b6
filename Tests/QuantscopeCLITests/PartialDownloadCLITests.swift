import Foundation
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

/// `inspect` and `verify` of GGUF files cut off mid-download: everything the header says is
/// shown, the tensors past the cut are marked, and the exit status is 2 (findings), not 1.
@Suite("partial downloads")
struct PartialDownloadCLITests {
  static let sample = TestPaths.samples.appendingPathComponent("deepseek-tiny-Q4_K_M.gguf")

  /// Writes the first `length` bytes of `source` to `name` in `dir`.
  static func prefix(of source: URL, _ length: Int, as name: String, in dir: URL) throws -> String {
    let url = dir.appendingPathComponent(name)
    try Data(try Data(contentsOf: source).prefix(length)).write(to: url)
    return url.path
  }

  static func object(_ run: CLI.Run) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: run.data) as? [String: Any], "\(run.stderr)")
  }

  @Test func `inspect of a file cut mid-data shows every tensor, marks the absent ones and exits 2`() throws {
    let dir = try TestPaths.temporaryDirectory("partial")
    defer { try? FileManager.default.removeItem(at: dir) }
    let whole = try GGUFFile(path: Self.sample.path)
    // Cut inside a tensor in the middle of the data section.
    let cutTensor = whole.tensors[whole.tensors.count / 2]
    let cut = cutTensor.dataOffset + cutTensor.byteCount / 2
    let path = try Self.prefix(of: Self.sample, cut, as: "part.gguf", in: dir)
    #expect(whole.expectedSize == whole.file.size)

    let text = try CLI.quantscope(["inspect", path])
    #expect(text.status == 2, "\(text.stderr)")
    let present = "\(Format.grouped(cut)) of \(Format.grouped(whole.file.size)) bytes present"
    #expect(text.stdout.contains(present), "\(text.stdout)")
    let rows = text.stdout.split(separator: "\n").filter { $0.contains(" part.gguf ") }
    #expect(rows.count == whole.tensors.count)
    #expect(rows.filter { $0.hasSuffix("partial") }.count == 1)
    #expect(rows.filter { $0.hasSuffix("missing") }.count == whole.tensors.filter { $0.dataOffset >= cut }.count)

    let json = try CLI.quantscope(["inspect", path, "--json"])
    #expect(json.status == 2)
    let o = try Self.object(json)
    let file = try #require((o["files"] as? [[String: Any]])?.first)
    #expect(file["size"] as? Int == cut)
    #expect(file["expected_size"] as? Int == whole.file.size)
    #expect(file["truncated"] as? Bool == true)
    let tensors = try #require(o["tensors"] as? [[String: Any]])
    #expect(tensors.count == whole.tensors.count)
    for (t, info) in zip(tensors, whole.tensors) {
      let end = info.dataOffset + info.byteCount
      let expected = end <= cut ? "present" : info.dataOffset < cut ? "partial" : "missing"
      #expect(t["data"] as? String == expected, "\(info.name)")
      #expect(t["bytes_present"] as? Int == max(0, min(end, cut) - info.dataOffset), "\(info.name)")
    }
    #expect(tensors.first { $0["name"] as? String == cutTensor.name }?["data"] as? String == "partial")

    // A complete file is not marked, and exits 0.
    let complete = try CLI.quantscope(["inspect", Self.sample.path])
    #expect(complete.status == 0)
    #expect(!complete.stdout.contains("bytes present"))
  }

  @Test func `verify reports each absent tensor and deep counts the tensors it read`() throws {
    let dir = try TestPaths.temporaryDirectory("partial-verify")
    defer { try? FileManager.default.removeItem(at: dir) }
    let whole = try GGUFFile(path: Self.sample.path)
    let cut = whole.tensors[whole.tensors.count / 2].dataOffset + 7
    let path = try Self.prefix(of: Self.sample, cut, as: "part.gguf", in: dir)
    let absent = whole.tensors.filter { $0.dataOffset + $0.byteCount > cut }

    let run = try CLI.quantscope(["verify", path, "--deep", "--json"])
    #expect(run.status == 2, "\(run.stderr)")
    let set = try #require((try Self.object(run)["sets"] as? [[String: Any]])?.first)
    let findings = try #require(set["findings"] as? [[String: Any]])
    let outOfBounds = findings.filter { $0["kind"] as? String == "out-of-bounds" }
      .compactMap { $0["tensor"] as? String }
    #expect(outOfBounds == absent.map(\.name))
    #expect(set["values_checked"] as? Bool == true)
    let checked = try #require(set["tensors_checked"] as? Int)
    #expect(checked > 0 && checked < whole.tensors.count)
    let truncated = try #require((set["truncated_files"] as? [[String: Any]])?.first)
    #expect(truncated["expected_size"] as? Int == whole.file.size)

    let text = try CLI.quantscope(["verify", path, "--deep"])
    #expect(text.status == 2)
    #expect(text.stdout.contains("values checked in \(checked) of "), "\(text.stdout)")
    #expect(text.stdout.contains("\(Format.grouped(cut)) of \(Format.grouped(whole.file.size)) bytes present"))

    // Cut right where the data starts: no value can be read, and verify says so.
    let empty = try Self.prefix(of: Self.sample, whole.dataStart, as: "empty.gguf", in: dir)
    let none = try CLI.quantscope(["verify", empty, "--deep"])
    #expect(none.status == 2)
    #expect(none.stdout.contains("no values checked"), "\(none.stdout)")
    #expect(!none.stdout.contains(", values checked"))
    let noneJSON = try CLI.quantscope(["verify", empty, "--deep", "--json"])
    let noneSet = try #require((try Self.object(noneJSON)["sets"] as? [[String: Any]])?.first)
    #expect(noneSet["values_checked"] as? Bool == false)
    #expect(noneSet["tensors_checked"] as? Int == 0)
  }

  @Test func `a file cut inside its header is an error naming the byte offset`() throws {
    let dir = try TestPaths.temporaryDirectory("partial-header")
    defer { try? FileManager.default.removeItem(at: dir) }
    let whole = try GGUFFile(path: Self.sample.path)
    for cut in [100, whole.tensorInfoOffsets[3] + 5] {
      let path = try Self.prefix(of: Self.sample, cut, as: "head.gguf", in: dir)
      for command in ["inspect", "verify"] {
        let run = try CLI.quantscope([command, path])
        #expect(run.status == 1, "\(command) \(cut)")
        #expect(run.stderr.contains("head.gguf"), "\(run.stderr)")
        #expect(run.stderr.contains("header record at byte "), "\(run.stderr)")
        #expect(run.stdout.isEmpty)
      }
    }
  }

  @Test func `a truncated shard of a split set is shown with the whole set`() throws {
    let dir = try TestPaths.temporaryDirectory("partial-split")
    defer { try? FileManager.default.removeItem(at: dir) }
    let first = TestPaths.samples.appendingPathComponent("deepseek-tiny-Q8_0-00001-of-00002.gguf")
    let second = TestPaths.samples.appendingPathComponent("deepseek-tiny-Q8_0-00002-of-00002.gguf")
    try FileManager.default.copyItem(at: first, to: dir.appendingPathComponent(first.lastPathComponent))
    let shard2 = try GGUFFile(path: second.path)
    let cut = shard2.dataStart + (shard2.file.size - shard2.dataStart) / 3
    let cutPath = try Self.prefix(of: second, cut, as: second.lastPathComponent, in: dir)

    let run = try CLI.quantscope(["inspect", dir.appendingPathComponent(first.lastPathComponent).path, "--json"])
    #expect(run.status == 2, "\(run.stderr)")
    let files = try #require(try Self.object(run)["files"] as? [[String: Any]])
    #expect(files.map { $0["truncated"] as? Bool } == [false, true])
    #expect(files[1]["path"] as? String == cutPath)
    #expect(files[1]["expected_size"] as? Int == shard2.file.size)
    let tensors = try #require(try Self.object(run)["tensors"] as? [[String: Any]])
    let absent = tensors.filter { $0["data"] as? String != "present" }
    #expect(!absent.isEmpty)
    #expect(absent.allSatisfy { $0["file"] as? String == cutPath })

    let verify = try CLI.quantscope(["verify", cutPath])
    #expect(verify.status == 2)
    #expect(verify.stdout.contains("\(Format.grouped(cut)) of \(Format.grouped(shard2.file.size)) bytes present"))
  }
}

/// Thousands separators as the CLI prints file sizes.
private enum Format {
  static func grouped(_ n: Int) -> String {
    let digits = Array(String(n))
    var out = ""
    for (i, ch) in digits.enumerated() {
      if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
      out.append(ch)
    }
    return out
  }
}
