@testable import VoucherKit

/// Fuzzes the code parser, its Unicode folding and the verifier on arbitrary text.
///
/// Checks: nothing traps; the ASCII fast path and the Unicode path agree on ASCII text; a parsed
/// code reads back from its printed and bare forms; the one-pass check agrees with
/// `hasValidCheck`; a genuine answer names the serial that issues the same code; a suggested
/// correction is genuinely signed.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCodes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = UnsafeBufferPointer(start: data, count: size)
  let text = String(decoding: bytes, as: UTF8.self)

  // The raw bytes through the fast path, as `serve` and `verify` hand them over.
  _ = CodeParser.parseASCII(bytes)

  let parsed = Result { () throws(MalformedCode) in try CodeParser.parseChecked(text) }
  if text.utf8.allSatisfy({ $0 < 0x80 }) {
    let unicode = Result { () throws(MalformedCode) in try CodeParser.parseUnicode(text) }
    require(
      unicode.map(\.self) == parsed.map(\.code),
      "ASCII and Unicode paths disagree on \(text.debugDescription)")
  }
  if case .success(let (code, checkFolds)) = parsed {
    require(CodeFormat.symbolCounts.contains(code.count), "a code of \(code.count) symbols")
    require(checkFolds == code.hasValidCheck, "check symbol verdicts disagree")
    let printed = code.description
    require(
      printed.utf8.count == VoucherCode.printedLength(symbols: code.count), "printed length")
    require((try? VoucherCode(parsing: printed)) == code, "\(printed) does not read back")
    require((try? VoucherCode(parsing: code.symbols)) == code, "\(code.symbols) does not read back")
  }

  // Every scalar's fold, and the first four bytes as a raw (maybe invalid) scalar value.
  for scalar in text.unicodeScalars {
    if let folded = CompatibilityFolding.fold(scalar.value) {
      require(folded != 0, "U+\(scalar.value) folds to nothing")
    }
  }
  if size >= 4 {
    let raw = bytes.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    _ = CompatibilityFolding.fold(raw)
  }

  let verifier = FuzzFixture.verifier
  for venue in [nil, Venue.store, Venue.online] {
    let answer = verifier.verify(text, at: venue, now: FuzzFixture.now)
    _ = answer.status
    if let voucher = answer.voucher {
      let channel = voucher.campaign.channelIndex(voucher.channel)!
      let issued = FuzzFixture.issuer.code(channel: channel, serial: voucher.serial)
      require(issued == answer.code, "valid \(text.debugDescription) is not serial's code")
    }
    if case .mistyped(_, let suggestion?) = answer {
      let again = verifier.verify(suggestion, at: venue, now: FuzzFixture.now).status
      require(
        ![.malformed, .mistyped, .forged, .revokedKey].contains(again),
        "suggestion \(suggestion) verifies as \(again)")
    }
  }
  return 0
}
