import Foundation
import Testing
import VoucherTestSupport

@testable import VoucherKit

@Suite("Issuing codes")
struct IssuerTests {
  let ring = testRing([0: 0x11, 3: 0x33])
  let campaign = testCampaign()

  @Test("golden code of format 1: an accidental format change fails here")
  func golden() throws {
    let issuer = try Issuer(campaign: campaign, keyRing: ring)
    // Slot 0 secret 32 × 0x11, payload 0 (flyer serial 1), 40-bit tag.
    #expect(issuer.code(channel: 0, serial: 1).description == GoldenCode.format1)
    #expect(issuer.code(channel: 0, serial: 1).count == 16)
  }

  @Test("the format's cryptography matches an independent recomputation with OpenSSL's HMAC()")
  func independentRecomputation() throws {
    let issuer = try Issuer(campaign: campaign, keyRing: ring)
    let secret = [UInt8](repeating: 0x11, count: 32)
    let tagKey = OpenSSL.referenceHMACSHA256(key: secret, message: Array("voucher/v1/tag".utf8))
    let maskKey = OpenSSL.referenceHMACSHA256(key: secret, message: Array("voucher/v1/mask".utf8))
    for serial in [1, 2, 999_999, 1_000_000] {
      let payload = UInt32(serial - 1 + 1_000_000)  // channel 1 (receipt)
      let message: [UInt8] = [1, 0, 40] + withUnsafeBytes(of: payload.bigEndian, Array.init)
      let mac = OpenSSL.referenceHMACSHA256(key: tagKey, message: message)
      let tag = mac.prefix(5).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
      let maskInput = maskKey + [2, 0, 40] + withUnsafeBytes(of: tag.bigEndian, Array.init)
      let digest = HMACSHA256.sha256(maskInput)
      let mask = digest.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) } >> 2
      let body = UInt128(tag) << 30 | UInt128(payload ^ mask)
      var symbols: [UInt8] = [0]
      for index in stride(from: 13, through: 0, by: -1) {
        symbols.append(UInt8(truncatingIfNeeded: body >> (5 * index)) & 31)
      }
      symbols.append(DammCheck.check(symbols))
      let expected = String(decoding: symbols.map { Crockford.alphabet[Int($0)] }, as: UTF8.self)
      #expect(issuer.code(channel: 1, serial: serial).symbols == expected)
    }
  }

  @Test("the same inputs give the same code; a million codes of one channel are pairwise distinct")
  func uniqueAndDeterministic() throws {
    let issuer = try Issuer(campaign: campaign, keyRing: ring)
    var seen = Set<VoucherCode>(minimumCapacity: 1_000_000)
    for serial in 1...1_000_000 { seen.insert(issuer.code(channel: 0, serial: serial)) }
    #expect(seen.count == 1_000_000)
    let again = try Issuer(campaign: campaign, keyRing: testRing([0: 0x11]))
    for serial in [1, 77, 500_000, 1_000_000] {
      #expect(again.code(channel: 0, serial: serial) == issuer.code(channel: 0, serial: serial))
    }
  }

  @Test(
    "consecutive serials show no pattern: each position after the slot matches its neighbour about 1 in 32"
  )
  func noVisiblePattern() throws {
    let issuer = try Issuer(campaign: campaign, keyRing: ring)
    let count = 100_000
    var previous = issuer.code(channel: 0, serial: 1)
    var matches = [Int](repeating: 0, count: previous.count)
    for serial in 2...count {
      let code = issuer.code(channel: 0, serial: serial)
      for index in 0..<code.count where code.symbol(at: index) == previous.symbol(at: index) {
        matches[index] += 1
      }
      previous = code
    }
    #expect(matches[0] == count - 1, "the key slot is the one fixed symbol")
    let expected = Double(count - 1) / 32
    for index in 1..<previous.count {
      // 1/32 ± 5 standard deviations (about ±2.9% of the count of 3,125).
      #expect(
        abs(Double(matches[index]) - expected) < 5 * (expected * 31 / 32).squareRoot(),
        "position \(index): \(matches[index])")
    }
  }

  @Test(
    "writing a range in text, CSV and JSON gives the codes of code(channel:serial:), with any thread count"
  )
  func formats() throws {
    let issuer = try Issuer(campaign: campaign, keyRing: ring)
    let serials = 5...20_004
    let expected = serials.map { issuer.code(channel: 1, serial: $0).description }
    for threads in [1, 2, 3] {
      var text = [UInt8]()
      try issuer.write(
        channel: 1, serials: serials, format: .text, threads: threads, to: { text += $0 })
      #expect(String(decoding: text, as: UTF8.self) == expected.joined(separator: "\n") + "\n")
    }
    // The very first payload of a campaign (channel 0, serial 1) too.
    var first = [UInt8]()
    try issuer.write(channel: 0, serials: 1...2, format: .text, to: { first += $0 })
    #expect(
      String(decoding: first, as: UTF8.self)
        == "\(issuer.code(channel: 0, serial: 1))\n\(issuer.code(channel: 0, serial: 2))\n")
    var csv = [UInt8]()
    try issuer.write(channel: 1, serials: serials, format: .csv, threads: 2, to: { csv += $0 })
    let rows = zip(serials, expected).map { "\($0),\($1)\r\n" }.joined()
    #expect(String(decoding: csv, as: UTF8.self) == "serial,code\r\n" + rows)
    var json = [UInt8]()
    try issuer.write(channel: 1, serials: serials, format: .json, threads: 2, to: { json += $0 })
    let decoded = try JSONDecoder().decode([[String: JSONValue]].self, from: Data(json))
    #expect(decoded.count == serials.count)
    #expect(decoded.first?["code"] == .string(expected[0]))
    #expect(decoded.last?["serial"] == .number(Double(serials.upperBound)))
  }

  @Test("a retired or revoked key issues nothing")
  func keyStates() {
    for state in [KeyState.retired, .revoked] {
      #expect(throws: CampaignError.keyNotActive(slot: KeySlot(0)!, state: state)) {
        try Issuer(campaign: campaign, keyRing: testRing([0: 0x11], states: [0: state]))
      }
    }
    #expect(throws: CampaignError.missingKey(KeySlot(0)!)) {
      try Issuer(campaign: campaign, keyRing: testRing([3: 0x33]))
    }
  }

  @Test("tag lengths give the documented code lengths")
  func lengths() throws {
    for (requested, symbols) in [
      (32, 15), (35, 15), (40, 16), (41, 17), (45, 17), (50, 18), (60, 20),
    ] {
      let bits = CodeFormat.effectiveTagBits(requested: requested)
      let issuer = try Issuer(campaign: testCampaign(tagBits: bits), keyRing: ring)
      #expect(issuer.code(channel: 0, serial: 1).count == symbols, "tag bits \(requested)")
    }
  }
}

/// The pinned code of each format version.
enum GoldenCode {
  static let format1 = "09VK-1B66-YBR6-QD7N"
}
