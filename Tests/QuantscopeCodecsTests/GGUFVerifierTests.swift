import Foundation
import QuantscopeCodecs
import QuantscopeFormats
import QuantscopeTestSupport
import Testing

@Suite("GGUF verifier")
struct GGUFVerifierTests {
  /// Three F32 tensors of 8 values (32 bytes each) at the given relative offsets.
  func threeTensors(offsets: [UInt64], fileData: Int = 96) throws -> (GGUFFile, [Int]) {
    var r = RawGGUF()
    r.header(tensors: 3, kvs: 0)
    var infoAt: [Int] = []
    for (i, o) in offsets.enumerated() { infoAt.append(r.info("t\(i)", ne: [8], type: 0, offset: o)) }
    r.pad()
    r.zeros(fileData)
    return (try GGUFFile(path: try writeTemp(r.bytes), allowDataOutOfBounds: true), infoAt)
  }

  @Test func `clean layout has no findings`() throws {
    let (g, _) = try threeTensors(offsets: [0, 32, 64])
    #expect(GGUFVerifier().structure(of: g).isEmpty)
    #expect(try GGUFVerifier(deep: true).values(of: g).isEmpty)
  }

  @Test func `overlapping data`() throws {
    let (g, infoAt) = try threeTensors(offsets: [0, 16, 64])
    let f = GGUFVerifier().structure(of: g)
    let overlap = try #require(f.first { $0.kind == .overlap })
    #expect(overlap.tensor == "t1")
    #expect(overlap.message.contains("t0 by 16 bytes"))
    #expect(overlap.offset == g.dataStart + 16)
    // t1 breaks contiguity (expected 32) and alignment; t2 is where gguf.cpp expects it.
    #expect(f.contains { $0.kind == .offsetOrder && $0.tensor == "t1" && $0.offset == infoAt[1] })
    #expect(f.contains { $0.kind == .misaligned && $0.tensor == "t1" })
    #expect(!f.contains { $0.tensor == "t2" })
  }

  @Test func `out-of-order offsets`() throws {
    let (g, _) = try threeTensors(offsets: [32, 0, 64])
    let f = GGUFVerifier().structure(of: g)
    #expect(f.map(\.kind) == [.offsetOrder, .offsetOrder])
    #expect(f.map(\.tensor) == ["t0", "t1"])
    #expect(f[0].message.contains("offset 32, expected 0"))
    #expect(f[1].message.contains("offset 0, expected 32"))
  }

  @Test func `out-of-bounds data is reported, not thrown`() throws {
    let (g, _) = try threeTensors(offsets: [0, 32, 64], fileData: 80)
    let f = GGUFVerifier().structure(of: g)
    #expect(f.map(\.kind) == [.outOfBounds])
    #expect(f.first?.tensor == "t2")
    #expect(throws: FormatError.self) { _ = try g.tensors[2].bytes() }
  }

  @Test func `NaN in an F32 tensor is found with its element index`() throws {
    var data = [Float](repeating: 1, count: 64)
    data[37] = .nan
    data[50] = -.infinity
    let bytes = try writeGGUF(
      metadata: [], tensors: [(try GGUFTensorDeclaration(name: "w", type: .f32, ne: [64]), data.flatMap(le))])
    let g = try GGUFFile(path: try writeTemp(bytes))
    let f = try GGUFVerifier(deep: true).values(of: g)
    #expect(f.map(\.kind) == [.nonFiniteValue, .nonFiniteValue])
    #expect(f.map(\.block) == [37, 50])
    #expect(f.map(\.tensor) == ["w", "w"])
    #expect(f[0].message.contains("NaN"))
    #expect(f[1].message.contains("-Inf"))
    #expect(f[0].offset == g.tensors[0].dataOffset + 37 * 4)
  }

  @Test func `NaN in a Q8_0 block scale is found with its block index`() throws {
    var q8: [UInt8] = []
    for b in 0..<6 {
      q8 += b == 3 ? [0x00, 0x7E] : (b == 5 ? [0x00, 0xFC] : [0x00, 0x3C])  // NaN, -Inf, 1.0
      q8 += [UInt8](repeating: 1, count: 32)
    }
    let bytes = try writeGGUF(
      metadata: [], tensors: [(try GGUFTensorDeclaration(name: "blk.0.ffn_down.weight", type: .q8_0, ne: [64, 3]), q8)])
    let g = try GGUFFile(path: try writeTemp(bytes))
    let f = try GGUFVerifier(deep: true).values(of: g)
    #expect(f.map(\.block) == [3, 5])
    #expect(f.allSatisfy { $0.kind == .nonFiniteScale && $0.tensor == "blk.0.ffn_down.weight" })
    #expect(f[0].message.contains("scale d is NaN"))
    #expect(f[0].offset == g.tensors[0].dataOffset + 3 * 34)
    #expect(GGUFVerifier(deep: false).structure(of: g).isEmpty)
  }

  @Test func `scale fields of K-quants, IQ1_M and MXFP4`() throws {
    // Q4_K dmin at offset 2, Q6_K d at 208, Q2_K dmin at 82.
    #expect(GGMLType.q4_K.scaleFields.map(\.offset) == [0, 2])
    #expect(GGMLType.q6_K.scaleFields.map(\.offset) == [208])
    #expect(GGMLType.q2_K.scaleFields.map(\.name) == ["d", "dmin"])
    for type in GGMLType.allUsable {
      for field in type.scaleFields {
        #expect(field.offset + (field.encoding == .f32 ? 4 : field.encoding == .e8m0 ? 1 : 2) <= type.blockBytes)
      }
    }
    var q4k = [UInt8](repeating: 0, count: 144 * 2)
    q4k[144 + 2] = 0x00
    q4k[144 + 3] = 0x7C  // block 1 dmin = +Inf
    var iq1m = [UInt8](repeating: 0, count: 56)
    // Super-scale nibbles 0x7E00 → NaN: w1 top nibble 0xE → bits 4..7 → 0x00E0?; build from parts:
    // f16 bits = (w0>>12) | ((w1>>8)&0xF0) | ((w2>>4)&0xF00) | (w3&0xF000); want 0x7E00.
    iq1m[48 + 4 + 1] = 0xE0  // w2 = 0xE000 → 0x0E00
    iq1m[48 + 6 + 1] = 0x70  // w3 = 0x7000 → 0x7000
    var mx = [UInt8](repeating: 0, count: 17 * 2)
    mx[17] = 0xFF
    let bytes = try writeGGUF(
      metadata: [],
      tensors: [
        (try GGUFTensorDeclaration(name: "k", type: .q4_K, ne: [512]), q4k),
        (try GGUFTensorDeclaration(name: "m", type: .iq1_m, ne: [256]), iq1m),
        (try GGUFTensorDeclaration(name: "x", type: .mxfp4, ne: [64]), mx),
      ])
    let g = try GGUFFile(path: try writeTemp(bytes))
    let f = try GGUFVerifier(deep: true).values(of: g)
    #expect(f.map(\.tensor) == ["k", "m", "x"])
    #expect(f.map(\.block) == [1, 0, 1])
    #expect(f[0].message.contains("dmin is +Inf"))
    #expect(f[1].message.contains("NaN"))
    #expect(f[2].message.contains("E8M0"))
  }

  @Test func `many bad values are summarised`() throws {
    let data = [Float](repeating: .nan, count: 32)
    let bytes = try writeGGUF(
      metadata: [], tensors: [(try GGUFTensorDeclaration(name: "w", type: .f32, ne: [32]), data.flatMap(le))])
    let g = try GGUFFile(path: try writeTemp(bytes))
    let f = try GGUFVerifier(deep: true, maxValueFindingsPerTensor: 4).values(of: g)
    #expect(f.count == 5)
    #expect(f.last?.kind == .more)
    #expect(f.last?.message.hasPrefix("28 more") == true)
  }

  @Test func `big-endian F16 values are checked in their byte order`() throws {
    var r = RawGGUF()
    r.bigEndian = true
    r.header(tensors: 1, kvs: 0)
    r.info("h", ne: [4], type: 1, offset: 0)
    r.pad()
    // 0x7C00 (+Inf) big-endian at element 2; 0x007C read little-endian would be finite.
    r.bytes += [0x3C, 0x00, 0x00, 0x7C, 0x7C, 0x00, 0x3C, 0x00]
    r.pad()
    let g = try GGUFFile(path: try writeTemp(r.bytes))
    let f = try GGUFVerifier(deep: true).values(of: g)
    #expect(f.map(\.block) == [2])
  }
}

func le(_ x: Float) -> [UInt8] { withUnsafeBytes(of: x.bitPattern.littleEndian) { Array($0) } }
