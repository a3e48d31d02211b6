import Foundation
import Testing

@testable import QuantscopeCodecs

/// A plain SHA-256 (FIPS 180-4) for checking table transcriptions; Foundation on Linux has no
/// CryptoKit. Checked against the standard test vectors below.
enum IQSHA256 {
  private static let k: [UInt32] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
  ]

  /// The hex digest of `message`.
  static func hex(_ message: [UInt8]) -> String {
    var h: [UInt32] = [
      0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    ]
    var data = message
    data.append(0x80)
    while data.count % 64 != 56 { data.append(0) }
    let bitLength = UInt64(message.count) * 8
    for i in (0..<8).reversed() { data.append(UInt8(truncatingIfNeeded: bitLength >> (8 * UInt64(i)))) }
    func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
    var w = [UInt32](repeating: 0, count: 64)
    for chunk in stride(from: 0, to: data.count, by: 64) {
      for i in 0..<16 {
        w[i] = (0..<4).reduce(0) { $0 << 8 | UInt32(data[chunk + 4 * i + $1]) }
      }
      for i in 16..<64 {
        let s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
        let s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
        w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
      }
      var (a, b, c, d, e, f, g, hh) = (h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7])
      for i in 0..<64 {
        let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
        let ch = (e & f) ^ (~e & g)
        let t1 = hh &+ s1 &+ ch &+ k[i] &+ w[i]
        let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
        let maj = (a & b) ^ (a & c) ^ (b & c)
        let t2 = s0 &+ maj
        (hh, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
      }
      for (i, v) in [a, b, c, d, e, f, g, hh].enumerated() { h[i] = h[i] &+ v }
    }
    return h.map { String(format: "%08x", $0) }.joined()
  }

  /// The digest of the little-endian bytes of `values`.
  static func hex<T: FixedWidthInteger>(littleEndian values: [T]) -> String {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(values.count * MemoryLayout<T>.size)
    for v in values {
      for i in 0..<MemoryLayout<T>.size { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) }
    }
    return hex(bytes)
  }

  /// The digest of the little-endian bytes of f32 `values`.
  static func hex(floats values: [Float]) -> String { hex(littleEndian: values.map(\.bitPattern)) }
}

@Suite("IQ lookup tables")
struct IQGridTests {
  @Test func `SHA-256 matches the standard test vectors`() {
    #expect(IQSHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    #expect(IQSHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    #expect(
      IQSHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
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
      self.digest = { IQSHA256.hex(littleEndian: table) }
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
    #expect(IQSHA256.hex(floats: IQKnownAnswer.a) == "51404e782f0412248bc8beed7a061606abbecdf5c1661188e6194797ec2cb3a6")
    #expect(IQSHA256.hex(floats: IQKnownAnswer.b) == "37cff8c780a7340e0c1a5cee46b8a7adbfff79e3bbaa7ec56eb372e532677b58")
    #expect(IQSHA256.hex(floats: IQKnownAnswer.c) == "4af13a98fd06648c809447583617b4d188853eabdc8c3d241355847debd4ad40")
    #expect(
      IQSHA256.hex(floats: IQKnownAnswer.importance)
        == "bdc8da1d271d15a04b9b716542f3e3ec92391d7ee743d80b967c8354a60cbc23")
  }
}
