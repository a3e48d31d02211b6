// libFuzzer target: FuzzHarness.shardIndex on each input (see Fuzz/Sources/FuzzHarness).
import CFuzzerDriver
import FuzzHarness

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  _ = FuzzHarness.shardIndex(UnsafeRawBufferPointer(start: data, count: size))
  return 0
}

/// The process entry point: SwiftPM links `main` to `<module>_main`; hand over to libFuzzer.
@_cdecl("fuzz_shard_index_main")
public func fuzzMain(
  _ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
  var argc = argc
  var argv = argv
  return LLVMFuzzerRunDriver(&argc, &argv, fuzzTestOneInput)
}
