import QuantscopeFormats

/// The audit of one candidate tensor: whether quantizing its reference with the candidate's own
/// type reproduces the candidate's bytes.
///
/// A value of its own (it carries its position in the candidate), so audits of disjoint subsets
/// of a model's tensors can be computed apart and combined in candidate order
/// (``AuditReport/init(candidate:tensors:precision:weighted:presetMatch:)`` sorts by ``index``).
public struct TensorAudit: Sendable, Equatable {
  /// What the reproduction found.
  public enum Status: String, Sendable, CaseIterable {
    /// Every block of the reproduction equals the candidate's.
    case identical
    /// At least one block differs.
    case differs
    /// The reference has no tensor this one maps to.
    case noReference = "no_reference"
    /// quantscope cannot quantize the candidate's type (no bit-exact quantizer).
    case unsupportedType = "unsupported_type"
    /// The type needs an importance matrix and none (or no entry for this tensor) was given.
    case needsImatrix = "needs_imatrix"

    /// Whether the tensor counts as reproduced.
    public var isReproduced: Bool { self == .identical }
  }

  /// The first block whose bytes differ.
  public struct Difference: Sendable, Equatable {
    /// The row (flat over every matrix of a 3-D tensor, as the candidate stores them).
    public let row: Int
    /// The block's first column.
    public let column: Int
    /// The block's index in the tensor (flat, row-major).
    public let block: Int

    /// A difference at flat block `block`.
    public init(row: Int, column: Int, block: Int) {
      self.row = row
      self.column = column
      self.block = block
    }
  }

  /// Position of the tensor in the candidate's tensor list (the combining order).
  public let index: Int
  /// GGUF tensor name.
  public let name: String
  /// The candidate's type (`Q4_K`).
  public let type: String
  /// Shape (row-major).
  public let shape: [Int]
  /// Bytes of the candidate's data.
  public let bytes: Int
  /// What the reproduction found.
  public let status: Status
  /// The reference's source tensors, when mapped.
  public let referenceOrigin: String?
  /// The source precision of the reported reproduction: the one that reproduced the tensor, or,
  /// for a differing tensor, the one with fewest differing blocks. `nil` when nothing was quantized.
  public let precision: ReferencePrecision?
  /// Blocks of the tensor (elements for F32/F16/BF16); 0 when nothing was compared.
  public let blocks: Int
  /// Blocks whose bytes differ.
  public let differingBlocks: Int
  /// The first differing block.
  public let firstDifference: Difference?
  /// Σ(candidate − reproduction)² / Σ reproduction² over the decoded values: 0 when identical,
  /// `nil` when not compared or when either side holds NaN/Inf.
  public let nmseVsReproduction: Double?
  /// Why a tensor was not compared (for `unsupported_type`, `needs_imatrix`).
  public let note: String?

  /// An audit result.
  public init(
    index: Int, name: String, type: String, shape: [Int], bytes: Int, status: Status, referenceOrigin: String?,
    precision: ReferencePrecision?, blocks: Int, differingBlocks: Int, firstDifference: Difference?,
    nmseVsReproduction: Double?, note: String?
  ) {
    self.index = index
    self.name = name
    self.type = type
    self.shape = shape
    self.bytes = bytes
    self.status = status
    self.referenceOrigin = referenceOrigin
    self.precision = precision
    self.blocks = blocks
    self.differingBlocks = differingBlocks
    self.firstDifference = firstDifference
    self.nmseVsReproduction = nmseVsReproduction
    self.note = note
  }

  /// `blk.N` index, if the tensor belongs to a block.
  public var layer: Int? { Diff.layerIndex(name) }
  /// The tensor's kind (`ffn_down_exps`).
  public var kind: String { Diff.kind(name) }
}
