import QuantscopeFormats
import Testing

/// Sizes as people write them: decimal and binary units kept apart, checked arithmetic.
@Suite("byte sizes")
struct ByteSizeTests {
  @Test func `decimal and binary units are distinct`() throws {
    #expect(try ByteSize(parsing: "50G").bytes == 50_000_000_000)
    #expect(try ByteSize(parsing: "50GB").bytes == 50_000_000_000)
    #expect(try ByteSize(parsing: "50gb").bytes == 50_000_000_000)
    #expect(try ByteSize(parsing: "48GiB").bytes == 48 << 30)
    #expect(try ByteSize(parsing: "48Gi").bytes == 48 << 30)
    #expect(try ByteSize(parsing: "500M").bytes == 500_000_000)
    #expect(try ByteSize(parsing: "500MiB").bytes == 500 << 20)
    #expect(try ByteSize(parsing: "1K").bytes == 1000)
    #expect(try ByteSize(parsing: "1KiB").bytes == 1024)
    #expect(try ByteSize(parsing: "2T").bytes == 2_000_000_000_000)
    #expect(try ByteSize(parsing: "2TiB").bytes == 2 << 40)
    #expect(try ByteSize(parsing: "4300000").bytes == 4_300_000)
    #expect(try ByteSize(parsing: "7B").bytes == 7)
    #expect(try ByteSize(parsing: "48gib").unit == .gibibytes)
    #expect(try ByteSize(parsing: "48gib").description == "48GiB")
    #expect(try ByteSize(parsing: "50g").description == "50GB")
    #expect(ByteSize.parse("50G") == 50_000_000_000)
  }

  @Test(arguments: [
    "10000000000G", "99999999999999999999", "9000000TiB", "-5", "0", "0GiB", "1.5G", "+7", "", "G", "50 GB", "50GX",
    "50Gb ", "5e9",
  ])
  func `a size that overflows or is not a size is refused, never a trap`(_ text: String) {
    #expect(throws: ByteSize.ParseError.self, "\(text)") { try ByteSize(parsing: text) }
    #expect(ByteSize.parse(text) == nil)
  }

  @Test func `sizes for people pick the binary unit that fits, up to GiB`() {
    #expect(ByteSize.describe(0) == "0 B")
    #expect(ByteSize.describe(1023) == "1023 B")
    #expect(ByteSize.describe(1024) == "1.00 KiB")
    #expect(ByteSize.describe(-1536) == "-1.50 KiB")
    #expect(ByteSize.describe(8_409_088) == "8.02 MiB")
    #expect(ByteSize.describe(301_105_954_816) == "280.43 GiB")
    #expect(ByteSize.describe(3 << 40) == "3072.00 GiB", "GiB is the largest unit, as the paper's figures are")
  }

  @Test func `errors say why`() throws {
    let overflow = try #require(throws: ByteSize.ParseError.self) { try ByteSize(parsing: "10000000000G") }
    #expect(overflow.reason.contains("more than 9223372036854775807 bytes"))
    let unit = try #require(throws: ByteSize.ParseError.self) { try ByteSize(parsing: "50GX") }
    #expect(unit.description.contains("unknown unit 'GX'"))
    #expect(unit.description.contains("GiB"))
    let zero = try #require(throws: ByteSize.ParseError.self) { try ByteSize(parsing: "0") }
    #expect(zero.reason == "a size must be positive")
    #expect(throws: ByteSize.ParseError.self) { try ByteSize(Int.max / 2, .kibibytes) }
    #expect(try ByteSize(3, .mebibytes).bytes == 3 << 20)
  }
}
