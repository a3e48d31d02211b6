// swift-tools-version: 6.1
//
// libFuzzer targets for quantscope's parsers of untrusted bytes. A separate package so that the
// main package's `swift build` / `swift test` never builds them. Build and run with
// `scripts/fuzz` (or `make fuzz-smoke` / `make fuzz`); see the README's "Fuzzing" section.
//
// Each target is an executable whose `main` (SwiftPM names it `<module>_main` on Linux) hands
// `LLVMFuzzerTestOneInput` to libFuzzer's driver. Build flags: `-sanitize=fuzzer,address
// -parse-as-library`, release mode.
import Foundation
import PackageDescription

// SwiftPM names a path dependency after its directory, which differs between clones
// (`quantscope`, a worktree's name, CI's folder): read it from where this manifest lives.
let mainPackage = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .lastPathComponent

func library(_ name: String) -> Target.Dependency { .product(name: name, package: mainPackage) }

let package = Package(
  name: "quantscope-fuzz",
  dependencies: [.package(path: "..")],
  targets: [
    .target(name: "CFuzzerDriver"),
    .target(
      name: "FuzzHarness",
      dependencies: [library("QuantscopeFormats"), library("QuantscopeCodecs"), library("QuantscopeAnalysis")]),
    .executableTarget(name: "fuzz-gguf", dependencies: ["FuzzHarness", "CFuzzerDriver", library("QuantscopeFormats")]),
    .executableTarget(name: "fuzz-safetensors", dependencies: ["FuzzHarness", "CFuzzerDriver", library("QuantscopeFormats")]),
    .executableTarget(name: "fuzz-shard-index", dependencies: ["FuzzHarness", "CFuzzerDriver", library("QuantscopeFormats")]),
    .executableTarget(
      name: "fuzz-imatrix",
      dependencies: ["FuzzHarness", "CFuzzerDriver", library("QuantscopeFormats"), library("QuantscopeAnalysis")]),
    .executableTarget(
      name: "fuzz-decoders",
      dependencies: ["FuzzHarness", "CFuzzerDriver", library("QuantscopeFormats"), library("QuantscopeCodecs")]),
  ]
)
