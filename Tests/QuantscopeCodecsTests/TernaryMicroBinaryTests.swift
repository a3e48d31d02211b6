import Foundation
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

@testable import QuantscopeCodecs

@Suite("Ternary, microscaling and binary quants")
struct TernaryMicroBinaryTests {
  static let types: [GGMLType] = [.tq1_0, .tq2_0, .mxfp4, .nvfp4, .q1_0, .q2_0]

  @Test(arguments: IQGoldenCase.cases(types))
  func `decodes ggml's golden blocks bit-exactly`(_ c: IQGoldenCase) throws {
    try IQGoldenFiles.expectDecodeMatches(c)
  }
}

@Suite("Ternary, microscaling and binary quantizers")
struct TernaryMicroBinaryQuantizerTests {
  @Test(arguments: IQGoldenCase.cases(TernaryMicroBinaryTests.types))
  func `quantize like ggml`(_ c: IQGoldenCase) throws {
    try IQGoldenFiles.expectQuantizeMatches(c, importance: false)
  }

  /// ggml ignores the imatrix for these types: the `.im` tensors must come out the same.
  @Test(arguments: IQGoldenCase.cases(TernaryMicroBinaryTests.types).filter(\.hasImportance))
  func `quantize like ggml with an imatrix`(_ c: IQGoldenCase) throws {
    try IQGoldenFiles.expectQuantizeMatches(c, importance: true)
  }
}
