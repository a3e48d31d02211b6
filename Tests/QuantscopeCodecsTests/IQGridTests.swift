import Foundation
import QuantscopeTestSupport
import Testing

@testable import QuantscopeCodecs

@Suite("IQ lookup tables")
struct IQGridTests {
  @Test func `SHA-256 matches the standard test vectors`() {
    #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    #expect(
      SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
        == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
  }

  struct Table: Sendable, CustomTestStringConvertible {
    let name: String
    let count: Int
    let digest: @Sendable () -> String
    let first: UInt64
    let last: UInt64
    let values: @Sendable () -> (first: UInt64, last: UInt64, count: Int)
    let sha256: String
    var testDescription: String { name }

    init<T: FixedWidthInteger & Sendable>(_ name: String, _ table: [T], first: UInt64, last: UInt64, _ sha256: String) {
      self.name = name
      self.count = table.count
      self.digest = { SHA256.hex(littleEndian: table) }
      self.first = first
      self.last = last
      self.values = {
        (UInt64(truncatingIfNeeded: table.first ?? 0), UInt64(truncatingIfNeeded: table.last ?? 0), table.count)
      }
      self.sha256 = sha256
    }
  }

  /// Sizes, end values and checksums from reference §4.12.
  static let tables: [Table] = [
    Table(
      "iq2xxs_grid", IQGrids.iq2xxsGrid, first: 0x0808080808080808, last: 0x2b2b2b1908081908,
      "05826b5d3e472a3a78f196be62ac78acf81df0f909626e12ab9fa2a5d490dd54"),
    Table(
      "iq2xs_grid", IQGrids.iq2xsGrid, first: 0x0808080808080808, last: 0x2b2b2b2b2b2b2b2b,
      "06e47aaca60b4dc1d9b5a3f34540437058a6b142b4d7a59d5ded769b4d1bf1de"),
    Table(
      "iq2s_grid", IQGrids.iq2sGrid, first: 0x0808080808080808, last: 0x2b2b2b2b2b2b2b2b,
      "e1aa1473412b0552c2174c30ef22ab4073f6a181b85a17056e8249bd2932fd88"),
    Table(
      "iq3xxs_grid", IQGrids.iq3xxsGrid, first: 0x04040404, last: 0x3e341c04,
      "46e35f5a997efdee6c99ce57854c8a0d4f0ff8ca57e5e8a60c0793ea580acf5d"),
    Table(
      "iq3s_grid", IQGrids.iq3sGrid, first: 0x01010101, last: 0x0f0f0101,
      "bd1af4945a1717c65610b0284e4628b9a1ba3b306fae3a06f6e5f597356e349f"),
    Table(
      "iq1s_grid", IQGrids.iq1sGrid, first: 0xffffffffffffffff, last: 0x0101010101010101,
      "07540ffc1aeaf6ad4d97e96b0fcc765aae39671d4ae4a27bbd0e796fde167c6a"),
    Table(
      "ksigns_iq2xs", IQGrids.ksignsIQ2XS, first: 0, last: 0xff,
      "a76742a603f8beca5212ecce0f1f02f11a4887fd2f7c8b15aca0ea3eb3380c31"),
    Table(
      "kmask_iq2xs", IQGrids.kmaskIQ2XS, first: 1, last: 0x80,
      "5ac9831b2e30eb285ef34f8501620f878432d5c04331ad1ae47f977a83ba41a5"),
    Table(
      "kvalues_iq4nl", IQGrids.kvaluesIQ4NL, first: UInt64(bitPattern: -127), last: 113,
      "61aa47540aa024b5d6ddaa839b84ffe59f3d5a349af5c6c7ffcb5e0474b46163"),
    Table(
      "kvalues_fp4", IQGrids.kvaluesFP4, first: 0, last: UInt64(bitPattern: -12),
      "adf76b672d47eb7fc0afd4db132d548d59d3190aa0ad118fdbf569d5fd478f97"),
  ]

  @Test(arguments: tables)
  func `table matches the reference checksum`(_ table: Table) {
    let (first, last, _) = table.values()
    #expect(first == table.first)
    #expect(last == table.last)
    #expect(table.digest() == table.sha256)
  }

  @Test func `tables have the sizes ggml declares`() {
    #expect(IQGrids.iq2xxsGrid.count == 256)
    #expect(IQGrids.iq2xsGrid.count == 512)
    #expect(IQGrids.iq2sGrid.count == 1024)
    #expect(IQGrids.iq3xxsGrid.count == 256)
    #expect(IQGrids.iq3sGrid.count == 512)
    #expect(IQGrids.iq1sGrid.count == 2048)
    #expect(IQGrids.ksignsIQ2XS.count == 128)
    #expect(IQGrids.kmaskIQ2XS.count == 8)
    #expect(IQGrids.kvaluesIQ4NL.count == 16)
    #expect(IQGrids.kvaluesFP4.count == 16)
  }

  /// ksigns_iq2xs[s] = s | parity(s) << 7: every group of 8 has an even number of negatives.
  @Test func `sign table adds an even-parity bit`() {
    for s in 0..<128 {
      let parity = UInt8(s.nonzeroBitCount & 1)
      #expect(IQGrids.ksignsIQ2XS[s] == UInt8(s) | parity << 7)
    }
  }

  /// The grids use only the byte values the format allows (reference §4.12).
  @Test func `grid entries use only the format's byte values`() {
    func bytes(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
    for g in IQGrids.iq2xxsGrid + IQGrids.iq2xsGrid + IQGrids.iq2sGrid {
      #expect(bytes(g, 8).allSatisfy { [0x08, 0x19, 0x2b].contains($0) })
    }
    for g in IQGrids.iq1sGrid {
      #expect(bytes(g, 8).allSatisfy { [0xff, 0x00, 0x01].contains($0) })
    }
    for g in IQGrids.iq3xxsGrid {
      #expect(bytes(UInt64(g), 4).allSatisfy { [4, 12, 20, 28, 36, 44, 52, 62].contains($0) })
    }
    for g in IQGrids.iq3sGrid {
      #expect(bytes(UInt64(g), 4).allSatisfy { $0 & 1 == 1 && $0 <= 15 })
    }
    // Entries are distinct, so every index names a different point.
    #expect(Set(IQGrids.iq2sGrid).count == 1024)
    #expect(Set(IQGrids.iq1sGrid).count == 2048)
    #expect(Set(IQGrids.iq3sGrid).count == 512)
  }
}

@Suite("Known-answer inputs")
struct IQKnownAnswerInputTests {
  /// Reference §5.16 input checksums: proves the generator before any KAT relies on it.
  @Test func `inputs match the reference checksums`() {
    #expect(IQKnownAnswer.a.prefix(2).map(\.bitPattern) == [0xc016_818f, 0x3ed5_8f6e])
    #expect(SHA256.hex(floats: IQKnownAnswer.a) == "51404e782f0412248bc8beed7a061606abbecdf5c1661188e6194797ec2cb3a6")
    #expect(SHA256.hex(floats: IQKnownAnswer.b) == "37cff8c780a7340e0c1a5cee46b8a7adbfff79e3bbaa7ec56eb372e532677b58")
    #expect(SHA256.hex(floats: IQKnownAnswer.c) == "4af13a98fd06648c809447583617b4d188853eabdc8c3d241355847debd4ad40")
    #expect(
      SHA256.hex(floats: IQKnownAnswer.importance)
        == "bdc8da1d271d15a04b9b716542f3e3ec92391d7ee743d80b967c8354a60cbc23")
  }
}
