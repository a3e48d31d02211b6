import Foundation
import QuantscopeTestSupport
import Testing

/// `diff`, `diff --report` and `compare` on the bundled samples.
@Suite("diff, report and compare on the samples")
struct DiffReportCompareCLITests {
  static let samples = TestPaths.samples.path
  static let q3 = samples + "/deepseek-tiny-Q3_K_M.gguf"
  static let q4 = samples + "/deepseek-tiny-Q4_K_M.gguf"
  static let fp8 = samples + "/deepseek-tiny-fp8"

  @Test func `diff prints the table, roll-ups and whole-model line`() throws {
    let r = try quantscope("diff", Self.q3, "--ref", Self.fp8, "--top", "5")
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("nmse_db"))
    #expect(r.stdout.contains("blk.3"))
    #expect(r.stdout.contains("ffn_down_exps"))
    #expect(r.stdout.contains("whole model"))
  }

  @Test func `diff JSON and CSV carry every tensor`() throws {
    let j = try quantscope("diff", Self.q3, "--ref", Self.fp8, "--json")
    #expect(j.status == 0, "\(j.stderr)")
    let object = try #require(try JSONSerialization.jsonObject(with: j.data) as? [String: Any])
    let tensors = try #require(object["tensors"] as? [[String: Any]])
    #expect(tensors.count == 70)
    #expect((object["architecture"] as? String) == "deepseek2")
    let c = try quantscope("diff", Self.q3, "--ref", Self.fp8, "--csv")
    #expect(c.stdout.split(separator: "\n").count == 71)
  }

  @Test func `fail-above exits 2 when a tensor is worse, 0 otherwise`() throws {
    let bad = try quantscope("diff", Self.q3, "--ref", Self.fp8, "--fail-above", "nmse_db=-20")
    #expect(bad.status == 2)
    #expect(bad.stderr.contains("exceed"))
    let ok = try quantscope("diff", Self.q3, "--ref", Self.fp8, "--fail-above", "nmse_db=0")
    #expect(ok.status == 0, "\(ok.stderr)")
    let cos = try quantscope("diff", Self.q3, "--ref", Self.fp8, "--fail-above", "cosine=0.999")
    #expect(cos.status == 2)
  }

  @Test func `candidate tensors missing from the reference are listed`() throws {
    // The split-layout file against the legacy-layout split set: attn_k_b/attn_v_b have no partner.
    let r = try quantscope("diff", Self.q3, "--ref", Self.samples + "/deepseek-tiny-Q8_0-00001-of-00002.gguf")
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("without a reference"), "attn_k_b/attn_v_b have no counterpart in a legacy-layout GGUF")
  }

  /// Chromium is a test dependency (`scripts/setup --test` installs Debian's `chromium`): a
  /// missing browser fails the test; only `QUANTSCOPE_SKIP_BROWSER=1` skips it, by name.
  @Test(
    .disabled(
      if: ProcessInfo.processInfo.environment["QUANTSCOPE_SKIP_BROWSER"] == "1",
      "QUANTSCOPE_SKIP_BROWSER=1: the report is not rendered in Chromium"))
  func `the HTML report renders in headless Chromium without console errors`() throws {
    let chromium = try #require(
      ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: {
        FileManager.default.isExecutableFile(atPath: $0)
      }),
      "Chromium is not installed: run scripts/setup --test (apt-get install chromium) or set QUANTSCOPE_SKIP_BROWSER=1"
    )
    let dir = try TestPaths.temporaryDirectory("report")
    let html = dir.appendingPathComponent("report.html").path
    let r = try quantscope("diff", Self.q3, "--ref", Self.fp8, "--report", html, "--top", "1")
    #expect(r.status == 0, "\(r.stderr)")
    let text = try String(contentsOfFile: html, encoding: .utf8)
    #expect(!text.contains("http://") && !text.contains("https://") || !text.contains("src=\"http"), "no network")
    #expect(!text.contains("<link") && !text.contains("src=\""), "no external resources")
    #expect(
      text.components(separatedBy: "<svg").count - 1 >= 7, "a layer chart, two heatmaps, two legends, two bar charts")

    let png = dir.appendingPathComponent("report.png").path
    let shot = try run(
      chromium,
      [
        "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1100,1400",
        "--enable-logging=stderr", "--v=0", "--screenshot=\(png)", "file://\(html)",
      ])
    #expect(shot.status == 0, "\(shot.stderr)")
    #expect(FileManager.default.fileExists(atPath: png))
    let consoleErrors = shot.stderr.split(separator: "\n").filter {
      $0.contains("CONSOLE") && ($0.contains("Uncaught") || $0.contains("Error"))
    }
    #expect(consoleErrors.isEmpty, "\(consoleErrors)")

    // The DOM after scripts ran: both heatmaps have a cell per layer × kind present.
    let dom = try run(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", "file://\(html)"])
    #expect(dom.stdout.contains("quantscope diff report"))
    #expect(dom.stdout.components(separatedBy: "<rect").count > 2 * 70)
  }

  @Test func `the HTML report names the files, charts every layer, lists every tensor or says how many`() throws {
    let dir = try TestPaths.temporaryDirectory("report-content")
    defer { try? FileManager.default.removeItem(at: dir) }
    let all = dir.appendingPathComponent("all.html").path
    let r = try quantscope("diff", Self.q3, "--ref", Self.fp8, "--report", all)
    #expect(r.status == 0, "\(r.stderr)")
    let text = try String(contentsOfFile: all, encoding: .utf8)
    #expect(text.contains("candidate <code>\(Self.q3)</code> vs reference <code>\(Self.fp8)</code>"))
    // Every tensor in the table (70 in the sample), and no "N of M" note.
    let table = try #require(text.components(separatedBy: "Tensors, worst first").last)
      .components(separatedBy: "</table>")[0]
    #expect(table.components(separatedBy: "<tr><td>").count - 1 == 70)
    #expect(!text.contains("of 70 tensors"))
    // One bar per layer in the per-layer chart, as diff's layer roll-ups.
    let j = try quantscope("diff", Self.q3, "--ref", Self.fp8, "--json")
    let object = try #require(try JSONSerialization.jsonObject(with: j.data) as? [String: Any])
    let layers = try #require(object["layers"] as? [Any])
    #expect(text.components(separatedBy: "class=\"layer-bar\"").count - 1 == layers.count)
    #expect(layers.count == 4)
    // F32 (norms) is drawn grey in the type map, never in a colour of the error scale's bad end.
    let legend = try #require(text.components(separatedBy: "class=\"legend\"").last)
    let f32 = try #require(legend.firstMatch(of: /fill="#([0-9a-f]{6})"\/><text class="axis" x="\d+" y="16">F32</))
    let hex = String(f32.output.1)
    #expect(hex.prefix(2) == hex.dropFirst(2).prefix(2) && hex.prefix(2) == hex.suffix(2), "F32 is #\(hex)")

    let top = dir.appendingPathComponent("top.html").path
    let limited = try quantscope("diff", Self.q3, "--ref", Self.fp8, "--report", top, "--top", "5")
    #expect(limited.status == 0, "\(limited.stderr)")
    let topText = try String(contentsOfFile: top, encoding: .utf8)
    let topTable = try #require(topText.components(separatedBy: "Tensors, worst first").last)
      .components(separatedBy: "</table>")[0]
    #expect(topTable.components(separatedBy: "<tr><td>").count - 1 == 5)
    #expect(topText.contains("5 of 70 tensors, worst first; --top N sets how many."))
  }

  @Test func `compare of two sample quantizations lists exactly the rules that differ`() throws {
    let r = try quantscope("compare", Self.q4, Self.q3, "--json")
    #expect(r.status == 0, "\(r.stderr)")
    let object = try #require(try JSONSerialization.jsonObject(with: r.data) as? [String: Any])
    let rules = try #require(object["rules"] as? [[String: Any]])
    // Independent oracle: gguf-py's reader lists the tensors whose type differs.
    let oracle = try python(
      """
      import sys, json, gguf
      a = {t.name: t.tensor_type.name for t in gguf.GGUFReader(sys.argv[1]).tensors}
      b = {t.name: t.tensor_type.name for t in gguf.GGUFReader(sys.argv[2]).tensors}
      print(json.dumps(sorted([n, a[n].lower(), b[n].lower()] for n in a if n in b and a[n] != b[n])))
      """, [Self.q4, Self.q3])
    let expected = try #require(try JSONSerialization.jsonObject(with: oracle.data) as? [[String]])
    var listed: [[String]] = []
    for rule in rules {
      let from = try #require(rule["from"] as? String), to = try #require(rule["to"] as? String)
      let pattern = try #require(rule["pattern"] as? String)
      for name in try #require(rule["tensors"] as? [String]) {
        listed.append([name, from, to])
        // Each rule's pattern matches the tensors it names.
        #expect(try Regex(pattern).firstMatch(in: name) != nil, "\(pattern) vs \(name)")
      }
    }
    #expect(listed.sorted { $0.lexicographicallyPrecedes($1) } == expected)
    #expect(!expected.isEmpty)
    // A file compared with itself has no rules and identical bytes everywhere.
    let same = try quantscope("compare", Self.q3, Self.q3, "--json")
    let s = try #require(try JSONSerialization.jsonObject(with: same.data) as? [String: Any])
    #expect((s["rules"] as? [Any])?.isEmpty == true)
    #expect((s["different_bytes"] as? [Any])?.isEmpty == true)
    #expect((s["identical"] as? [Any])?.count == 70)
  }
}

/// `requant` of the sample Q3_K_M file to `dq3_k_m` against the sample FP8 reference.
@Suite("requant the sample to dq3_k_m")
struct RequantSampleCLITests {
  @Test func `the output reads in gguf-py, keeps untouched tensors and beats Q3_K_M where raised`() throws {
    let dir = try TestPaths.temporaryDirectory("requant-sample")
    let out = dir.appendingPathComponent("deepseek-tiny-DQ3_K_M.gguf").path
    let q3 = DiffReportCompareCLITests.q3, fp8 = DiffReportCompareCLITests.fp8
    let r = try quantscope("requant", q3, "-o", out, "--recipe", "dq3_k_m", "--ref", fp8)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("requantized"))

    // gguf-py reads it; tensors whose type is unchanged are byte-identical to the input.
    let check = try python(
      """
      import sys, json, numpy as np, gguf
      a = {t.name: t for t in gguf.GGUFReader(sys.argv[1]).tensors}
      b = gguf.GGUFReader(sys.argv[2])
      same = [t.name for t in b.tensors if a[t.name].tensor_type == t.tensor_type]
      equal = all(np.array_equal(np.array(a[n].data).view(np.uint8), np.array(t.data).view(np.uint8))
                  for t in b.tensors for n in [t.name] if n in same)
      raised = [t.name for t in b.tensors if a[t.name].tensor_type != t.tensor_type]
      ftype = int(b.fields["general.file_type"].parts[-1][0])
      print(json.dumps(dict(count=len(b.tensors), same=len(same), equal=bool(equal), raised=raised, ftype=ftype)))
      """, [q3, out])
    let o = try #require(try JSONSerialization.jsonObject(with: check.data) as? [String: Any])
    #expect(o["count"] as? Int == 70)
    #expect(o["equal"] as? Bool == true)
    #expect((o["same"] as? Int ?? 0) > 0)
    #expect(o["ftype"] as? Int == 12)
    let raised = try #require(o["raised"] as? [String])
    #expect(raised.contains("blk.1.ffn_down_exps.weight"))

    // diff against the FP8 reference: every raised tensor has lower error than in Q3_K_M.
    func nmse(_ file: String) throws -> [String: Double] {
      let d = try quantscope("diff", file, "--ref", fp8, "--json")
      let j = try #require(try JSONSerialization.jsonObject(with: d.data) as? [String: Any])
      var m: [String: Double] = [:]
      for t in try #require(j["tensors"] as? [[String: Any]]) { m[t["name"] as! String] = t["nmse"] as? Double }
      return m
    }
    let before = try nmse(q3), after = try nmse(out)
    for name in raised {
      let b = try #require(before[name]), a = try #require(after[name])
      #expect(a < b, "\(name): \(a) vs Q3_K_M \(b)")
    }
  }
}
