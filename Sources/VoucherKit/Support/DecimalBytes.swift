extension Array where Element == UInt8 {
  /// Appends a whole number in decimal ASCII, without making text of it (answers and export
  /// rows written as bytes).
  public mutating func appendDecimal(_ value: Int) {
    if value < 0 { append(0x2D) }
    var rest = value.magnitude
    // Up to 20 digits: reversed into a stack buffer, then copied in order.
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
      var count = 0
      repeat {
        digits[count] = UInt8(truncatingIfNeeded: 0x30 + rest % 10)
        rest /= 10
        count += 1
      } while rest > 0
      for index in stride(from: count - 1, through: 0, by: -1) { append(digits[index]) }
    }
  }
}
