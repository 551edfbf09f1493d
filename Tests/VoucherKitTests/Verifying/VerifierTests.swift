import Foundation
import Testing
import VoucherTestSupport

@testable import VoucherKit

@Suite("Verifying codes")
struct VerifierTests {
  let ring = testRing([0: 0x11, 3: 0x33])
  let campaign = testCampaign()
  let now = ISO8601.parse("2026-07-01T12:00:00Z")!

  var verifier: Verifier { Verifier(keyRing: ring, campaigns: CampaignBook([campaign])) }

  func codes(_ count: Int, channel: Int = 0) throws -> [VoucherCode] {
    let issuer = try Issuer(campaign: campaign, keyRing: ring)
    return (1...count).map {
      issuer.code(channel: channel, serial: $0 * 97 % campaign.capacity + 1)
    }
  }

  @Test("10,000 issued codes verify valid, with their campaign, channel and serial")
  func issuedCodesAreValid() throws {
    let issuer = try Issuer(campaign: campaign, keyRing: ring)
    let verifier = self.verifier
    for serial in stride(from: 1, through: 1_000_000, by: 100) {
      for channel in 0..<2 {
        let result = verifier.verify(
          issuer.code(channel: channel, serial: serial).description, now: now)
        guard case .valid(let voucher) = result else {
          Issue.record("serial \(serial): \(result.status)")
          return
        }
        #expect(
          voucher.serial == serial && voucher.channel == campaign.channels[channel]
            && voucher.campaign.id == campaign.id)
      }
    }
  }

  @Test("every substitution and adjacent swap of 10,000 codes is mistyped, never valid or forged")
  func typosAreMistyped() throws {
    let verifier = self.verifier
    var checked = 0
    for code in try codes(10_000) {
      for index in 0..<code.count {
        for value in UInt8(0)..<32 where value != code.symbol(at: index) {
          let typo = code.replacing(symbolAt: index, with: value)
          // The status is decided by the check symbol before any signature work, so the bulk run
          // skips the suggestion search; a sample below runs the full verification.
          #expect(!typo.hasValidCheck)
          checked += 1
        }
        if index + 1 < code.count && code.symbol(at: index) != code.symbol(at: index + 1) {
          let swapped = code.replacing(symbolAt: index, with: code.symbol(at: index + 1)).replacing(
            symbolAt: index + 1, with: code.symbol(at: index))
          #expect(!swapped.hasValidCheck)
          checked += 1
        }
      }
    }
    #expect(checked > 10_000 * 16 * 31)
    for code in try codes(100) {
      for index in 0..<code.count {
        let typo = code.replacing(symbolAt: index, with: (code.symbol(at: index) + 1) % 32)
        guard case .mistyped(_, let suggestion) = verifier.verify(typo.description, now: now) else {
          Issue.record("\(typo) is not mistyped")
          continue
        }
        #expect(
          suggestion == code,
          "a single substitution has exactly one genuine neighbour: the original")
      }
    }
  }

  @Test("a typo that puts the reserved Z in the slot position answers mistyped, not malformed")
  func reservedSlotTypo() throws {
    for code in try codes(200) {
      let typo = code.replacing(symbolAt: 0, with: 31)
      #expect(verifier.verify(typo.description, now: now).status == .mistyped)
    }
  }

  @Test("lower case, missing dashes and O for 0 still verify")
  func forgivingInput() throws {
    for code in try codes(500) {
      let printed = code.description
      for variant in [
        printed.lowercased(), code.symbols, printed.replacingOccurrences(of: "0", with: "O"),
        printed.replacingOccurrences(of: "1", with: "l"),
      ] {
        #expect(verifier.verify(variant, now: now).status == .valid, "\(variant)")
      }
    }
  }

  @Test("a code from another key ring answers forged")
  func otherRing() throws {
    let other = Verifier(
      keyRing: testRing([0: 0x99, 3: 0x33]), campaigns: CampaignBook([campaign]))
    for code in try codes(2_000) { #expect(other.verify(code, now: now).status == .forged) }
  }

  @Test("a random code with a right check symbol answers forged (odds 2^-40 of a false valid)")
  func randomForgeries() {
    var random = SeededGenerator(seed: 7)
    for _ in 0..<5_000 {
      let body = UInt128(random.next()) << 6 ^ UInt128(random.next() >> 58)
      let code = VoucherCode.assemble(slot: 0, body: body & ((1 << 70) - 1), bodySymbols: 14)
      #expect(verifier.verify(code, now: now).status == .forged)
    }
  }

  @Test("dates, venue, revoked keys and unknown campaigns each have their own answer")
  func rules() throws {
    let code = try codes(1)[0]
    let dated = testCampaign(starts: "2026-06-01", ends: "2026-06-30", redeemAt: .store)
    let verifier = Verifier(keyRing: ring, campaigns: CampaignBook([dated]))
    #expect(
      verifier.verify(code, now: ISO8601.parse("2026-05-31T23:59:59Z")!).status == .notYetValid)
    #expect(verifier.verify(code, now: ISO8601.parse("2026-06-01T00:00:00Z")!).status == .valid)
    #expect(verifier.verify(code, now: ISO8601.parse("2026-06-30T23:59:59Z")!).status == .valid)
    #expect(verifier.verify(code, now: ISO8601.parse("2026-07-01T00:00:00Z")!).status == .expired)
    #expect(
      verifier.verify(code, at: .online, now: ISO8601.parse("2026-06-10T00:00:00Z")!).status
        == .wrongVenue)
    #expect(
      verifier.verify(code, at: .store, now: ISO8601.parse("2026-06-10T00:00:00Z")!).status
        == .valid)

    let revoked = Verifier(
      keyRing: testRing([0: 0x11], states: [0: .revoked]), campaigns: CampaignBook([campaign]))
    #expect(revoked.verify(code, now: now).status == .revokedKey)
    let retired = Verifier(
      keyRing: testRing([0: 0x11], states: [0: .retired]), campaigns: CampaignBook([campaign]))
    #expect(retired.verify(code, now: now).status == .valid)

    let elsewhere = Verifier(
      keyRing: ring, campaigns: CampaignBook([testCampaign(base: 5_000_000)]))
    #expect(elsewhere.verify(code, now: now).status == .unknownCampaign)
    #expect(
      Verifier(keyRing: ring, campaigns: CampaignBook([])).verify(code, now: now).status
        == .unknownCampaign)
  }

  @Test("naughty strings never verify as valid and never crash")
  func naughty() throws {
    for text in try naughtyStrings() {
      let status = verifier.verify(text, at: .store, now: now).status
      #expect([.malformed, .mistyped, .forged].contains(status), "\(printable(text)): \(status)")
    }
  }
}
