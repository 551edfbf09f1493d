/// A QR code (ISO/IEC 18004, Model 2) of a text: the smallest version that holds it at the error
/// correction level asked for, with the mask of lowest penalty.
///
/// ```swift
/// let qr = try QRCode("HTTPS://SHOP.EXAMPLE/R/0K7M-Q8PD-2XWA-9HTE")   // level M
/// print(qr.version, qr.mask)                                          // 3 and a mask
/// let svg = qr.svg()                                                  // one path, quiet zone
/// ```
///
/// The encoder is the standard's, step by step: one segment in numeric, alphanumeric or byte
/// mode; terminator and pad codewords; Reed-Solomon blocks over GF(256), interleaved; the
/// function patterns; the codewords placed in the zigzag; each of the eight masks scored by the
/// four penalty rules; format and version information. <doc:QRCodes> has the details.
public struct QRCode: Sendable, Hashable {
  /// The version, 1 to 40: the symbol is 17 + 4 × version modules a side.
  public let version: Int
  /// The error correction level.
  public let level: QRErrorCorrection
  /// The data mask, 0 to 7.
  public let mask: Int
  /// Modules per side, without the quiet zone.
  public var size: Int { QRTables.size(version) }
  /// Row-major modules, `true` for dark.
  let modules: [Bool]

  /// Encodes a text.
  ///
  /// - Parameters:
  ///   - text: The text; numeric or alphanumeric mode when every character fits, else its UTF-8
  ///     bytes.
  ///   - level: The error correction level.
  ///   - mask: A mask to use instead of the one of lowest penalty (for tests against other
  ///     encoders).
  /// - Throws: ``QRCodeError/tooLong(bytes:level:)`` when the text does not fit version 40, and
  ///   ``QRCodeError/invalidMask(_:)``.
  public init(_ text: String, level: QRErrorCorrection = .medium, mask: Int? = nil)
    throws(QRCodeError)
  {
    if let mask, !(0...7).contains(mask) { throw .invalidMask(mask) }
    let segment = QRSegment(text)
    guard
      let version = (1...40).first(where: { version in
        segment.bitLength(version).map { $0 <= QRTables.dataCodewords(version, level) * 8 }
          ?? false
      })
    else {
      throw .tooLong(bytes: text.utf8.count, level: level)
    }
    let codewords = Self.interleaved(
      Self.dataCodewords(segment, version: version, level: level), version: version, level: level)
    var matrix = QRMatrix(version: version)
    matrix.drawFunctionPatterns()
    matrix.place(codewords)
    // Each mask is scored with its format information drawn; the first of the lowest wins.
    let candidates = (mask.map { [$0] } ?? Array(0...7)).map { matrix.masked($0, level: level) }
    let penalties = candidates.count == 1 ? [0] : candidates.map(\.penalty)
    let best = penalties.indices.min { penalties[$0] < penalties[$1] }!
    self.version = version
    self.level = level
    self.mask = mask ?? best
    modules = candidates[best].modules
  }

  /// Whether the module at column `x`, row `y` is dark; outside the symbol (the quiet zone) is
  /// light.
  public subscript(x: Int, y: Int) -> Bool {
    guard (0..<size).contains(x), (0..<size).contains(y) else { return false }
    return modules[y * size + x]
  }

  /// The data codewords: mode, count, data, terminator, bit padding, then the pad codewords
  /// 0xEC and 0x11 in turn.
  static func dataCodewords(_ segment: QRSegment, version: Int, level: QRErrorCorrection)
    -> [UInt8]
  {
    let capacity = QRTables.dataCodewords(version, level) * 8
    var bits = QRBits()
    bits.append(segment.mode.indicator, count: 4)
    bits.append(segment.count, count: segment.mode.countBits(version))
    bits.append(segment.data)
    bits.append(0, count: min(4, capacity - bits.count))
    bits.append(0, count: (8 - bits.count % 8) % 8)
    var bytes = bits.bytes
    var pad: UInt8 = 0xEC
    while bytes.count * 8 < capacity {
      bytes.append(pad)
      pad ^= 0xEC ^ 0x11
    }
    return bytes
  }

  /// The final codeword sequence: the data split into blocks (the shorter ones first), each
  /// block's error correction computed, then data codewords taken column by column across the
  /// blocks, then error correction codewords likewise.
  static func interleaved(_ data: [UInt8], version: Int, level: QRErrorCorrection) -> [UInt8] {
    let blockCount = QRTables.blocks[level.index][version]
    let eccLength = QRTables.eccPerBlock[level.index][version]
    let total = QRTables.codewords(version)
    let longBlocks = total % blockCount
    let shortData = total / blockCount - eccLength
    let generator = ReedSolomon.generator(degree: eccLength)
    var blocks: [ArraySlice<UInt8>] = []
    var eccs: [[UInt8]] = []
    var start = 0
    for index in 0..<blockCount {
      let length = shortData + (index >= blockCount - longBlocks ? 1 : 0)
      let block = data[start..<start + length]
      blocks.append(block)
      eccs.append(ReedSolomon.remainder(block, generator: generator))
      start += length
    }
    var result: [UInt8] = []
    result.reserveCapacity(total)
    for column in 0...shortData {
      for block in blocks where column < block.count {
        result.append(block[block.startIndex + column])
      }
    }
    for column in 0..<eccLength {
      for ecc in eccs { result.append(ecc[column]) }
    }
    return result
  }
}
