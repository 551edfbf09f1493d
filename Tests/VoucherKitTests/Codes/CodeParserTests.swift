import Foundation
import Testing

@testable import VoucherKit

@Suite("Reading typed codes")
struct CodeParserTests {
  let code = "0WPJ-RMMH-SG6J-XJH7"

  @Test("separators, case and look-alike letters are normalised")
  func normalisation() throws {
    let canonical = try VoucherCode(parsing: code)
    #expect(canonical.description == code)
    #expect(canonical.symbols == "0WPJRMMHSG6JXJH7")
    for variant in [
      "0wpj-rmmh-sg6j-xjh7", "0WPJRMMHSG6JXJH7", "0WPJ RMMH SG6J XJH7", "0WPJ.RMMH_SG6J XJH7",
      "OWPJ-RMMH-SG6J-XJH7", " 0WPJ-RMMH-SG6J-XJH7 ",
    ] {
      #expect(try VoucherCode(parsing: variant) == canonical, "\(variant)")
    }
    // Full-width forms fold to ASCII under NFKC.
    #expect(try VoucherCode(parsing: "０ＷＰＪ－ＲＭＭＨ－ＳＧ６Ｊ－ＸＪＨ７") == canonical)
  }

  @Test(
    "the folding table is exactly NFKC (Foundation's ICU) restricted to symbols and separators, for every scalar"
  )
  func foldingMatchesNFKC() {
    let allowed = Set(
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz -._".unicodeScalars)
    var mismatches: [String] = []
    var folded = 0
    for value in UInt32(0x80)...0x10FFFF {
      guard let scalar = Unicode.Scalar(value) else { continue }
      let nfkc = Array(String(scalar).precomposedStringWithCompatibilityMapping.unicodeScalars)
      let expected: UInt32? =
        !nfkc.isEmpty && nfkc.count <= 4 && nfkc.allSatisfy(allowed.contains)
        ? nfkc.enumerated().reduce(0) { $0 | $1.element.value << (8 * UInt32($1.offset)) } : nil
      if expected != nil { folded += 1 }
      if CompatibilityFolding.fold(value) != expected {
        mismatches.append(String(value, radix: 16))
      }
    }
    #expect(mismatches.isEmpty, "scalars folded differently from NFKC: \(mismatches.prefix(20))")
    #expect(folded == CompatibilityFolding.table.count)
  }

  @Test("a character that is no symbol is named with its position")
  func invalidCharacters() {
    #expect(throws: MalformedCode.invalidCharacter(position: 3, character: "U")) {
      try VoucherCode(parsing: "0WU")
    }
    #expect(throws: MalformedCode.invalidCharacter(position: 5, character: "\0")) {
      try VoucherCode(parsing: "0WPJ\0RMMH")
    }
    #expect(throws: MalformedCode.invalidCharacter(position: 2, character: "\u{7}")) {
      try VoucherCode(parsing: "0\u{7}")
    }
    #expect(throws: MalformedCode.invalidCharacter(position: 1, character: "é")) {
      try VoucherCode(parsing: "éWPJ")
    }
    #expect(throws: MalformedCode.invalidCharacter(position: 3, character: "/")) {
      try VoucherCode(parsing: "../etc/passwd")
    }
  }

  @Test("a NUL is malformed beside full-width characters too (found by fuzzing)")
  func nulBesideNonASCII() {
    // The Unicode path used to skip NUL, so a full-width code with a NUL in it read as valid
    // while the same code in ASCII was refused.
    #expect(throws: MalformedCode.invalidCharacter(position: 18, character: "\0")) {
      try VoucherCode(parsing: "０WPJ-RMMH-SG6J-XJ\0H7")
    }
    // The fuzzer's input: both paths must name the first NUL.
    #expect(throws: MalformedCode.invalidCharacter(position: 12, character: "\0")) {
      try CodeParser.parseUnicode("0K7M007M07M\0\0\0\u{11}--")
    }
  }

  @Test("lengths outside 15 to 20 symbols are malformed, however long the input")
  func lengths() throws {
    #expect(throws: MalformedCode.empty) { try VoucherCode(parsing: "") }
    #expect(throws: MalformedCode.empty) { try VoucherCode(parsing: " - - ") }
    #expect(throws: MalformedCode.wrongLength(symbols: 14)) {
      try VoucherCode(parsing: String(repeating: "1", count: 14))
    }
    #expect(throws: MalformedCode.tooLong(symbols: 21)) {
      try VoucherCode(parsing: String(repeating: "1", count: 100_000))
    }
    // The reserved slot symbol Z reads as a code: a typo there must answer mistyped.
    #expect(try VoucherCode(parsing: "Z" + String(repeating: "1", count: 15)).count == 16)
  }

  @Test("every naughty string reads as a code or is malformed, never a crash")
  func naughtyStrings() throws {
    let strings = try VoucherKitTests.naughtyStrings()
    #expect(strings.count > 500)
    for text in strings {
      do {
        let code = try VoucherCode(parsing: text)
        #expect(CodeFormat.symbolCounts.contains(code.count))
      } catch {
        #expect(!error.description.isEmpty)
      }
    }
  }
}
