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
