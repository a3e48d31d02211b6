import Foundation
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

@testable import QuantscopeCodecs

@Suite("IQ quants")
struct IQuantTests {
  static let decodeTypes: [GGMLType] = [
    .iq2_xxs, .iq2_xs, .iq2_s, .iq3_xxs, .iq3_s, .iq1_s, .iq1_m, .iq4_nl, .iq4_xs,
  ]

  @Test(arguments: IQGoldenCase.cases(decodeTypes))
  func `decodes ggml's golden blocks bit-exactly`(_ c: IQGoldenCase) throws {
    try IQGoldenFiles.expectDecodeMatches(c)
  }
}

@Suite("IQ quantizers")
struct IQuantizerTests {
  @Test(arguments: IQGoldenCase.cases([.iq4_nl, .iq4_xs]))
  func `quantize like ggml without an imatrix`(_ c: IQGoldenCase) throws {
    try IQGoldenFiles.expectQuantizeMatches(c, importance: false)
  }

  @Test(arguments: IQGoldenCase.cases([.iq4_nl, .iq4_xs]))
  func `quantize like ggml with an imatrix`(_ c: IQGoldenCase) throws {
    try IQGoldenFiles.expectQuantizeMatches(c, importance: true)
  }
}
