import ArgumentParser
import Foundation
import QuantscopeAnalysis
import QuantscopeFormats

extension Quantscope {
  /// `quantscope compare`: layout-level comparison of two GGUF releases.
  struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Compare the layout of two GGUF releases without decoding them.",
      discussion: """
        Lists tensors added and removed, tensors whose type or shape changed, and, for tensors \
        whose type and shape agree, whether their bytes are identical (XXH3-128). Only those \
        tensors are hashed, so two 300 GB sets compare in the time it takes to read the tensors \
        that could be equal. --tensors narrows both sides to the tensors whose name matches. \
        Sizes are in the binary unit that fits (KiB, MiB, GiB). The recipe difference is \
        printed as rules, one per tensor kind and type change, in llama-quantize's \
        --tensor-type syntax. --tensor-type-file FILE also writes those rules as a file \
        llama-quantize's --tensor-type-file reads (one pattern=type per line; the patterns name \
        disjoint sets of tensors, so their order does not matter); `-` prints only that file.

        Examples:
          quantscope compare R1-Q3_K_M-00001-of-00007.gguf \\
              R1-DQ3_K_M-00001-of-00006.gguf
          quantscope compare a.gguf b.gguf --json
          quantscope compare a.gguf b.gguf --tensor-type-file a-to-b.txt
        """)

    @Argument(help: "The first GGUF (any shard of a split set).")
    var a: String

    @Argument(help: "The second GGUF.")
    var b: String

    @OptionGroup
    var jsonOptions: JSONOptions

    @OptionGroup
    var tensorFilter: TensorFilterOptions

    @OptionGroup
    var threadOptions: ThreadOptions

    @OptionGroup
    var quietOptions: QuietOptions

    @Option(
      name: .customLong("tensor-type-file"),
      help: ArgumentHelp(
        "Also write the recipe difference (A to B) as a llama-quantize --tensor-type-file ('-': print only it).",
        valueName: "file"))
    var tensorTypeFile: String?

    @OptionGroup
    var forceOptions: ForceOptions

    @OptionGroup(title: "Colour")
    var colorOptions: ColorOptions

    func run() throws {
      let modelA = try GGUFModel(path: a), modelB = try GGUFModel(path: b)
      var sideA: any TensorCollection = modelA, sideB: any TensorCollection = modelB
      if let filter = tensorFilter.filter {
        // A tensor only one side has is still news (added or removed), so the pattern has to
        // match in A or in B, not in both.
        sideA = SelectedTensors(modelA, keeping: filter.matches)
        sideB = SelectedTensors(modelB, keeping: filter.matches)
        if sideA.tensors.isEmpty && sideB.tensors.isEmpty {
          throw filter.noMatch(among: modelA.tensors.map(\.name), in: a)
        }
      }
      let c = try LayoutComparison(a: sideA, b: sideB, threads: threadOptions.count) { t in
        XXH3.hash128(try t.bytes()).hex
      }
      if let tensorTypeFile {
        try OutputFile.write(
          c.tensorTypeFileText, to: tensorTypeFile, overwrite: forceOptions.force, inputs: [a, b])
        if tensorTypeFile == "-" { return }
      }
      if jsonOptions.json {
        printJSON(c.jsonDocument(a: a, b: b))
        return
      }
      let style = colorOptions.style
      var out: [String] = []
      out.append("A: \(a) (\(Format.count(sideA.tensors.count)) tensors)")
      out.append("B: \(b) (\(Format.count(sideB.tensors.count)) tensors)")
      out.append("")
      out.append(
        "added \(c.added.count), removed \(c.removed.count), type changed \(c.typeChanged.count), "
          + "shape changed \(c.shapeChanged.count), identical bytes \(c.identical.count), different bytes \(c.differentBytes.count)"
      )
      if !c.rules.isEmpty {
        out.append("\nrecipe difference (A → B):")
        for r in c.rules {
          out.append("  \(r.pattern.terminalSafe): \(style.paint(r.from, .yellow)) → \(style.paint(r.to, .yellow))")
        }
      }
      for (title, names) in [
        ("added", c.added), ("removed", c.removed), ("different bytes (same type and shape)", c.differentBytes),
      ]
      where !names.isEmpty {
        out.append("\n\(title):")
        for n in names { out.append("  \(n.terminalSafe)") }
      }
      if !c.shapeChanged.isEmpty {
        out.append("\nshape changed:")
        for x in c.shapeChanged {
          out.append("  \(x.name.terminalSafe): \(Format.shape(x.shapeA)) → \(Format.shape(x.shapeB))")
        }
      }
      var t = TextTable(["type", "A", "B", "change"], rightAligned: [1, 2, 3])
      for row in c.bytesByType {
        t.add([row.type, Format.size(row.a), Format.size(row.b), Format.sizeChange(row.b - row.a)])
      }
      t.add([
        "total", Format.size(c.totalBytesA), Format.size(c.totalBytesB),
        Format.sizeChange(c.totalBytesB - c.totalBytesA),
      ])
      out.append("\n" + t.render())
      print(out.joined(separator: "\n"))
    }
  }
}
