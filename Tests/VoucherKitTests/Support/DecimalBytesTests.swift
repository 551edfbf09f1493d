import Testing
import VoucherKit

@Suite("Decimal digits written as bytes")
struct DecimalBytesTests {
  @Test("appendDecimal writes what String(value) prints, for the edges and 100,000 random values")
  func matchesText() {
    var generator = SystemRandomNumberGenerator()
    let edges = [0, 1, 9, 10, 99, 100, 999, 1000, -1, -10, Int.max, Int.min, Int(Int32.max)]
    let values = edges + (0..<100_000).map { _ in Int.random(in: .min ... .max, using: &generator) }
      + (0..<1_000).map { _ in Int.random(in: -10_000...10_000, using: &generator) }
    for value in values {
      var out: [UInt8] = [0x41]
      out.appendDecimal(value)
      #expect(out == [0x41] + Array(String(value).utf8), "\(value)")
    }
  }
}
