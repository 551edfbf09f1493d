/// Crockford's base32 alphabet: `0-9 A-Z` without `I L O U`, so that no two symbols look alike.
enum Crockford {
  /// The 32 symbols, value order.
  static let alphabet: [UInt8] = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

  /// Marks a byte that is not a symbol in ``decodeTable``.
  static let invalid: UInt8 = 0xFF
  /// Marks a separator that typed input may contain anywhere (space, `-`, `.`, `_`).
  static let separator: UInt8 = 0xFE

  /// Symbol value for each ASCII byte: upper and lower case, `O` read as `0`, `I` and `L` as `1`.
  static let decodeTable: [UInt8] = {
    var table = [UInt8](repeating: invalid, count: 256)
    for (value, symbol) in alphabet.enumerated() {
      table[Int(symbol)] = UInt8(value)
      if symbol >= 0x41 { table[Int(symbol) + 0x20] = UInt8(value) }
    }
    for (letter, value) in [("O", 0), ("I", 1), ("L", 1)] {
      let byte = Int(letter.utf8.first!)
      table[byte] = UInt8(value)
      table[byte + 0x20] = UInt8(value)
    }
    for byte in " -._".utf8 { table[Int(byte)] = separator }
    return table
  }()
}
