// swift-tools-version: 6.1
//
// quantscope: look inside LLM weight files and measure what quantization did to them.
//
// Layers, each a library target usable on its own:
//   QuantscopeFormats  — mapped files, GGUF, safetensors, split and sharded sets, imatrix files, JSON, the
//                        parallel loop (knows nothing of what is inside a quantized block)
//   QuantscopeCodecs   — one file per ggml block family: layout, decode, quantize; value verification
//   QuantscopeAnalysis — metrics, reference resolution and name mapping, recipes, planning, requantization
// and one thin executable, `quantscope`, built on swift-argument-parser.
import PackageDescription

let package = Package(
  name: "quantscope",
  products: [
    .library(name: "QuantscopeFormats", targets: ["QuantscopeFormats"]),
    .library(name: "QuantscopeCodecs", targets: ["QuantscopeCodecs"]),
    .library(name: "QuantscopeAnalysis", targets: ["QuantscopeAnalysis"]),
    .executable(name: "quantscope", targets: ["quantscope"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
  ],
  targets: [
    // C libraries from Debian.
    .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
    .systemLibrary(name: "CXXHash", pkgConfig: "libxxhash", providers: [.apt(["libxxhash-dev"])]),

    // Core library.
    .target(name: "QuantscopeFormats", dependencies: ["CZstd", "CXXHash"]),
    .target(name: "QuantscopeCodecs", dependencies: ["QuantscopeFormats", "CDecodeKernels"]),
    // AVX2 decode kernels the codecs pick at run time (C: Swift has no per-function target features).
    .target(name: "CDecodeKernels"),
    .target(name: "QuantscopeAnalysis", dependencies: ["QuantscopeFormats", "QuantscopeCodecs", "CMetricKernels"]),
    // The metric loop of diff, in C for its run-time AVX choice (bit-identical to the SSE2 build).
    .target(name: "CMetricKernels"),

    // Tools.
    .executableTarget(
      name: "quantscope",
      dependencies: [
        "QuantscopeFormats", "QuantscopeCodecs", "QuantscopeAnalysis",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      plugins: ["BuildCommit"]),
    // `quantscope --version` names the git commit it was built from.
    .plugin(name: "BuildCommit", capability: .buildTool()),
    .executableTarget(
      name: "quantscope-bench",
      dependencies: [
        "QuantscopeFormats", "QuantscopeCodecs", "QuantscopeAnalysis", "CMetricKernels",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),

    // Tests.
    .target(name: "QuantscopeTestSupport", dependencies: ["QuantscopeFormats"], path: "Tests/Support"),
    // The GGUF verifier (Codecs) reports on the malformed layouts the format tests build.
    .testTarget(
      name: "QuantscopeFormatsTests", dependencies: ["QuantscopeFormats", "QuantscopeCodecs", "QuantscopeTestSupport"]),
    .testTarget(name: "QuantscopeCodecsTests", dependencies: ["QuantscopeCodecs", "QuantscopeTestSupport"]),
    .testTarget(name: "QuantscopeAnalysisTests", dependencies: ["QuantscopeAnalysis", "QuantscopeTestSupport"]),
    .testTarget(name: "QuantscopeCLITests", dependencies: ["quantscope", "QuantscopeTestSupport"]),
  ]
)
