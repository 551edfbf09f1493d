/// A voucher code in canonical form: 15 to 20 Crockford base32 symbols, check symbol included.
///
/// The symbols are packed into one integer, so a code is a plain value that costs no allocation.
/// Its ``description`` is the printed form, in dash-separated groups of four:
/// `0K7M-Q8PD-2XWA-9HTE`.
public struct VoucherCode: Sendable, Hashable, CustomStringConvertible {
  /// The symbol values, 5 bits each, first symbol in the highest bits.
  let packed: UInt128
  /// How many symbols the code has.
  let count: Int

  init(packed: UInt128, count: Int) {
    self.packed = packed
    self.count = count
  }

  /// Reads a code from typed or scanned text, without checking its check symbol or signature.
  ///
  /// Text is normalised as a cashier would expect: Unicode NFKC, any case, spaces, dashes, dots
  /// and underscores ignored, `O` read as `0` and `I` or `L` as `1`.
  ///
  /// - Parameter text: The code as typed.
  /// - Throws: ``MalformedCode`` naming the first character that cannot be part of a code, or
  ///   a wrong length.
  public init(parsing text: some StringProtocol) throws(MalformedCode) {
    self = try CodeParser.parse(text)
  }

  /// The value of the symbol at `index` (0 is the key slot).
  func symbol(at index: Int) -> UInt8 {
    UInt8(truncatingIfNeeded: packed >> (5 * (count - 1 - index))) & 0x1F
  }

  /// The key slot printed in clear in the first symbol.
  var slotSymbol: UInt8 { symbol(at: 0) }

  /// The body between the slot and the check symbol.
  var body: UInt128 { (packed >> 5) & ((1 << (5 * (count - 2))) - 1) }

  /// Whether the check symbol matches the rest of the code: `false` means a typing error.
  public var hasValidCheck: Bool {
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { symbols in
      Self.unpack(packed, count: count, into: symbols.baseAddress!)
      return DammCheck.fold(symbols.baseAddress!, count: count) == 0
    }
  }

  /// Writes the `count` symbol values of `packed` to `out`, first symbol first.
  @inline(__always)
  static func unpack(_ packed: UInt128, count: Int, into out: UnsafeMutablePointer<UInt8>) {
    // Twelve symbols fit in the low 60 bits; the rest (at most eight more) in the high part.
    var low = UInt64(truncatingIfNeeded: packed) & (1 << 60 - 1)
    var high = UInt64(truncatingIfNeeded: packed >> 60)
    var index = count - 1
    while index >= 0 && index >= count - 12 {
      out[index] = UInt8(truncatingIfNeeded: low) & 0x1F
      low >>= 5
      index -= 1
    }
    while index >= 0 {
      out[index] = UInt8(truncatingIfNeeded: high) & 0x1F
      high >>= 5
      index -= 1
    }
  }

  /// The code's symbols without separators, for example `0K7MQ8PD2XWA9HTE`.
  public var symbols: String {
    String(unsafeUninitializedCapacity: count) { buffer in
      for index in 0..<count { buffer[index] = Crockford.alphabet[Int(symbol(at: index))] }
      return count
    }
  }

  /// The printed form, in dash-separated groups of four symbols.
  public var description: String {
    let length = Self.printedLength(symbols: count)
    return String(unsafeUninitializedCapacity: length) { buffer in
      write(to: UnsafeMutableRawBufferPointer(buffer).baseAddress!)
    }
  }

  /// Characters in the printed form of a code of `symbols` symbols.
  static func printedLength(symbols: Int) -> Int { symbols + (symbols - 1) / 4 }

  /// Appends the printed form to a byte buffer.
  package func appendPrinted(to bytes: inout [UInt8]) {
    let start = bytes.count
    bytes.append(contentsOf: repeatElement(0, count: Self.printedLength(symbols: count)))
    bytes.withUnsafeMutableBytes { _ = write(to: $0.baseAddress! + start) }
  }

  /// Writes the printed form at `destination` and returns how many bytes it wrote.
  @inline(__always)
  func write(to destination: UnsafeMutableRawPointer) -> Int {
    Self.write(packed: packed, count: count, to: destination)
  }

  /// Writes the printed form of packed symbols.
  static func write(packed: UInt128, count: Int, to destination: UnsafeMutableRawPointer) -> Int {
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { symbols in
      unpack(packed, count: count, into: symbols.baseAddress!)
      return Crockford.alphabet.withUnsafeBufferPointer { alphabet in
        writePrinted(
          symbols.baseAddress!, count: count, alphabet: alphabet.baseAddress!, to: destination)
      }
    }
  }

  /// Writes symbol values as printed text, a dash after every fourth; answers the bytes written.
  @inline(__always)
  static func writePrinted(
    _ symbols: UnsafePointer<UInt8>, count: Int, alphabet: UnsafePointer<UInt8>,
    to destination: UnsafeMutableRawPointer
  ) -> Int {
    var offset = 0
    for index in 0..<count {
      if index > 0 && index & 3 == 0 {
        destination.storeBytes(of: 0x2D, toByteOffset: offset, as: UInt8.self)
        offset += 1
      }
      destination.storeBytes(
        of: alphabet[Int(symbols[index])], toByteOffset: offset, as: UInt8.self)
      offset += 1
    }
    return offset
  }

  /// Assembles a code from its slot and body, appending the check symbol.
  static func assemble(slot: UInt8, body: UInt128, bodySymbols: Int) -> VoucherCode {
    let packed = UInt128(slot) << (5 * bodySymbols) | body
    let check = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { symbols in
      unpack(packed, count: bodySymbols + 1, into: symbols.baseAddress!)
      return DammCheck.fold(symbols.baseAddress!, count: bodySymbols + 1)
    }
    return VoucherCode(packed: packed << 5 | UInt128(check), count: bodySymbols + 2)
  }

  /// The code with the symbol at `index` replaced by `value`, check symbol left as it is.
  func replacing(symbolAt index: Int, with value: UInt8) -> VoucherCode {
    let shift = 5 * (count - 1 - index)
    let cleared = packed & ~(UInt128(0x1F) << shift)
    return VoucherCode(packed: cleared | UInt128(value) << shift, count: count)
  }
}
