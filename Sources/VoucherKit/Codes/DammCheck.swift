/// The Damm check over GF(32): `x ∘ y = α·(x ⊕ y)` with modulus `x⁵ + x² + 1`.
///
/// The quasigroup is totally anti-symmetric and every weight `αʲ` differs, so one check symbol
/// catches every single-symbol substitution, every adjacent transposition, every jump
/// transposition (`abc` → `cba`) and every twin error (`aa` → `bb`). A code followed by its check
/// symbol folds to zero.
enum DammCheck {
  /// `table[x << 5 | y] = α·(x ⊕ y)`.
  static let table: [UInt8] = {
    var table = [UInt8](repeating: 0, count: 1024)
    for x in 0..<32 {
      for y in 0..<32 {
        var product = (x ^ y) << 1
        if product & 0x20 != 0 { product ^= 0x25 }
        table[x << 5 | y] = UInt8(product)
      }
    }
    return table
  }()

  /// Folds one more symbol into the running interim value.
  @inline(__always)
  static func step(_ interim: UInt8, _ symbol: UInt8) -> UInt8 {
    table.withUnsafeBufferPointer { $0[Int(interim) << 5 | Int(symbol)] }
  }

  /// Folds `count` symbol values: the check symbol of a code, or 0 for a code with its check.
  @inline(__always)
  static func fold(_ symbols: UnsafePointer<UInt8>, count: Int) -> UInt8 {
    table.withUnsafeBufferPointer { table in
      var interim: UInt8 = 0
      for index in 0..<count { interim = table[Int(interim) << 5 | Int(symbols[index])] }
      return interim
    }
  }

  /// The check symbol of `symbols` (values 0 to 31).
  static func check<S: Sequence<UInt8>>(_ symbols: S) -> UInt8 {
    symbols.reduce(0, step)
  }
}
