import Foundation
import QuantscopeCodecs
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// Promises under misuse (issue 16, §1–4, 7, 8): each test drives the built binary the wrong way
/// and checks the exit status, the one-line message and every file left on disk, with the
/// inputs' bytes compared before and after.
@Suite("misuse: inputs survive, writes fail loudly, interrupts leave nothing", .serialized)
struct MisuseCLITests {
  static let q4 = TestPaths.samples.appendingPathComponent("deepseek-tiny-Q4_K_M.gguf")
  static let fp8 = TestPaths.samples.appendingPathComponent("deepseek-tiny-fp8")

  /// Every regular file under `dir` (recursively) with the XXH3-128 of its bytes; symbolic
  /// links are listed by target, FIFOs and devices by kind.
  static func snapshot(_ dir: URL) throws -> [String: String] {
    var out: [String: String] = [:]
    let names = try FileManager.default.subpathsOfDirectory(atPath: dir.path)
    for name in names {
      let path = dir.appendingPathComponent(name).path
      var st = stat()
      guard lstat(path, &st) == 0 else { continue }
      switch st.st_mode & S_IFMT {
      case S_IFREG: out[name] = XXH3.hash128(Array(try Data(contentsOf: URL(fileURLWithPath: path)))).hex
      case S_IFLNK: out[name] = "link -> " + ((try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?")
      case S_IFDIR: out[name] = "directory"
      case S_IFIFO: out[name] = "fifo"
      default: out[name] = "other"
      }
    }
    return out
  }

  /// A fresh directory holding a copy of the Q4_K_M sample as `x.gguf`.
  static func workspace(_ label: String) throws -> URL {
    let dir = try TestPaths.temporaryDirectory(label)
    try FileManager.default.copyItem(at: q4, to: dir.appendingPathComponent("x.gguf"))
    return dir
  }

  /// The one line quantscope printed on stderr, checked to be exactly one `quantscope: error:` line.
  static func oneErrorLine(_ r: CLI.Run, sourceLocation: SourceLocation = #_sourceLocation) -> String {
    let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
    #expect(lines.count == 1, "expected one line on stderr, got: \(r.stderr)", sourceLocation: sourceLocation)
    #expect(r.stderr.hasPrefix("quantscope: error: "), "\(r.stderr)", sourceLocation: sourceLocation)
    return String(lines.first ?? "")
  }

  /// Runs quantscope with stdout connected to `stdout` (a path opened for writing, or a pipe
  /// whose read end is closed at once), killing it after `timeout` seconds.
  static func run(
    _ arguments: [String], in dir: URL, stdout: String? = nil, closedPipe: Bool = false, timeout: Double = 60
  ) throws -> (status: Int32, signaled: Bool, stderr: String, timedOut: Bool) {
    let errURL = dir.appendingPathComponent("..").appendingPathComponent("stderr-\(UUID().uuidString)")
    FileManager.default.createFile(atPath: errURL.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: errURL) }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: CLI.binary)
    p.arguments = arguments
    p.currentDirectoryURL = dir
    p.standardInput = FileHandle.nullDevice
    let err = try FileHandle(forWritingTo: errURL)
    p.standardError = err
    var pipe: Pipe?
    if closedPipe {
      pipe = Pipe()
      p.standardOutput = pipe
    } else if let stdout {
      p.standardOutput = try #require(FileHandle(forWritingAtPath: stdout))
    } else {
      p.standardOutput = FileHandle.nullDevice
    }
    try p.run()
    if let pipe { try pipe.fileHandleForReading.close() }
    let deadline = Date().addingTimeInterval(timeout)
    while p.isRunning && Date() < deadline { usleep(10_000) }
    let timedOut = p.isRunning
    if timedOut { kill(p.processIdentifier, SIGKILL) }
    p.waitUntilExit()
    try err.close()
    return (
      p.terminationStatus, p.terminationReason == .uncaughtSignal,
      String(decoding: try Data(contentsOf: errURL), as: UTF8.self), timedOut
    )
  }

  /// A GGUF (bytes) with F32 tensors of one element each, named by `names`, and `metadata`.
  static func gguf(names: [String], metadata: [(key: String, value: GGUFValue)] = []) throws -> Data {
    let sink = MemorySink()
    let declarations = try names.map { try GGUFTensorDeclaration(name: $0, type: .f32, ne: [1]) }
    let writer = try GGUFWriter(
      metadata: [("general.architecture", .string("llama"))] + metadata, tensors: declarations, sink: sink)
    try writer.writeHeader()
    for (i, _) in names.enumerated() {
      try withUnsafeBytes(of: Float(i).bitPattern.littleEndian) { try writer.writeData($0) }
    }
    try writer.finish()
    return Data(sink.bytes)
  }

  // MARK: - 1. An input is never destroyed, even with --force

  /// Each case: files to set up beside `x.gguf`, then a command that names an input as its output.
  static let sameFileCases: [(label: String, setup: String, arguments: [String])] = [
    ("requant onto its input", "", ["requant", "x.gguf", "-o", "x.gguf", "--rule", "ffn_down=q8_0", "--force"]),
    ("hash onto its input", "", ["hash", "x.gguf", "-o", "x.gguf", "--force"]),
    (
      "decode onto its input", "",
      [
        "decode", "x.gguf", "--tensor", "blk.0.attn_norm.weight", "-o", "x.gguf", "--force",
      ]
    ),
    ("input through a symlink", "link", ["hash", "link.gguf", "-o", "x.gguf", "--force"]),
    (
      "output through a symlink", "link",
      [
        "requant", "x.gguf", "-o", "link.gguf", "--rule", "ffn_down=q8_0", "--force",
      ]
    ),
    ("output a hard link of the input", "hard", ["hash", "x.gguf", "-o", "hard.gguf", "--force"]),
    (
      "output another shard of the set", "split",
      [
        "requant", "s-00001-of-00002.gguf", "-o", "s-00002-of-00002.gguf", "--rule", "ffn_down=q4_0", "--force",
      ]
    ),
    (
      "output a --ref file", "ref",
      [
        "requant", "x.gguf", "-o", "fp8/model-00001-of-00002.safetensors", "--ref", "fp8", "--rule", "ffn_down=q8_0",
        "--force",
      ]
    ),
    (
      "hash -o the manifest --check reads", "manifest",
      [
        "hash", "x.gguf", "--check", "m.json", "-o", "m.json", "--force",
      ]
    ),
    (
      "diff --report onto the reference", "ref",
      [
        "diff", "x.gguf", "--ref", "fp8", "--report", "fp8/model-00002-of-00002.safetensors", "--force",
      ]
    ),
  ]

  @Test(arguments: 0..<sameFileCases.count)
  func `an output that is an input is refused, --force or not, and every input survives`(_ index: Int) throws {
    let (label, setup, arguments) = Self.sameFileCases[index]
    let dir = try Self.workspace("same")
    defer { try? FileManager.default.removeItem(at: dir) }
    switch setup {
    case "link":
      try FileManager.default.createSymbolicLink(
        atPath: dir.appendingPathComponent("link.gguf").path, withDestinationPath: "x.gguf")
    case "hard":
      try FileManager.default.linkItem(
        at: dir.appendingPathComponent("x.gguf"), to: dir.appendingPathComponent("hard.gguf"))
    case "split":
      for n in 1...2 {
        try FileManager.default.copyItem(
          at: TestPaths.samples.appendingPathComponent("deepseek-tiny-Q8_0-0000\(n)-of-00002.gguf"),
          to: dir.appendingPathComponent("s-0000\(n)-of-00002.gguf"))
      }
    case "ref": try FileManager.default.copyItem(at: Self.fp8, to: dir.appendingPathComponent("fp8"))
    case "manifest":
      let r = try CLI.quantscope(["hash", "x.gguf", "-o", "m.json"], in: dir)
      #expect(r.status == 0, "\(r.stderr)")
    default: break
    }
    let before = try Self.snapshot(dir)
    let r = try CLI.quantscope(arguments, in: dir)
    #expect(r.status == 1, "\(label): \(r.stderr)")
    let line = Self.oneErrorLine(r)
    #expect(line.contains("refusing to write an output over an input"), "\(label): \(line)")
    #expect(try Self.snapshot(dir) == before, "\(label): files changed")
  }

  @Test func `a split output whose shard names are the input's own shards is refused before any work`() throws {
    let dir = try TestPaths.temporaryDirectory("splitself")
    defer { try? FileManager.default.removeItem(at: dir) }
    for n in 1...2 {
      try FileManager.default.copyItem(
        at: TestPaths.samples.appendingPathComponent("deepseek-tiny-Q8_0-0000\(n)-of-00002.gguf"),
        to: dir.appendingPathComponent("s-0000\(n)-of-00002.gguf"))
    }
    let before = try Self.snapshot(dir)
    // Half the data per shard: two shards named s-00001-of-00002.gguf, s-00002-of-00002.gguf.
    let r = try CLI.quantscope(
      [
        "requant", "s-00001-of-00002.gguf", "-o", "s.gguf", "--rule", "zzz=q8_0", "--split-max-size", "4300000",
        "--force",
      ],
      in: dir)
    #expect(r.status == 1, "\(r.stderr)")
    #expect(Self.oneErrorLine(r).contains("of the input's split set (s-00001-of-00002.gguf)"), "\(r.stderr)")
    #expect(r.stderr.contains("refusing to write an output over an input"))
    #expect(try Self.snapshot(dir) == before)
  }

  @Test(arguments: ["/dev/null", "fifo"])
  func `a device or FIFO is never replaced by an output`(_ target: String) throws {
    let dir = try Self.workspace("device")
    defer { try? FileManager.default.removeItem(at: dir) }
    if target == "fifo" { #expect(mkfifo(dir.appendingPathComponent("fifo").path, 0o644) == 0) }
    let before = try Self.snapshot(dir)
    let r = try Self.run(["hash", "x.gguf", "-o", target, "--force"], in: dir, timeout: 30)
    #expect(!r.timedOut)
    #expect(r.status == 1, "\(r.stderr)")
    let kind = target == "fifo" ? "is a FIFO" : "is a character device"
    #expect(r.stderr.contains("\(kind), not a regular file"), "\(r.stderr)")
    var st = stat()
    #expect(stat("/dev/null", &st) == 0 && (st.st_mode & S_IFMT) == S_IFCHR, "/dev/null is no longer a device")
    #expect(try Self.snapshot(dir) == before)
  }

  // MARK: - 2. A failed write never exits 0

  @Test(arguments: [["hash", "x.gguf"], ["diff", "x.gguf", "--ref", "FP8", "--json"], ["inspect", "x.gguf"]])
  func `a full disk on standard output is exit 1 with a message`(_ arguments: [String]) throws {
    let dir = try Self.workspace("full")
    defer { try? FileManager.default.removeItem(at: dir) }
    let args = arguments.map { $0 == "FP8" ? Self.fp8.path : $0 }
    let before = try Self.snapshot(dir)
    let r = try Self.run(args, in: dir, stdout: "/dev/full")
    #expect(!r.signaled && r.status == 1, "\(args): status \(r.status), \(r.stderr)")
    let expected = "quantscope: error: standard output: write error: No space left on device\n"
    #expect(r.stderr.hasSuffix(expected), "\(r.stderr)")
    #expect(try Self.snapshot(dir) == before)
  }

  @Test func `a closed pipe ends the process quietly, by SIGPIPE, as coreutils end`() throws {
    let dir = try Self.workspace("pipe")
    defer { try? FileManager.default.removeItem(at: dir) }
    let r = try Self.run(["hash", "x.gguf"], in: dir, closedPipe: true)
    #expect(r.signaled && r.status == SIGPIPE, "status \(r.status), signaled \(r.signaled)")
    #expect(r.stderr.isEmpty, "\(r.stderr)")
  }

  // MARK: - 3. Interrupts leave nothing behind

  /// A GGUF of 300 F32 [256 × 64] matrices named `blk.N.ffn_down.weight` (19 MB): requantized
  /// to Q8_0 with one shard per tensor it makes 300 shards, far more than the 64 cleanup slots
  /// there used to be, in about two seconds.
  static func manyMatrices(in dir: URL) throws {
    let sink = MemorySink()
    let declarations = try (0..<300).map {
      try GGUFTensorDeclaration(name: "blk.\($0).ffn_down.weight", type: .f32, ne: [256, 64])
    }
    let writer = try GGUFWriter(
      metadata: [("general.architecture", .string("llama"))], tensors: declarations, sink: sink)
    try writer.writeHeader()
    let values: [Float] = (0..<(256 * 64)).map { (i: Int) -> Float in Float((i * 7919) % 1000) / 1000 - 0.5 }
    for _ in declarations { try values.withUnsafeBytes { try writer.writeData($0) } }
    try writer.finish()
    try Data(sink.bytes).write(to: dir.appendingPathComponent("m.gguf"))
  }

  static let splitArguments = ["requant", "m.gguf", "-o", "out.gguf", "--split-max-size", "1", "--quiet"]

  /// Starts the 300-shard requant and sends `sig` once `waitFor` temporary shards exist.
  static func interruptSplitRequant(in dir: URL, signal sig: Int32, force: Bool, waitFor: Int) throws -> Process {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: CLI.binary)
    // Q8_0 here, Q4_0 in the earlier run of the --force case: a set that changed would show.
    p.arguments = splitArguments + ["--rule", "ffn_down=q8_0"] + (force ? ["--force"] : [])
    p.currentDirectoryURL = dir
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    let deadline = Date().addingTimeInterval(60)
    func temporaries() -> Int {
      ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.contains(".tmp-") }.count
    }
    while p.isRunning && temporaries() < waitFor && Date() < deadline { usleep(1_000) }
    #expect(p.isRunning, "requant finished before it could be interrupted")
    #expect(temporaries() >= waitFor)
    kill(p.processIdentifier, sig)
    p.waitUntilExit()
    return p
  }

  @Test(arguments: [SIGINT, SIGTERM])
  func `an interrupt during a 300-shard requant leaves no temporary file and no shard`(_ sig: Int32) throws {
    let dir = try TestPaths.temporaryDirectory("sigint")
    defer { try? FileManager.default.removeItem(at: dir) }
    try Self.manyMatrices(in: dir)
    let before = try Self.snapshot(dir)
    let p = try Self.interruptSplitRequant(in: dir, signal: sig, force: false, waitFor: 100)
    // Killed by the signal itself (the shell shows 130 for SIGINT, 143 for SIGTERM).
    #expect(p.terminationReason == .uncaughtSignal && p.terminationStatus == sig, "status \(p.terminationStatus)")
    let after = try Self.snapshot(dir)
    #expect(after == before, "left: \(after.keys.sorted().prefix(5)) of \(after.count)")
  }

  @Test func `an interrupted --force split run leaves the previous set as it was`() throws {
    let dir = try TestPaths.temporaryDirectory("sigintforce")
    defer { try? FileManager.default.removeItem(at: dir) }
    try Self.manyMatrices(in: dir)
    let first = try CLI.quantscope(Self.splitArguments + ["--rule", "ffn_down=q4_0"], in: dir)
    #expect(first.status == 0, "\(first.stderr)")
    let before = try Self.snapshot(dir)
    #expect(before.count == 301)
    let p = try Self.interruptSplitRequant(in: dir, signal: SIGINT, force: true, waitFor: 100)
    #expect(p.terminationReason == .uncaughtSignal && p.terminationStatus == SIGINT)
    #expect(try Self.snapshot(dir) == before)
  }

  /// A stand-in for llama-perplexity: `--version` prints a version; the base run writes its logits
  /// and exits; every KLD run records its pid in `$FAKE_PIDS` and sleeps (as `sleep` itself).
  static let fakePerplexity = """
    #!/bin/sh
    case " $* " in *" --version "*) echo "version: 0 (fake)"; exit 0 ;; esac
    case " $* " in
      *" --kl-divergence "*) echo $$ >>"$FAKE_PIDS"; exec sleep 120 ;;
    esac
    while [ $# -gt 0 ]; do
      if [ "$1" = --kl-divergence-base ]; then echo logits >"$2"; fi
      shift
    done
    """

  @Test(arguments: [SIGINT, SIGTERM])
  func `an interrupted attribute leaves no work folder and no evaluation running`(_ sig: Int32) throws {
    let dir = try TestPaths.temporaryDirectory("attribute-interrupt")
    defer { try? FileManager.default.removeItem(at: dir) }
    let bin = dir.appendingPathComponent("bin"), tmp = dir.appendingPathComponent("tmp")
    for d in [bin, tmp] { try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true) }
    let tool = bin.appendingPathComponent("llama-perplexity")
    try Self.fakePerplexity.write(to: tool, atomically: true, encoding: .utf8)
    chmod(tool.path, 0o755)
    let pids = dir.appendingPathComponent("pids")
    let text = TestPaths.repository.appendingPathComponent("Tests/Fixtures/text/python-execution-model.txt")

    let p = Process()
    p.executableURL = URL(fileURLWithPath: CLI.binary)
    p.arguments = [
      "attribute", TestPaths.samples.appendingPathComponent("deepseek-tiny-Q4_K_M.gguf").path,
      TestPaths.samples.appendingPathComponent("deepseek-tiny-Q3_K_M.gguf").path, "--text", text.path,
      "--llama-bin", bin.path, "--groups", "kind", "--parallel", "2", "--quiet",
    ]
    var environment = ProcessInfo.processInfo.environment
    environment["TMPDIR"] = tmp.path
    environment["FAKE_PIDS"] = pids.path
    p.environment = environment
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    // Interrupted while two KLD runs are going: the whole file's and the first hybrid's.
    func started() -> [pid_t] {
      ((try? String(contentsOf: pids, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { pid_t($0) }
    }
    let deadline = Date().addingTimeInterval(60)
    while p.isRunning && started().count < 2 && Date() < deadline { usleep(2_000) }
    #expect(p.isRunning, "attribute ended before it could be interrupted")
    let children = started()
    #expect(children.count == 2)
    let work = try FileManager.default.contentsOfDirectory(atPath: tmp.path)
    #expect(work.count == 1 && work[0].hasPrefix("quantscope-attribute-"), "\(work)")
    let held = work.first.map {
      (try? FileManager.default.contentsOfDirectory(atPath: tmp.appendingPathComponent($0).path)) ?? []
    }
    #expect(held?.contains("base.kld") == true && held?.contains("group-1.gguf") == true, "\(held ?? [])")
    kill(p.processIdentifier, sig)
    p.waitUntilExit()
    #expect(p.terminationReason == .uncaughtSignal && p.terminationStatus == sig, "status \(p.terminationStatus)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: tmp.path) == [], "left in TMPDIR")
    // Killed: gone, or a zombie until its new parent reaps it.
    for pid in children {
      let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
      let state = stat.split(separator: ")").last?.split(separator: " ").first ?? "gone"
      #expect(state == "gone" || state == "Z", "llama-perplexity \(pid) is still running (\(state))")
      if state != "gone" && state != "Z" { kill(pid, SIGKILL) }
    }
  }

  // MARK: - 4. No crash, no hang, no amplification

  @Test(arguments: ["10000000000G", "99999999999999999999", "-5", "0", "1.5G", "+7"])
  func `a size that overflows or is not a size is a usage error, never a trap`(_ size: String) throws {
    let dir = try Self.workspace("size")
    defer { try? FileManager.default.removeItem(at: dir) }
    let r = try CLI.quantscope(
      ["requant", "x.gguf", "-o", "o.gguf", "--rule", "zzz=q8_0", "--split-max-size=\(size)"], in: dir)
    #expect(r.status == 64, "\(size): \(r.status) \(r.stderr)")
    #expect(r.stderr.contains("--split-max-size takes a positive size"), "\(r.stderr)")
    #expect(try CLI.listing(dir) == ["x.gguf"])
    let t = try CLI.quantscope(["hash", "x.gguf", "--threads", "9223372036854775807"], in: dir)
    #expect(t.status == 64, "\(t.stderr)")
  }

  @Test func `a size in an unknown unit is a usage error saying why and naming GB and GiB`() throws {
    let dir = try Self.workspace("size-unit")
    defer { try? FileManager.default.removeItem(at: dir) }
    let r = try CLI.quantscope(
      ["requant", "x.gguf", "-o", "o.gguf", "--rule", "zzz=q8_0", "--split-max-size", "48GIX"], in: dir)
    #expect(r.status == 64, "\(r.stderr)")
    #expect(r.stderr.contains("50G (10^9 bytes) or 48GiB (2^30 bytes), not '48GIX': unknown unit 'GIX'"), "\(r.stderr)")
    #expect(try CLI.listing(dir) == ["x.gguf"])
  }

  @Test func `more shards than a split set can number is an error before any work`() throws {
    let dir = try TestPaths.temporaryDirectory("manyshards")
    defer { try? FileManager.default.removeItem(at: dir) }
    try Self.gguf(names: (0..<65_537).map { "t\($0).weight" }).write(to: dir.appendingPathComponent("many.gguf"))
    let before = try Self.snapshot(dir)
    let r = try CLI.quantscope(
      ["requant", "many.gguf", "-o", "o.gguf", "--rule", "zzz=q8_0", "--split-max-size", "1"], in: dir)
    #expect(r.status == 1, "\(r.stderr)")
    let expected =
      "quantscope: error: o.gguf: --split-max-size 1 would make 65537 shards; "
      + "a GGUF split set holds at most 65535"
    #expect(Self.oneErrorLine(r) == expected)
    #expect(try Self.snapshot(dir) == before)
  }

  @Test func `a shard name claiming 999999999 shards is searched only as far as split.count says`() throws {
    let dir = try TestPaths.temporaryDirectory("splitsearch")
    defer { try? FileManager.default.removeItem(at: dir) }
    let split: [(key: String, value: GGUFValue)] = [
      ("split.no", .uint16(0)), ("split.count", .uint16(2)), ("split.tensors.count", .int32(1)),
    ]
    try Self.gguf(names: ["a.weight"], metadata: split)
      .write(to: dir.appendingPathComponent("m-00001-of-999999999.gguf"))
    let start = Date()
    let r = try Self.run(["verify", "m-00001-of-999999999.gguf"], in: dir, timeout: 30)
    #expect(!r.timedOut && Date().timeIntervalSince(start) < 20)
    #expect(r.status == 2 || r.status == 1, "\(r.stderr)")
    let i = try CLI.quantscope(["inspect", "m-00001-of-999999999.gguf"], in: dir)
    #expect(i.status == 1)
    #expect(Self.oneErrorLine(i).contains("split.count is 2 but the file names say 999999999 shards"), "\(i.stderr)")
  }

  @Test func `a split set named with six digits is found with six digits`() throws {
    let dir = try TestPaths.temporaryDirectory("sixdigits")
    defer { try? FileManager.default.removeItem(at: dir) }
    for n in 0..<2 {
      let split: [(key: String, value: GGUFValue)] = [
        ("split.no", .uint16(UInt16(n))), ("split.count", .uint16(2)), ("split.tensors.count", .int32(2)),
      ]
      try Self.gguf(names: ["t\(n).weight"], metadata: split)
        .write(to: dir.appendingPathComponent("m-00000\(n + 1)-of-000002.gguf"))
    }
    let r = try CLI.quantscope(["hash", "m-000002-of-000002.gguf"], in: dir)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("t0.weight") && r.stdout.contains("t1.weight"))
  }

  /// Each input role given a FIFO (no writer: opening it for reading would wait forever).
  static let fifoCases: [[String]] = [
    ["hash", "fifo"],
    ["inspect", "fifo"],
    ["hash", "x.gguf", "--check", "fifo"],
    ["requant", "x.gguf", "-o", "o.gguf", "--rule", "ffn_down=q8_0", "--imatrix", "fifo"],
    ["requant", "x.gguf", "-o", "o.gguf", "--recipe", "fifo"],
    ["diff", "x.gguf", "--ref", "fifo"],
  ]

  @Test(arguments: fifoCases)
  func `a FIFO given as any input is refused at once`(_ arguments: [String]) throws {
    let dir = try Self.workspace("fifo")
    defer { try? FileManager.default.removeItem(at: dir) }
    #expect(mkfifo(dir.appendingPathComponent("fifo").path, 0o644) == 0)
    let before = try Self.snapshot(dir)
    let r = try Self.run(arguments, in: dir, timeout: 30)
    #expect(!r.timedOut, "\(arguments) blocked")
    #expect(r.status == 1, "\(arguments): \(r.status) \(r.stderr)")
    #expect(r.stderr.contains("not a regular file (a FIFO)"), "\(arguments): \(r.stderr)")
    #expect(try Self.snapshot(dir) == before)
  }

  @Test func `a block count from a crafted name or the command line cannot make a plan expand for hours`() throws {
    let dir = try TestPaths.temporaryDirectory("blocks")
    defer { try? FileManager.default.removeItem(at: dir) }
    try Self.gguf(names: ["blk.0.ffn_down.weight", "blk.4000000000.ffn_down.weight"])
      .write(to: dir.appendingPathComponent("b.gguf"))
    for args in [
      ["plan", "b.gguf", "--recipe", "dq3_k_m"],
      ["plan", "b.gguf", "--recipe", "dq3_k_m", "--blocks", "1000000000"],
      ["recipes", "show", "dq3_k_m", "--blocks", "1000000000"],
    ] {
      let r = try Self.run(args, in: dir, timeout: 30)
      #expect(!r.timedOut, "\(args) ran on")
      #expect(r.status == 1, "\(args): \(r.stderr)")
      #expect(r.stderr.contains("is beyond any model (at most 100000 blocks)"), "\(args): \(r.stderr)")
    }
  }

  @Test func `an absurd alignment is refused instead of writing gigabytes of padding`() throws {
    let dir = try TestPaths.temporaryDirectory("align")
    defer { try? FileManager.default.removeItem(at: dir) }
    // 2^31: a power of two (ggml's only rule), so it needs bytes built by hand.
    var bytes: [UInt8] = Array("GGUF".utf8)
    func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    u32(3); u64(0); u64(1)
    let key = "general.alignment"
    u64(UInt64(key.utf8.count)); bytes += key.utf8; u32(4); u32(1 << 31)
    try Data(bytes).write(to: dir.appendingPathComponent("a.gguf"))
    let before = try Self.snapshot(dir)
    let r = try CLI.quantscope(["requant", "a.gguf", "-o", "o.gguf", "--rule", "zzz=q8_0"], in: dir)
    #expect(r.status == 1)
    #expect(Self.oneErrorLine(r).contains("general.alignment 2147483648 is absurd"), "\(r.stderr)")
    #expect(try Self.snapshot(dir) == before)
  }

  // MARK: - 7. An output is what its name says

  @Test func `several tensors are never written as safetensors under a .npy name`() throws {
    let dir = try Self.workspace("npy")
    defer { try? FileManager.default.removeItem(at: dir) }
    let before = try Self.snapshot(dir)
    // What the file holds decides the first two (status 1); the third is wrong for any file (64).
    for (args, expected, status) in [
      (["--tensors", #"blk\.1\.ffn_.*_exps"#, "-o", "multi.npy"], "holds one array", Int32(1)),
      (["--tensors", #"blk\.1\.ffn_.*_exps"#, "-o", "multi.npy.zst"], "holds one array", 1),
      (["--tensor", "blk.0.attn_norm.weight", "-o", "one.npy", "--format", "safetensors"], "the name says .npy", 64),
    ] {
      let r = try CLI.quantscope(["decode", "x.gguf"] + args, in: dir)
      #expect(r.status == status, "\(args): \(r.stderr)")
      #expect(Self.oneErrorLine(r).contains(expected), "\(r.stderr)")
      #expect(try Self.snapshot(dir) == before)
    }
    let ok = try CLI.quantscope(
      ["decode", "x.gguf", "--tensors", #"blk\.1\.ffn_.*_exps"#, "-o", "multi.safetensors"], in: dir)
    #expect(ok.status == 0, "\(ok.stderr)")
  }

  @Test func `an .npy header is NPY 2.0 when 1.0 cannot hold its length, and numpy reads what is written`() throws {
    // 30,000 dimensions: about 90 kB of header, beyond 1.0's 65,535 (numpy cannot hold the array,
    // so decode refuses it, below; the header itself must still be well formed).
    let long = TensorExport.npyHeader(shape: [Int](repeating: 1, count: 30_000))
    #expect(long[6] == 2 && long[7] == 0)
    let declared = Int(long[8]) | Int(long[9]) << 8 | Int(long[10]) << 16 | Int(long[11]) << 24
    #expect(declared == long.count - 12 && long.count % 64 == 0 && long.last == 0x0A)
    // 64 dimensions, numpy's limit, in 1.0.
    let dir = try TestPaths.temporaryDirectory("npy2")
    defer { try? FileManager.default.removeItem(at: dir) }
    let header = TensorExport.npyHeader(shape: [Int](repeating: 1, count: 64))
    #expect(header[6] == 1)
    let path = dir.appendingPathComponent("t.npy").path
    let value = withUnsafeBytes(of: Float(2.5).bitPattern.littleEndian, Array.init)
    try Data(header + value).write(to: URL(fileURLWithPath: path))
    let r = try CLI.python(
      "import numpy as np, sys; a = np.load(sys.argv[1]); print(a.ndim, a.size, a.ravel()[0])", [path])
    #expect(r.stdout == "64 1 2.5\n")
    // A safetensors tensor of 100 dimensions is refused as .npy, written as raw f32.
    var json = Array(#"{"t":{"dtype":"F32","shape":["#.utf8)
    json += Array(([String](repeating: "1", count: 100).joined(separator: ",") + #"],"data_offsets":[0,4]}}"#).utf8)
    var file: [UInt8] = []
    withUnsafeBytes(of: UInt64(json.count).littleEndian) { file += $0 }
    file += json + withUnsafeBytes(of: Float(2.5).bitPattern.littleEndian, Array.init)
    try Data(file).write(to: dir.appendingPathComponent("d.safetensors"))
    let before = try Self.snapshot(dir)
    let d = try CLI.quantscope(["decode", "d.safetensors", "--tensor", "t", "-o", "t100.npy"], in: dir)
    #expect(d.status == 1)
    #expect(Self.oneErrorLine(d).contains("100 dimensions: numpy reads at most 64"), "\(d.stderr)")
    #expect(try Self.snapshot(dir) == before)
  }

  // MARK: - 8. The terminal is safe

  @Test func `control characters in tensor names never reach the terminal raw`() throws {
    let dir = try TestPaths.temporaryDirectory("ctrl")
    defer { try? FileManager.default.removeItem(at: dir) }
    let evil = [
      "a\u{1B}]0;pwned\u{07}.weight",
      "b.weight\nffffffffffffffffffffffffffffffff  forged.weight",
      "c\r.weight", "d\u{9B}31m.weight", "e\u{202E}thgiew.weight",
    ]
    try Self.gguf(names: evil, metadata: [("general.name", .string("x\u{1B}[2J"))])
      .write(to: dir.appendingPathComponent("e.gguf"))
    let commands = [
      ["hash", "e.gguf"], ["inspect", "e.gguf"], ["stats", "e.gguf"], ["verify", "e.gguf"],
      ["inspect", "e.gguf", "--markdown"],
    ]
    for args in commands {
      let r = try CLI.quantscope(args, in: dir)
      #expect(r.status == 0, "\(args): \(r.stderr)")
      let forbidden: Set<UInt8> = [0x1B, 0x07, 0x0D]
      #expect(!r.data.contains { forbidden.contains($0) }, "\(args): raw control bytes in \(r.stdout)")
      #expect(!r.stdout.contains("\u{9B}") && !r.stdout.contains("\u{202E}"), "\(args)")
      #expect(!r.stdout.contains("\nffffffffffffffffffffffffffffffff  forged"), "\(args): a forged line")
    }
    let h = try CLI.quantscope(["hash", "e.gguf"], in: dir)
    #expect(h.stdout.split(separator: "\n").count == evil.count + 1)
    #expect(h.stdout.contains(#"a\u{1B}]0;pwned\u{7}.weight"#))
    // Errors too: a missing tensor's name is echoed escaped.
    let d = try CLI.quantscope(["decode", "e.gguf", "--tensor", "z\u{1B}[2J"], in: dir)
    #expect(d.status == 1)
    #expect(!d.stderr.utf8.contains(0x1B) && d.stderr.contains(#"z\u{1B}[2J"#), "\(d.stderr)")
  }
}
