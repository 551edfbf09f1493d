import Testing
import VoucherTestSupport

@testable import VoucherKit

@Suite("Crockford base32 and the Damm check")
struct CrockfordTests {
  @Test("integer vectors from the published sources decode and encode")
  func integerVectors() throws {
    let rows = try vectorRows("crockford").filter { $0["input_type"] == "int" }
    #expect(rows.count >= 8)
    for row in rows {
      let value = UInt128(row["input"]!)!
      let encoded = row["encoded"]!
      var decoded: UInt128 = 0
      for byte in encoded.utf8 {
        decoded = decoded << 5 | UInt128(Crockford.decodeTable[Int(byte)])
      }
      #expect(decoded == value, "\(encoded)")
      var symbols: [UInt8] = []
      var rest = value
      repeat {
        symbols.insert(Crockford.alphabet[Int(rest & 31)], at: 0)
        rest >>= 5
      } while rest > 0
      #expect(String(decoding: symbols, as: UTF8.self) == encoded)
    }
  }

  @Test("reading is forgiving: any case, O as 0, I and L as 1; U is no symbol")
  func aliases() {
    for (letter, value) in [
      ("o", 0), ("O", 0), ("i", 1), ("I", 1), ("l", 1), ("L", 1), ("a", 10), ("z", 31),
    ] {
      #expect(Crockford.decodeTable[Int(letter.utf8.first!)] == UInt8(value), "\(letter)")
    }
    #expect(Crockford.decodeTable[Int(UInt8(ascii: "U"))] == Crockford.invalid)
    #expect(Crockford.decodeTable[Int(UInt8(ascii: "u"))] == Crockford.invalid)
  }

  @Test("Damm check symbols match the GF(32) vectors, and a code with its check folds to zero")
  func dammVectors() throws {
    let rows = try vectorRows("damm_gf32_crockford")
    #expect(rows.count >= 20)
    for row in rows {
      let symbols = row["input_crockford"]!.utf8.map { Crockford.decodeTable[Int($0)] }
      let check = DammCheck.check(symbols)
      #expect(
        Crockford.alphabet[Int(check)] == row["check_symbol"]!.utf8.first!,
        "\(row["input_crockford"]!)")
      #expect(DammCheck.check(symbols + [check]) == 0)
    }
  }

  @Test("the check catches every substitution, adjacent and jump transposition, and twin error")
  func dammDetection() {
    var random = SeededGenerator(seed: 32)
    for _ in 0..<2_000 {
      var word = (0..<15).map { _ in UInt8.random(in: 0..<32, using: &random) }
      word.append(DammCheck.check(word))
      for index in word.indices {
        for value in UInt8(0)..<32 where value != word[index] {
          var changed = word
          changed[index] = value
          #expect(DammCheck.check(changed) != 0)
        }
        for distance in [1, 2]
        where index + distance < word.count && word[index] != word[index + distance] {
          var swapped = word
          swapped.swapAt(index, index + distance)
          #expect(DammCheck.check(swapped) != 0, "transposition at distance \(distance)")
        }
        for distance in [1, 2]
        where index + distance < word.count && word[index] == word[index + distance] {
          for value in UInt8(0)..<32 where value != word[index] {
            var twin = word
            twin[index] = value
            twin[index + distance] = value
            #expect(DammCheck.check(twin) != 0, "twin error at distance \(distance)")
          }
        }
      }
    }
  }
}
