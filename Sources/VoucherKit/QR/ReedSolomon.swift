/// Reed-Solomon error correction over GF(256) as QR codes use it: the field of polynomials over
/// GF(2) modulo x⁸ + x⁴ + x³ + x² + 1 (0x11D), generator roots α⁰ ... α^(n−1) with α = 2.
enum ReedSolomon {
  /// α^i for i in 0..<255, then repeated so that a sum of two logarithms indexes it directly.
  static let exp: [UInt8] = {
    var table = [UInt8](repeating: 0, count: 512)
    var value = 1
    for index in 0..<255 {
      table[index] = UInt8(value)
      value <<= 1
      if value & 0x100 != 0 { value ^= 0x11D }
    }
    for index in 255..<512 { table[index] = table[index - 255] }
    return table
  }()

  /// log_α(v) for v in 1...255 (index 0 unused).
  static let log: [Int] = {
    var table = [Int](repeating: 0, count: 256)
    for index in 0..<255 { table[Int(exp[index])] = index }
    return table
  }()

  /// The product of two field elements.
  static func multiply(_ a: UInt8, _ b: UInt8) -> UInt8 {
    a == 0 || b == 0 ? 0 : exp[log[Int(a)] + log[Int(b)]]
  }

  /// The generator polynomial of `degree`, ∏ (x − αⁱ) for i in 0..<degree, as its coefficients
  /// from x^(degree−1) down to x⁰ (the leading 1 left out).
  static func generator(degree: Int) -> [UInt8] {
    var poly: [UInt8] = [1]  // highest power first
    for power in 0..<degree {
      let root = exp[power]
      var next = [UInt8](repeating: 0, count: poly.count + 1)
      for (index, coefficient) in poly.enumerated() {
        next[index] ^= coefficient
        next[index + 1] ^= multiply(coefficient, root)
      }
      poly = next
    }
    return Array(poly.dropFirst())
  }

  /// The error correction codewords of `data`: the remainder of data · x^degree divided by the
  /// generator.
  static func remainder(_ data: ArraySlice<UInt8>, generator: [UInt8]) -> [UInt8] {
    var result = [UInt8](repeating: 0, count: generator.count)
    for byte in data {
      let factor = byte ^ result[0]
      result.removeFirst()
      result.append(0)
      if factor != 0 {
        for index in result.indices { result[index] ^= multiply(generator[index], factor) }
      }
    }
    return result
  }
}
