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
  static let types: [GGMLType] = [.iq4_nl, .iq4_xs, .iq2_xxs, .iq2_xs, .iq2_s, .iq3_xxs, .iq3_s, .iq1_s, .iq1_m]

  @Test(arguments: IQGoldenCase.cases(types).filter(\.hasPlain))
  func `quantize like ggml without an imatrix`(_ c: IQGoldenCase) throws {
    try IQGoldenFiles.expectQuantizeMatches(c, importance: false)
  }

  @Test(arguments: IQGoldenCase.cases(types))
  func `quantize like ggml with an imatrix`(_ c: IQGoldenCase) throws {
    try IQGoldenFiles.expectQuantizeMatches(c, importance: true)
  }
}

@Suite("IQ known answers")
struct IQKnownAnswerTests {
  /// Reference §5.16 (no-FMA ggml), IQ4_NL and IQ4_XS rows.
  static let rows: [IQKnownAnswer.Row] = [
    .init(
      set: "A", type: .iq4_nl, bytes: "470a1052e30b02c9e58fbbd640178a55", floats: "4c939f9f29e9dfa03eb0755157e02d16",
      bytesWithImportance: "df7e52987d70f2b155b29551c47d8df1", floatsWithImportance: "78f2b18da4a212f48ca75c04c3ef0c1b"),
    .init(
      set: "A", type: .iq4_xs, bytes: "1457a51464505172b7cc0fe713da2f6a", floats: "74cb54ee38f137fbd61d9a679752d7de",
      bytesWithImportance: "c6aa4fbdff20cd1360712e431f68854b", floatsWithImportance: "26d205ba5a4493868b5a052a1bd2157c"),
    .init(
      set: "B", type: .iq4_nl, bytes: "726a2f6bc97792e74050adfa71e1c70b", floats: "527289498f2819a8cb7ddb933087fbec",
      bytesWithImportance: "b6f0159901485887ab23952432f5ed82", floatsWithImportance: "f37d39065ac45bce41fccdf3bc88d85e"),
    .init(
      set: "B", type: .iq4_xs, bytes: "c0a67cffb3e4e78d31ab5db1d5d5da46", floats: "c720ffc4aa38e475ea2a3f2835ab4f8a",
      bytesWithImportance: "4078ce1f2aee36909f12c2e73b8e39e8", floatsWithImportance: "05f0d7094c36fd68d5611f07e35c86f7"),
    .init(
      set: "C", type: .iq4_nl, bytes: "a2f75ca8e9eab4a6b5dda45645ea6aea", floats: "777d361b5abec492f174926050713b94",
      bytesWithImportance: "900c52b01827c5ac3498cb1627dae119", floatsWithImportance: "5a0f4b0f8dbf15ce6c43828aea09ce2e"),
    .init(
      set: "C", type: .iq4_xs, bytes: "bcec9ca1ca23bd5124f4478094ccebca", floats: "c5418f5b9fb19210d60f2cb356ae1ab2",
      bytesWithImportance: "e6c339fec672ff585f60fd73a89cdddb", floatsWithImportance: "750b3a286d97a10256c56533dd4ba9fb"),
  ]

  @Test(arguments: rows, [false, true])
  func `quantize and decode to the reference hashes`(_ row: IQKnownAnswer.Row, _ importance: Bool) throws {
    try IQKnownAnswer.expectMatches(row, importance: importance)
  }
}
