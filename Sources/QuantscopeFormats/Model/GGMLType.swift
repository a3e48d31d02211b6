/// A ggml tensor type: the id stored in a GGUF tensor info, with its block geometry.
///
/// Every id of today's ggml (0…42) is known, including the removed ones (4, 5, 31–33, 36–38),
/// which have no block geometry and are rejected for tensor data. An id outside that range is
/// still representable, so a file with a newer type lists its other tensors.
public struct GGMLType: Hashable, Sendable, Comparable, CustomStringConvertible {
  /// The id as stored in the file.
  public let id: UInt32

  /// Creates the type with the given id, known or not.
  public init(id: UInt32) { self.id = id }

  public static func < (a: GGMLType, b: GGMLType) -> Bool { a.id < b.id }

  /// Geometry and names of one id.
  public struct Traits: Sendable {
    /// Upper-case name as gguf-py prints it (`Q4_K`).
    public let name: String
    /// Elements per block; 0 for a removed id.
    public let blockElements: Int
    /// Bytes per block; 0 for a removed id.
    public let blockBytes: Int
    /// Whether this is a block-quantized type (as opposed to a plain scalar type).
    public let isQuantized: Bool
  }

  static let table: [Traits] = [
    Traits(name: "F32", blockElements: 1, blockBytes: 4, isQuantized: false),  // 0
    Traits(name: "F16", blockElements: 1, blockBytes: 2, isQuantized: false),  // 1
    Traits(name: "Q4_0", blockElements: 32, blockBytes: 18, isQuantized: true),  // 2
    Traits(name: "Q4_1", blockElements: 32, blockBytes: 20, isQuantized: true),  // 3
    Traits(name: "Q4_2", blockElements: 0, blockBytes: 0, isQuantized: true),  // 4 removed
    Traits(name: "Q4_3", blockElements: 0, blockBytes: 0, isQuantized: true),  // 5 removed
    Traits(name: "Q5_0", blockElements: 32, blockBytes: 22, isQuantized: true),  // 6
    Traits(name: "Q5_1", blockElements: 32, blockBytes: 24, isQuantized: true),  // 7
    Traits(name: "Q8_0", blockElements: 32, blockBytes: 34, isQuantized: true),  // 8
    Traits(name: "Q8_1", blockElements: 32, blockBytes: 36, isQuantized: true),  // 9
    Traits(name: "Q2_K", blockElements: 256, blockBytes: 84, isQuantized: true),  // 10
    Traits(name: "Q3_K", blockElements: 256, blockBytes: 110, isQuantized: true),  // 11
    Traits(name: "Q4_K", blockElements: 256, blockBytes: 144, isQuantized: true),  // 12
    Traits(name: "Q5_K", blockElements: 256, blockBytes: 176, isQuantized: true),  // 13
    Traits(name: "Q6_K", blockElements: 256, blockBytes: 210, isQuantized: true),  // 14
    Traits(name: "Q8_K", blockElements: 256, blockBytes: 292, isQuantized: true),  // 15
    Traits(name: "IQ2_XXS", blockElements: 256, blockBytes: 66, isQuantized: true),  // 16
    Traits(name: "IQ2_XS", blockElements: 256, blockBytes: 74, isQuantized: true),  // 17
    Traits(name: "IQ3_XXS", blockElements: 256, blockBytes: 98, isQuantized: true),  // 18
    Traits(name: "IQ1_S", blockElements: 256, blockBytes: 50, isQuantized: true),  // 19
    Traits(name: "IQ4_NL", blockElements: 32, blockBytes: 18, isQuantized: true),  // 20
    Traits(name: "IQ3_S", blockElements: 256, blockBytes: 110, isQuantized: true),  // 21
    Traits(name: "IQ2_S", blockElements: 256, blockBytes: 82, isQuantized: true),  // 22
    Traits(name: "IQ4_XS", blockElements: 256, blockBytes: 136, isQuantized: true),  // 23
    Traits(name: "I8", blockElements: 1, blockBytes: 1, isQuantized: false),  // 24
    Traits(name: "I16", blockElements: 1, blockBytes: 2, isQuantized: false),  // 25
    Traits(name: "I32", blockElements: 1, blockBytes: 4, isQuantized: false),  // 26
    Traits(name: "I64", blockElements: 1, blockBytes: 8, isQuantized: false),  // 27
    Traits(name: "F64", blockElements: 1, blockBytes: 8, isQuantized: false),  // 28
    Traits(name: "IQ1_M", blockElements: 256, blockBytes: 56, isQuantized: true),  // 29
    Traits(name: "BF16", blockElements: 1, blockBytes: 2, isQuantized: false),  // 30
    Traits(name: "Q4_0_4_4", blockElements: 0, blockBytes: 0, isQuantized: true),  // 31 removed
    Traits(name: "Q4_0_4_8", blockElements: 0, blockBytes: 0, isQuantized: true),  // 32 removed
    Traits(name: "Q4_0_8_8", blockElements: 0, blockBytes: 0, isQuantized: true),  // 33 removed
    Traits(name: "TQ1_0", blockElements: 256, blockBytes: 54, isQuantized: true),  // 34
    Traits(name: "TQ2_0", blockElements: 256, blockBytes: 66, isQuantized: true),  // 35
    Traits(name: "IQ4_NL_4_4", blockElements: 0, blockBytes: 0, isQuantized: true),  // 36 removed
    Traits(name: "IQ4_NL_4_8", blockElements: 0, blockBytes: 0, isQuantized: true),  // 37 removed
    Traits(name: "IQ4_NL_8_8", blockElements: 0, blockBytes: 0, isQuantized: true),  // 38 removed
    Traits(name: "MXFP4", blockElements: 32, blockBytes: 17, isQuantized: true),  // 39
    Traits(name: "NVFP4", blockElements: 64, blockBytes: 36, isQuantized: true),  // 40
    Traits(name: "Q1_0", blockElements: 128, blockBytes: 18, isQuantized: true),  // 41
    Traits(name: "Q2_0", blockElements: 64, blockBytes: 18, isQuantized: true),  // 42
  ]

  /// The traits of this id, or `nil` for an id this build does not know.
  public var traits: Traits? { Int(id) < Self.table.count ? Self.table[Int(id)] : nil }

  /// Whether this id is one of today's ggml types (known and not removed).
  public var isUsable: Bool { (traits?.blockElements ?? 0) > 0 }

  /// Whether this id was once a ggml type and has been removed.
  public var isRemoved: Bool { traits.map { $0.blockElements == 0 } ?? false }

  /// Upper-case name (`Q4_K`); removed types keep their former name (`Q4_2`, see ``isRemoved``),
  /// ids this build does not know are `type99` style.
  public var name: String { traits?.name ?? "type\(id)" }

  public var description: String { name }

  /// Elements per block (0 when unknown or removed).
  public var blockElements: Int { traits?.blockElements ?? 0 }

  /// Bytes per block (0 when unknown or removed).
  public var blockBytes: Int { traits?.blockBytes ?? 0 }

  /// Whether this is a block-quantized type.
  public var isQuantized: Bool { traits?.isQuantized ?? false }

  /// Bits per weight of the type's blocks.
  public var bitsPerWeight: Double {
    blockElements == 0 ? .nan : Double(blockBytes * 8) / Double(blockElements)
  }

  /// Bytes needed for `elements` values, or `nil` when `elements` is not a whole number of
  /// blocks, the type is unusable, or the size overflows.
  public func byteCount(elements: Int) -> Int? {
    guard isUsable, elements >= 0, elements % blockElements == 0 else { return nil }
    let (bytes, overflow) = (elements / blockElements).multipliedReportingOverflow(by: blockBytes)
    return overflow ? nil : bytes
  }

  /// Looks a type up by name, case-insensitively (`q4_k`, `Q4_K`, `bf16`).
  public init?(name: String) {
    let upper = name.uppercased()
    guard let index = Self.table.firstIndex(where: { $0.name == upper && $0.blockElements > 0 }) else {
      return nil
    }
    self.id = UInt32(index)
  }

  /// Every usable type, in id order.
  public static var allUsable: [GGMLType] {
    Self.table.indices.map { GGMLType(id: UInt32($0)) }.filter(\.isUsable)
  }
}

extension GGMLType {
  public static let f32 = GGMLType(id: 0)
  public static let f16 = GGMLType(id: 1)
  public static let q4_0 = GGMLType(id: 2)
  public static let q4_1 = GGMLType(id: 3)
  public static let q5_0 = GGMLType(id: 6)
  public static let q5_1 = GGMLType(id: 7)
  public static let q8_0 = GGMLType(id: 8)
  public static let q8_1 = GGMLType(id: 9)
  public static let q2_K = GGMLType(id: 10)
  public static let q3_K = GGMLType(id: 11)
  public static let q4_K = GGMLType(id: 12)
  public static let q5_K = GGMLType(id: 13)
  public static let q6_K = GGMLType(id: 14)
  public static let q8_K = GGMLType(id: 15)
  public static let iq2_xxs = GGMLType(id: 16)
  public static let iq2_xs = GGMLType(id: 17)
  public static let iq3_xxs = GGMLType(id: 18)
  public static let iq1_s = GGMLType(id: 19)
  public static let iq4_nl = GGMLType(id: 20)
  public static let iq3_s = GGMLType(id: 21)
  public static let iq2_s = GGMLType(id: 22)
  public static let iq4_xs = GGMLType(id: 23)
  public static let i8 = GGMLType(id: 24)
  public static let i16 = GGMLType(id: 25)
  public static let i32 = GGMLType(id: 26)
  public static let i64 = GGMLType(id: 27)
  public static let f64 = GGMLType(id: 28)
  public static let iq1_m = GGMLType(id: 29)
  public static let bf16 = GGMLType(id: 30)
  public static let tq1_0 = GGMLType(id: 34)
  public static let tq2_0 = GGMLType(id: 35)
  public static let mxfp4 = GGMLType(id: 39)
  public static let nvfp4 = GGMLType(id: 40)
  public static let q1_0 = GGMLType(id: 41)
  public static let q2_0 = GGMLType(id: 42)
}
