import CZstd

/// Streaming zstd compression over libzstd, frame by frame.
///
/// Feed input with ``compress(_:to:)`` any number of times, then ``finish(to:)`` once to end the
/// frame. Compressed bytes are handed to `sink` as they are produced; the buffer passed to
/// `sink` is valid only during the call. A compressor is used by one thread at a time.
public final class ZstdCompressor {
  private let context: OpaquePointer
  private var output: UnsafeMutableRawBufferPointer
  /// Named in errors (the output file being written, or a short label).
  public let label: String

  /// Creates a compressor.
  ///
  /// - Parameters:
  ///   - level: zstd level, 1 (fast) to 19 (small); negative levels are faster still. Default 3.
  ///   - checksum: append a 32-bit checksum of the content to the frame, so readers detect
  ///     corruption. Default `true`.
  ///   - workers: compress in this many background threads (0: in the calling thread). With
  ///     workers, `compress` returns before all input is compressed; output order is kept.
  ///   - label: named in errors.
  /// - Throws: ``FormatError`` when libzstd rejects a parameter.
  public init(level: Int32 = 3, checksum: Bool = true, workers: Int = 0, label: String = "zstd") throws {
    guard let cctx = ZSTD_createCCtx() else { throw FormatError(.io, path: label, "zstd: cannot create context") }
    context = cctx
    self.label = label
    output = .allocate(byteCount: max(ZSTD_CStreamOutSize(), 1 << 20), alignment: 64)
    try check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level), "set level \(level)")
    try check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, checksum ? 1 : 0), "set checksum flag")
    if workers > 0 {
      try check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_nbWorkers, Int32(clamping: workers)), "set \(workers) workers")
    }
  }

  deinit {
    ZSTD_freeCCtx(context)
    output.deallocate()
  }

  private func check(_ code: Int, _ what: String) throws {
    if ZSTD_isError(code) != 0 {
      throw FormatError(.io, path: label, "zstd: cannot \(what): \(String(cString: ZSTD_getErrorName(code)))")
    }
  }

  /// Compresses `input`, handing any output produced so far to `sink`.
  public func compress(_ input: UnsafeRawBufferPointer, to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
    guard input.count > 0 else { return }
    var inBuf = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
    while inBuf.pos < inBuf.size {
      _ = try step(&inBuf, ZSTD_e_continue, sink)
    }
  }

  /// Ends the frame: flushes everything still buffered (waiting for workers) to `sink`.
  /// The compressor can then start a new frame.
  public func finish(to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
    var inBuf = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
    while try step(&inBuf, ZSTD_e_end, sink) != 0 {}
  }

  /// Throws away a partly compressed frame, so the compressor can start afresh.
  public func reset() { _ = ZSTD_CCtx_reset(context, ZSTD_reset_session_only) }

  private func step(
    _ inBuf: inout ZSTD_inBuffer, _ mode: ZSTD_EndDirective, _ sink: (UnsafeRawBufferPointer) throws -> Void
  ) throws -> Int {
    var outBuf = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
    let remaining = ZSTD_compressStream2(context, &outBuf, &inBuf, mode)
    try check(remaining, "compress")
    if outBuf.pos > 0 { try sink(UnsafeRawBufferPointer(start: output.baseAddress, count: outBuf.pos)) }
    return remaining
  }

  /// Compresses `input` into one frame.
  public static func compress(
    _ input: UnsafeRawBufferPointer, level: Int32 = 3, checksum: Bool = true, workers: Int = 0
  ) throws -> [UInt8] {
    let c = try ZstdCompressor(level: level, checksum: checksum, workers: workers)
    var out: [UInt8] = []
    out.reserveCapacity(ZSTD_compressBound(input.count))
    try c.compress(input) { out.append(contentsOf: $0) }
    try c.finish { out.append(contentsOf: $0) }
    return out
  }

  /// Compresses `input` into one frame.
  public static func compress(_ input: [UInt8], level: Int32 = 3, checksum: Bool = true) throws -> [UInt8] {
    try input.withUnsafeBytes { try compress($0, level: level, checksum: checksum) }
  }
}

/// Streaming zstd decompression over libzstd, of one or more concatenated frames.
///
/// Feed compressed input with ``decompress(_:to:)`` any number of times, then call ``finish()``:
/// it throws when the input ended inside a frame. (libzstd itself does not report truncation: it
/// only returns a non-zero "more input expected" hint, which this class remembers.)
public final class ZstdDecompressor {
  private let context: OpaquePointer
  private var output: UnsafeMutableRawBufferPointer
  /// The last hint libzstd returned: 0 exactly when the input so far ends at a frame boundary.
  private var lastHint = 0
  /// Compressed bytes consumed, for error offsets.
  private var consumed = 0
  /// Named in errors (the file being read, or a short label).
  public let label: String

  /// Creates a decompressor.
  ///
  /// - Parameters:
  ///   - windowLogMax: accept frames needing windows up to `2^windowLogMax` bytes (libzstd's
  ///     default limit is 27, 128 MiB); frames written with long-distance matching may need 31.
  ///   - label: named in errors.
  public init(windowLogMax: Int32 = 31, label: String = "zstd") throws {
    guard let dctx = ZSTD_createDCtx() else { throw FormatError(.io, path: label, "zstd: cannot create context") }
    context = dctx
    self.label = label
    output = .allocate(byteCount: max(ZSTD_DStreamOutSize(), 1 << 20), alignment: 64)
    let code = ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, windowLogMax)
    if ZSTD_isError(code) != 0 {
      throw FormatError(.io, path: label, "zstd: cannot set window limit: \(String(cString: ZSTD_getErrorName(code)))")
    }
  }

  deinit {
    ZSTD_freeDCtx(context)
    output.deallocate()
  }

  /// Decompresses `input`, handing output to `sink` as it is produced.
  ///
  /// - Throws: ``FormatError`` naming ``label`` and the compressed offset for corrupt input
  ///   (bad magic, checksum mismatch, …) and whatever `sink` throws.
  public func decompress(_ input: UnsafeRawBufferPointer, to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
    var inBuf = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
    var outputWasFull = false
    // Keep going while input remains, or while the last call filled the output buffer: then
    // libzstd may hold more decoded data that did not fit.
    while inBuf.pos < inBuf.size || outputWasFull {
      var outBuf = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
      let before = inBuf.pos
      let hint = ZSTD_decompressStream(context, &outBuf, &inBuf)
      consumed += inBuf.pos - before
      if ZSTD_isError(hint) != 0 {
        throw FormatError(
          .malformed,
          path: label, "zstd: \(String(cString: ZSTD_getErrorName(hint)))", at: .byte(consumed))
      }
      lastHint = hint
      outputWasFull = outBuf.pos == outBuf.size
      if outBuf.pos > 0 { try sink(UnsafeRawBufferPointer(start: output.baseAddress, count: outBuf.pos)) }
      if !outputWasFull && inBuf.pos == before && inBuf.pos < inBuf.size && outBuf.pos == 0 {
        // No progress at all: cannot happen with a correct libzstd, but never loop forever.
        throw FormatError(.io, path: label, "zstd: decoder made no progress", at: .byte(consumed))
      }
    }
  }

  /// Checks that the input ended at a frame boundary.
  ///
  /// - Throws: ``FormatError`` when no input was given, or the last frame is incomplete.
  public func finish() throws {
    if consumed == 0 { throw FormatError(.truncated, path: label, "zstd: empty input (no frame)", at: .byte(0)) }
    if lastHint != 0 {
      throw FormatError(.truncated, path: label, "zstd: truncated frame (input ends mid-frame)", at: .byte(consumed))
    }
  }

  /// Decompresses all frames in `input`.
  public static func decompress(_ input: UnsafeRawBufferPointer, label: String = "zstd") throws -> [UInt8] {
    let d = try ZstdDecompressor(label: label)
    var out: [UInt8] = []
    try d.decompress(input) { out.append(contentsOf: $0) }
    try d.finish()
    return out
  }

  /// Decompresses all frames in `input`.
  public static func decompress(_ input: [UInt8], label: String = "zstd") throws -> [UInt8] {
    try input.withUnsafeBytes { try decompress($0, label: label) }
  }
}

/// zstd's frame magic number, as the first four bytes of a file: `28 B5 2F FD`.
public let zstdMagic: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD]
