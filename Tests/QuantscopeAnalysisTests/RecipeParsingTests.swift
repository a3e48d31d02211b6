import Foundation
import QuantscopeAnalysis
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

@Suite struct `Recipe parsing` {
  @Test func `llama-quantize --tensor-type syntax: split at the first =, type in any case, pattern lowercased`() throws
  {
    let rule = try RecipeRule(parsing: #"\.(\d*[13579])\.ATTN_K=Q5_K"#)
    #expect(rule.pattern == #"\.(\d*[13579])\.attn_k"#)
    #expect(rule.type == .q5_K)
    #expect(rule.text == #"\.(\d*[13579])\.attn_k=q5_k"#)
    #expect(try RecipeRule(parsing: "attn_v=q5_k").type == .q5_K)
    #expect(try RecipeRule(parsing: "x=BF16").type == .bf16)
    #expect(try RecipeRule(parsing: "x=iq4_nl").type == .iq4_nl)
    // Everything after the first '=' is the type, so a second '=' makes an invalid type.
    #expect(throws: RecipeError.self) { try RecipeRule(parsing: "a=b=q4_k") }
  }

  @Test func `rule errors: malformed, missing name, missing type, unknown type, bad regex, non-target type`() {
    let cases: [(String, String)] = [
      ("attn_v", "malformed rule 'attn_v'"),
      ("=q4_k", "missing tensor name pattern"),
      ("attn_v=", "missing quantization type"),
      ("attn_v=q4_k_m", "invalid quantization type 'q4_k_m'"),
      ("attn_v(=q4_k", "invalid regular expression"),
      ("attn_v=q8_k", "cannot be a quantization target"),
      ("attn_v=i32", "cannot be a quantization target"),
    ]
    for (text, message) in cases {
      do {
        _ = try RecipeRule(parsing: text, source: "--rule")
        Issue.record("\(text) parsed")
      } catch {
        #expect(error.description.hasPrefix("--rule: ") && error.isUsage, "\(error)")
        #expect(error.description.contains(message), "\(error)")
      }
    }
  }

  @Test func `files: comments, headers, several rules per line, errors name file and line`() throws {
    let text = """
      # name: mine
      # description: A test recipe.
      # description: Second line.
      # architecture: Llama, qwen2
      # base: q4_k_m

      blk\\.0\\.attn_v=q8_0   ffn_down=q6_k   # trailing comment attn_q=q2_k
        # name: not a header any more
      token_embd=Q8_0
      """
    let recipe = try Recipe.parse(text, source: "my.txt")
    #expect(recipe.name == "mine")
    #expect(recipe.description == "A test recipe. Second line.")
    #expect(recipe.architectures == ["llama", "qwen2"])
    #expect(recipe.base == "q4_k_m")
    #expect(recipe.rules.map(\.text) == [#"blk\.0\.attn_v=q8_0"#, "ffn_down=q6_k", "token_embd=q8_0"])
    #expect(recipe.rules.map(\.line) == [7, 7, 9])
    #expect(recipe.rules[2].description == "token_embd=q8_0 (my.txt:9)")

    let bad = "# name: x\nffn_down=q6_k\n\nattn_v=q9_k\n"
    let expected = RecipeError(source: "bad.txt", line: 4, RecipeRule.invalidTypeMessage("q9_k"))
    #expect(throws: expected) { try Recipe.parse(bad, source: "bad.txt") }
    do {
      _ = try Recipe.parse(bad, source: "bad.txt")
    } catch {
      // A recipe file's mistake is not a usage mistake; the valid names follow, nearest first.
      #expect(!error.isUsage)
      #expect(error.description.hasPrefix("bad.txt:4: invalid quantization type 'q9_k' (valid: q2_k, "))
      #expect(error.description.hasSuffix(")") && error.description.contains(" q8_0, "))
    }
  }

  @Test func `a llama-quantize --tensor-type-file (whitespace-separated list) parses unchanged`() throws {
    let recipe = try Recipe.parse("attn_v=q5_k ffn_down=q6_k\n\tattn_output=q4_k\n", source: "tt.txt")
    #expect(recipe.rules.map(\.text) == ["attn_v=q5_k", "ffn_down=q6_k", "attn_output=q4_k"])
    #expect(recipe.name == "tt.txt")
  }

  @Test func `loading a file from disk; unknown names and unreadable files are errors`() throws {
    let dir = try TestPaths.temporaryDirectory("recipe")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("down.recipe").path
    try "# base: q3_k_m\nblk\\.{{first:1}}\\.ffn_down=q8_0\n".write(toFile: path, atomically: true, encoding: .utf8)
    let recipe = try Recipe.load(path, context: RecipeContext(blockCount: 4))
    #expect(recipe.name == "down")
    #expect(recipe.rules.map(\.text) == [#"blk\.(0)\.ffn_down=q8_0"#])
    #expect(throws: RecipeError.self) { try Recipe.load("no-such-preset", context: RecipeContext(blockCount: 4)) }
    // A template used without a model is an error naming the line.
    #expect(throws: RecipeError(source: path, line: 2, "template macro needs a model (block count) to expand")) {
      try Recipe.load(path: path, context: nil)
    }
  }

  @Test func `macro errors name file and line`() {
    let cases = [
      "blk\\.{{more_bits\\.x=q4_k", "blk\\.{{nope}}\\.x=q4_k", "blk\\.{{first}}\\.x=q4_k",
      "blk\\.{{first:x}}\\.x=q4_k", "x=q4_k {{if:tied}}", "{{if:maybe}}x=q4_k", "blk\\.{{moe_every:0:1}}\\.x=q4_k",
    ]
    for text in cases {
      do {
        _ = try Recipe.parse("# c\n" + text, source: "t.txt", context: RecipeContext(blockCount: 8))
        Issue.record("\(text) parsed")
      } catch {
        #expect(error.source == "t.txt" && error.line == 2, "\(error)")
      }
    }
  }
}

@Suite struct `Recipe templates` {
  @Test func `use_more_bits matches llama.cpp for 61 and 32 blocks`() {
    let m61 = (0..<61).filter { RecipeContext.useMoreBits($0, 61) }
    #expect(m61 == Array(0...6) + Array(stride(from: 9, through: 51, by: 3)) + Array(53...60))
    // Llama-2 7B / Llama-3 8B (32 blocks): the familiar 0-3, 6, 9, ..., 27, 28-31.
    let m32 = (0..<32).filter { RecipeContext.useMoreBits($0, 32) }
    #expect(m32 == [0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31])
  }

  @Test func `block sets, conditions and dropped lines`() throws {
    let c = RecipeContext(blockCount: 10, leadingDenseBlocks: 2, hasOutputTensor: false)
    func expand(_ line: String) throws -> String? {
      try Recipe.parse(line, source: "t", context: c).rules.first?.text
    }
    #expect(try expand("blk\\.{{first:3}}\\.x=q4_k") == #"blk\.(0|1|2)\.x=q4_k"#)
    #expect(try expand("blk\\.{{first_eighth}}\\.x=q4_k") == #"blk\.(0)\.x=q4_k"#)
    #expect(try expand("blk\\.{{first_sixteenth}}\\.x=q4_k") == nil)  // 10/16 = 0 blocks: dropped
    #expect(try expand("blk\\.{{moe_first:2}}\\.x=q4_k") == #"blk\.(2|3)\.x=q4_k"#)
    #expect(try expand("blk\\.{{moe_every:3:2}}\\.x=q4_k") == #"blk\.(4|7)\.x=q4_k"#)
    #expect(try expand("blk\\.{{more_bits}}\\.x=q4_k") == #"blk\.(0|3|6|8|9)\.x=q4_k"#)
    #expect(try expand("x{{n}}=q4_k") == "x10=q4_k")
    #expect(try expand("{{if:tied}}t=q6_k") == "t=q6_k")
    #expect(try expand("{{if:untied}}t=q6_k") == nil)
    #expect(try expand("{{if:n=10}}t=q6_k") == "t=q6_k")
    #expect(try expand("{{if:n=80}}t=q6_k") == nil)
    // The expanded text keeps line numbers: a dropped line becomes a comment.
    let text = try RecipeTemplate.expand(text: "# h\n{{if:n=80}}t=q6_k\nu=q4_k", context: c, source: "t")
    #expect(text == "# h\n# (not for this model) {{if:n=80}}t=q6_k\nu=q4_k")
  }
}
