import ArgumentParser
import QuantscopeFormats

extension Quantscope {
  /// `quantscope hash`: XXH3-128 of every tensor's bytes and of the whole model; write or check
  /// a manifest.
  struct Hash: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Hash every tensor's bytes (XXH3-128) and the whole model; write or check a manifest.",
      discussion: """
        Each tensor's hash is XXH3-128 (seed 0) of its data bytes exactly as stored. The \
        whole-model hash is XXH3-128 of the concatenation of the data bytes of all hashed \
        tensors, taken in ascending order of their names compared as UTF-8 bytes; names, \
        shapes and metadata do not enter it. Digests print as 32 hex digits in canonical \
        big-endian order, as `xxhsum -H2` prints them.

        Without -o or --check, prints one line per tensor ("DIGEST  NAME") and a last line \
        for the whole model. -o writes a JSON manifest (zstd-compressed when the name ends in \
        .zst). --check compares with a manifest (plain or .zst) and lists changed, missing and \
        extra tensors; the exit status is 2 when anything differs, 0 when all is identical.

        --json prints the manifest itself (schema quantscope.hash/1) instead of the lines, or \
        with --check the comparison (schema quantscope.hash-check/1: identical, changed with \
        the reasons, missing, extra, model_hash_matches).

        --shard K/N -o PART hashes only shard K of N of the tensors (balanced by bytes, the \
        same on every machine) and writes their hashes to PART; 'quantscope merge -o \
        MANIFEST' of all N parts writes the manifest the single run writes. The whole-model \
        hash is one stream over every tensor in name order, which no shard can share: merge \
        computes it, reading the data once at disk speed.

        Examples:
          quantscope hash model-00001-of-00007.gguf -o model.manifest.json.zst
          quantscope hash model-00001-of-00007.gguf --check model.manifest.json.zst
          quantscope hash DeepSeek-V3/ --tensors 'layers\\.0\\.' --progress json
          quantscope hash model.gguf --check model.json.zst --json | jq .changed
          quantscope hash model.gguf --shard 3/4 -o part3.json
        """)

    @Argument(help: "GGUF file (any shard of a split set), safetensors file, checkpoint directory or shards.")
    var paths: [String]

    @OptionGroup
    var tensorFilter: TensorFilterOptions

    @OptionGroup(title: "Manifest output")
    var outputOptions: OutputOptions

    @Option(help: ArgumentHelp("Compare with this manifest; exit 2 if anything differs.", valueName: "manifest"))
    var check: String?

    @OptionGroup
    var jsonOptions: JSONOptions

    @OptionGroup(title: "Sharding")
    var shardOptions: ShardOptions

    @OptionGroup
    var threadOptions: ThreadOptions

    @OptionGroup(title: "Progress")
    var progressOptions: ProgressOptions

    @OptionGroup(title: "Colour")
    var colorOptions: ColorOptions

    func validate() throws {
      if outputOptions.output == "-" && jsonOptions.json {
        throw ValidationError("-o - and --json both print to standard output; give -o a file name")
      }
      if outputOptions.output == "-" && check != nil {
        throw ValidationError("-o - and --check both print to standard output; give -o a file name")
      }
      try shardOptions.validate(
        output: outputOptions.output,
        conflict: check != nil ? "--shard and --check exclude each other: check the merged manifest" : nil)
    }

    func run() throws {
      let model = try WeightFiles.open(paths)
      var selected = model.tensors
      let filter = tensorFilter.filter
      if let filter {
        // A selection of nothing would hash nothing and, with --check, compare nothing and pass.
        selected = try filter.select(selected, in: paths[0])
      }
      // The manifest to compare with is read first: a bad manifest fails before hours of hashing.
      let expected = try check.map { try HashManifest.read(path: $0) }

      // Open the output before hashing too: an existing manifest is refused at once, and an
      // interrupted run leaves no file (its temporary file is removed on SIGINT/SIGTERM).
      let out = try outputOptions.output.map {
        try OutputFile(path: $0, overwrite: outputOptions.force, inputs: paths + (check.map { [$0] } ?? []))
      }

      let reporter = progressOptions.reporter(label: "hashing")
      if let shard = try shardOptions.spec(), let out {
        let hashes = try TensorHashing.hashShard(
          selected, shard: shard, threads: threadOptions.threads, progress: reporter)
        let job: JSONValue = .members([
          ("inputs", .members([("model", PartialResult.identity(of: model, as: paths))])),
          ("options", .members([("tensors", .optional(tensorFilter.pattern))])),
        ])
        let part = PartialResult(
          command: "hash", job: job, shard: shard,
          payload: .members([
            ("files", .array(model.files.map { .string($0.path) })), ("tensors", .array(hashes.map(\.partialJSON))),
          ]))
        try out.write(part.jsonText)
        try out.commit()
        return
      }
      let manifest = try TensorHashing.hash(
        selected, files: model.files.map(\.path), threads: threadOptions.threads, progress: reporter)

      if let out {
        try manifest.write(to: out)
        try out.commit()
      }
      if let expected, let check {
        // A --tensors selection narrows the manifest's list too.
        let comparison = TensorHashing.compare(
          expected: expected, actual: manifest, keeping: { filter?.matches($0) ?? true })
        if jsonOptions.json {
          printJSON(comparison.jsonDocument(manifest: check))
        } else {
          report(comparison, manifest: manifest, against: check)
        }
        if !comparison.isIdentical { throw ExitCode(ExitStatus.findings) }
      } else if jsonOptions.json {
        print(manifest.jsonText(), terminator: "")
      } else if outputOptions.output == nil {
        for t in manifest.tensors { print("\(t.xxh3_128.hex)  \(t.name.terminalSafe)") }
        print("\(manifest.model.hex)  (model: \(manifest.tensors.count) tensors, \(manifest.totalBytes) bytes)")
      }
    }

    private func report(_ c: HashComparison, manifest: HashManifest, against path: String) {
      let style = colorOptions.style
      for change in c.changed {
        let name = change.expected.name.terminalSafe
        print("\(style.paint("changed", .yellow))  \(name): \(change.reasons.joined(separator: ", "))")
      }
      for name in c.missing { print("\(style.paint("missing", .red))  \(name.terminalSafe)") }
      for name in c.extra { print("\(style.paint("extra", .cyan))    \(name.terminalSafe)") }
      if c.changed.isEmpty && c.missing.isEmpty && c.extra.isEmpty && c.modelHashMatches == false {
        print("model hash differs from \(path) although every tensor matches")
      }
      if c.isIdentical {
        print(
          "\(style.paint("OK", .green)): \(manifest.tensors.count) tensors identical to \(path) (model \(manifest.model.hex))"
        )
      } else {
        print(
          "\(style.paint("DIFFERENT", .red)): \(c.changed.count) changed, \(c.missing.count) missing, \(c.extra.count) extra (vs \(path))"
        )
      }
    }
  }
}
