import QuantscopeCodecs
import QuantscopeFormats
import Testing

/// The run-time-chosen decoders (AVX2 on CPUs that have it) against the portable Swift loops
/// they replace, bit for bit, on arbitrary bytes: every quant pattern, NaN, infinite and
/// subnormal scales. The golden and layout-formula tests check the registered decoders against
/// independent references; this suite makes sure the path a CPU without AVX2 takes is checked
/// too, whichever path this machine runs, and covers the streaming-store path of large outputs.
@Suite("Decode kernels: run-time choice against the portable loops")
struct DecodeKernelTests {
  /// A type whose decoder dispatches at run time, with its portable loop.
  struct Case: Sendable, CustomTestStringConvertible {
    let type: GGMLType
    let portable: BlockCodec.Decode
    var testDescription: String { type.name }
  }

  static let cases: [Case] = [
    Case(type: .q8_0, portable: { LegacyQuants.portableDecodeQ8_0($0, $1, $2) }),
    Case(type: .q8_1, portable: { LegacyQuants.portableDecodeQ8_1($0, $1, $2) }),
    Case(type: .q4_K, portable: { KQuants.portableDecodeQ4_K($0, $1, $2) }),
    Case(type: .q5_K, portable: { KQuants.portableDecodeQ5_K($0, $1, $2) }),
    Case(type: .tq1_0, portable: { TernaryQuants.portableDecodeTQ1_0($0, $1, $2) }),
    Case(type: .iq1_s, portable: { IQuants.portableDecodeIQ1_S($0, $1, $2) }),
    Case(type: .iq1_m, portable: { IQuants.portableDecodeIQ1_M($0, $1, $2) }),
    Case(type: .iq2_xxs, portable: { IQuants.portableDecodeIQ2_XXS($0, $1, $2) }),
    Case(type: .iq2_xs, portable: { IQuants.portableDecodeIQ2_XS($0, $1, $2) }),
    Case(type: .iq2_s, portable: { IQuants.portableDecodeIQ2_S($0, $1, $2) }),
    Case(type: .bf16, portable: { ScalarTypes.portableDecodeBF16($0, $1, $2) }),
  ]

  /// `count` bytes from a SplitMix-style generator, seeded per type.
  static func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed
    return (0..<count).map { _ in
      state &+= 0x9e37_79b9_7f4a_7c15
      var z = state
      z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
      z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
      return UInt8(truncatingIfNeeded: z ^ (z >> 31))
    }
  }

  /// Decodes `blocks` blocks of `bytes` with `decode` into a buffer whose first float is
  /// `offset` floats past a 64-byte boundary; returns the float bits.
  static func decodeBits(_ decode: BlockCodec.Decode, _ bytes: [UInt8], blocks: Int, elements: Int, offset: Int)
    -> [UInt32]
  {
    let raw = UnsafeMutableRawPointer.allocate(byteCount: (elements + offset) * 4, alignment: 64)
    defer { raw.deallocate() }
    let out = raw.bindMemory(to: Float.self, capacity: elements + offset) + offset
    out.initialize(repeating: 0, count: elements)
    bytes.withUnsafeBytes { decode($0.baseAddress!, blocks, out) }
    return (0..<elements).map { out[$0].bitPattern }
  }

  @Test(arguments: cases)
  func `arbitrary bytes decode to the portable loop's bits`(c: Case) throws {
    let codec = try #require(Codecs.codec(for: c.type))
    let blocks = 300
    var bytes = Self.randomBytes(blocks * c.type.blockBytes, seed: 0x5eed ^ UInt64(c.type.id))
    // Block 0: every bit set (NaN scales, all quants at their maximum); block 1: all zero.
    for i in 0..<c.type.blockBytes {
      bytes[i] = 0xff
      bytes[c.type.blockBytes + i] = 0
    }
    let elements = blocks * c.type.blockElements
    // Whole runs and odd block counts, to any alignment of the output.
    for (count, offset) in [(blocks, 0), (blocks, 1), (1, 3), (7, 0)] {
      let n = count * c.type.blockElements
      let chosen = Self.decodeBits(codec.decode, bytes, blocks: count, elements: n, offset: offset)
      let portable = Self.decodeBits(c.portable, bytes, blocks: count, elements: n, offset: offset)
      let first = chosen.indices.first { chosen[$0] != portable[$0] }
      #expect(
        first == nil,
        """
        \(c.type.name) (\(DecodeKernels.name)), \(count) blocks at +\(offset): element \(first ?? 0) is \
        \(chosen[first ?? 0]) instead of \(portable[first ?? 0])
        """)
    }
    #expect(elements == blocks * c.type.blockElements)
  }

  /// Outputs of 8 MiB and more are written with streaming stores when aligned: a separate path.
  @Test(arguments: cases)
  func `large outputs, streamed or not, decode to the portable loop's bits`(c: Case) throws {
    let codec = try #require(Codecs.codec(for: c.type))
    let blocks = (9 << 20) / 4 / c.type.blockElements
    let tile = Self.randomBytes(64 * c.type.blockBytes, seed: 0xb16 ^ UInt64(c.type.id))
    var bytes = [UInt8]()
    bytes.reserveCapacity(blocks * c.type.blockBytes)
    while bytes.count < blocks * c.type.blockBytes { bytes += tile }
    bytes.removeLast(bytes.count - blocks * c.type.blockBytes)
    let elements = blocks * c.type.blockElements
    let portable = Self.decodeBits(c.portable, bytes, blocks: blocks, elements: elements, offset: 0)
    for offset in [0, 1] {
      let chosen = Self.decodeBits(codec.decode, bytes, blocks: blocks, elements: elements, offset: offset)
      // The first difference only: printing millions of floats would bury the message.
      let first = chosen.indices.first { chosen[$0] != portable[$0] }
      #expect(
        first == nil,
        "\(c.type.name) (\(DecodeKernels.name)), output at +\(offset) floats: first difference at \(first ?? 0)")
    }
  }
}
