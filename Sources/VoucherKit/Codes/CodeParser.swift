/// Turns typed text into a ``VoucherCode``: the narrow, closed domain of normalisation.
enum CodeParser {
  /// Parses `text`, normalising it first (NFKC only when it is not plain ASCII).
  static func parse(_ text: some StringProtocol) throws(MalformedCode) -> VoucherCode {
    try parseChecked(text).code
  }

  /// Parses `text` and tells whether its check symbol matches, in one pass over plain ASCII.
  static func parseChecked(_ text: some StringProtocol) throws(MalformedCode) -> (
    code: VoucherCode, checkFolds: Bool
  ) {
    var string = String(text)
    switch string.withUTF8(parseASCII) {
    case .code(let code, let interim): return (code, interim == 0)
    case .malformed(let problem): throw problem
    case .needsUnicode:
      let code = try parseUnicode(string)
      return (code, code.hasValidCheck)
    }
  }

  /// What a pass over plain ASCII found.
  enum ASCIIOutcome {
    /// A code, with the Damm fold of all its symbols (0 when the check symbol matches).
    case code(VoucherCode, interim: UInt8)
    case malformed(MalformedCode)
    case needsUnicode
  }

  /// Parses plain ASCII input without allocating; answers ``ASCIIOutcome/needsUnicode`` when the
  /// input has non-ASCII bytes and needs Unicode normalisation first.
  @inline(__always)
  static func parseASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> ASCIIOutcome {
    var packed: UInt128 = 0
    var count = 0
    var interim: UInt8 = 0
    let maximum = CodeFormat.symbolCounts.upperBound
    return DammCheck.table.withUnsafeBufferPointer { damm in
      Crockford.decodeTable.withUnsafeBufferPointer { table in
        for offset in bytes.indices {
          let byte = bytes[offset]
          if byte >= 0x80 { return .needsUnicode }
          let value = table[Int(byte)]
          if value == Crockford.separator { continue }
          if value == Crockford.invalid {
            return .malformed(
              .invalidCharacter(position: offset + 1, character: Unicode.Scalar(byte)))
          }
          count += 1
          if count > maximum {
            return .malformed(.tooLong(symbols: count))
          }
          packed = packed << 5 | UInt128(value)
          interim = damm[Int(interim) << 5 | Int(value)]
        }
        do throws(MalformedCode) {
          return .code(try finish(packed: packed, count: count), interim: interim)
        } catch {
          return .malformed(error)
        }
      }
    }
  }

  /// Parses text with non-ASCII characters: each one is folded as NFKC folds it (full-width
  /// and other compatibility forms become ASCII); whatever does not fold to a symbol or separator
  /// is named by its position in the text as given.
  static func parseUnicode(_ text: String) throws(MalformedCode) -> VoucherCode {
    var packed: UInt128 = 0
    var count = 0
    for (offset, scalar) in text.unicodeScalars.enumerated() {
      var bytes: UInt32
      // NUL packs to no bytes at all, so it must not take this branch: it would vanish.
      if scalar.isASCII && scalar.value != 0 {
        bytes = scalar.value
      } else if let folded = CompatibilityFolding.fold(scalar.value) {
        bytes = folded
      } else {
        throw .invalidCharacter(position: offset + 1, character: scalar)
      }
      while bytes != 0 {
        let value = Crockford.decodeTable[Int(bytes & 0xFF)]
        bytes >>= 8
        if value == Crockford.separator { continue }
        if value == Crockford.invalid {
          throw .invalidCharacter(position: offset + 1, character: scalar)
        }
        count += 1
        if count > CodeFormat.symbolCounts.upperBound { throw .tooLong(symbols: count) }
        packed = packed << 5 | UInt128(value)
      }
    }
    return try finish(packed: packed, count: count)
  }

  @inline(__always)
  private static func finish(packed: UInt128, count: Int) throws(MalformedCode) -> VoucherCode {
    if count == 0 { throw .empty }
    guard CodeFormat.symbolCounts.contains(count) else { throw .wrongLength(symbols: count) }
    // A first symbol of Z (reserved for a later format) is read like any other: a typo that put
    // it there answers mistyped, and a well-formed code of an unknown format answers forged.
    return VoucherCode(packed: packed, count: count)
  }
}
