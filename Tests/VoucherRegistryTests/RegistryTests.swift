import Foundation
import Testing
import VoucherTestSupport

@testable import VoucherKit
@testable import VoucherRegistry

@Suite("Registry: redeem, void, claim, block")
struct RegistryTests {
  @Test("a second redeem answers used-up, naming the first store and time")
  func usedUp() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let registry = try fixture.registry()
    let voucher = try fixture.voucher(1)
    let first = try registry.redeem(
      voucher, store: StoreID("S12"), terminal: TerminalID("T3"), now: fixture.now)
    guard case .redeemed(let receipt, false) = first else {
      throw TestFailure("not redeemed: \(first)")
    }
    #expect(
      receipt.store?.rawValue == "S12" && receipt.terminal?.rawValue == "T3"
        && receipt.usesLeft == 0 && receipt.time == fixture.now)
    let second = try registry.redeem(
      voucher, store: StoreID("S99"), now: fixture.now.addingTimeInterval(60))
    #expect(second == .usedUp(last: receipt))
    // Another code is untouched.
    #expect(
      try registry.redeem(try fixture.voucher(2), store: nil, now: fixture.now).receipt?.venue
        == .online)
  }

  @Test("a campaign with --uses 3 gives exactly three")
  func threeUses() throws {
    let fixture = try Fixture(uses: 3)
    defer { fixture.remove() }
    let registry = try fixture.registry()
    let voucher = try fixture.voucher(7)
    var lefts: [Int] = []
    for _ in 0..<5 {
      if case .redeemed(let receipt, _) = try registry.redeem(
        voucher, store: StoreID("S1"), now: fixture.now)
      {
        lefts.append(receipt.usesLeft)
      }
    }
    #expect(lefts == [2, 1, 0])
    #expect(try registry.status(of: voucher).uses == 3)
  }

  @Test(
    "void undoes the latest live redemption; then the code redeems again; nothing to void is rejected"
  )
  func voidThenRedeem() throws {
    let fixture = try Fixture(uses: 2)
    defer { fixture.remove() }
    let registry = try fixture.registry()
    let voucher = try fixture.voucher(3)
    #expect(try registry.void(voucher, now: fixture.now) == .notRedeemed)
    let a = try registry.redeem(voucher, store: StoreID("A"), now: fixture.now).receipt!
    let b = try registry.redeem(voucher, store: StoreID("B"), now: fixture.now).receipt!
    guard
      case .voided(let undone, let left, false) = try registry.void(
        voucher, reason: Reason("returned"), now: fixture.now)
    else {
      throw TestFailure("not voided")
    }
    #expect(undone == b && left == 1)
    guard case .voided(let second, 2, false) = try registry.void(voucher, now: fixture.now) else {
      throw TestFailure("not voided")
    }
    #expect(second == a)
    #expect(try registry.void(voucher, now: fixture.now) == .notRedeemed)
    #expect(
      try registry.redeem(voucher, store: StoreID("C"), now: fixture.now).receipt?.usesLeft == 1)
    let kinds = try registry.history(of: voucher).map(\.kind)
    #expect(kinds == [.redeemed, .redeemed, .voided, .voided, .redeemed])
  }

  @Test("a claimed code passes its profile to a later redeem; another profile is refused")
  func claims() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let registry = try fixture.registry()
    let voucher = try fixture.voucher(4)
    let alice = try ProfileID("crm:4711")
    let bob = try ProfileID("crm:4712")
    guard
      case .claimed(alice, _, false, nil) = try registry.claim(voucher, profile: alice, now: fixture.now)
    else { throw TestFailure("not claimed") }
    guard
      case .claimed(alice, _, true, nil) = try registry.claim(voucher, profile: alice, now: fixture.now)
    else { throw TestFailure("not idempotent") }
    #expect(try registry.claim(voucher, profile: bob, now: fixture.now) == .claimedByOther)
    #expect(
      try registry.redeem(voucher, store: StoreID("S1"), profile: bob, now: fixture.now)
        == .claimedByOther)
    #expect(
      try registry.redeem(voucher, store: StoreID("S1"), now: fixture.now).receipt?.profile == alice
    )
    // Claiming after the redemption works too.
    let later = try fixture.voucher(5)
    _ = try registry.redeem(later, store: StoreID("S1"), now: fixture.now)
    guard case .claimed = try registry.claim(later, profile: bob, now: fixture.now) else {
      throw TestFailure("late claim refused")
    }
  }

  @Test(
    "a blocked range answers blocked until unblocked; other channels and serials are not affected")
  func blocks() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let registry = try fixture.registry()
    try registry.block(
      campaign: fixture.campaign, channel: ChannelID("flyer")!, serials: 10...20,
      reason: Reason("box 7 stolen"), now: fixture.now)
    guard
      case .blocked(let info) = try registry.redeem(
        try fixture.voucher(15), store: StoreID("S1"), now: fixture.now)
    else {
      throw TestFailure("not blocked")
    }
    #expect(info.reason == "box 7 stolen")
    #expect(
      try registry.redeem(try fixture.voucher(21), store: StoreID("S1"), now: fixture.now).receipt
        != nil)
    #expect(
      try registry.redeem(
        try fixture.voucher(15, channel: 1), store: StoreID("S1"), now: fixture.now
      ).receipt != nil)
    try registry.block(
      campaign: fixture.campaign, channel: ChannelID("flyer")!, serials: 14...16, reason: nil,
      unblock: true, now: fixture.now)
    #expect(
      try registry.redeem(try fixture.voucher(15), store: StoreID("S1"), now: fixture.now).receipt
        != nil)
    #expect(try registry.status(of: try fixture.voucher(17)).block != nil)
    #expect(
      try registry.history(of: try fixture.voucher(15)).map(\.kind) == [
        .blocked, .unblocked, .redeemed,
      ])
  }

  @Test(
    "a repeated request id returns the original receipt, also after reopening; another id gets used-up"
  )
  func requestIDs() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let voucher = try fixture.voucher(8)
    let original = try fixture.registry().redeem(
      voucher, store: StoreID("S1"), request: RequestID("r-991"), now: fixture.now
    ).receipt!
    let reopened = try fixture.registry()
    #expect(
      try reopened.redeem(
        voucher, store: StoreID("S2"), request: RequestID("r-991"),
        now: fixture.now.addingTimeInterval(5)) == .redeemed(original, replayed: true))
    #expect(
      try reopened.redeem(
        voucher, store: StoreID("S2"), request: RequestID("r-992"), now: fixture.now)
        == .usedUp(last: original))
    #expect(
      try reopened.redeem(voucher, store: StoreID("S2"), now: fixture.now)
        == .usedUp(last: original))
  }

  @Test(
    "a batch is one sync; later operations in it see the earlier ones; nothing is answered if the sync fails"
  )
  func batches() throws {
    let fixture = try Fixture(uses: 1)
    defer { fixture.remove() }
    let files = FaultyFiles()
    let registry = try fixture.registry(files: files)
    let a = try fixture.voucher(1)
    let b = try fixture.voucher(2)
    let store = try StoreID("S1")
    let syncsBefore = files.journalSyncs  // creating the registry synced its new journal
    let results = try registry.perform(
      [
        .redeem(a, store: store, terminal: nil, profile: nil, request: RequestID("r1")),
        .redeem(a, store: store, terminal: nil, profile: nil, request: RequestID("r1")),
        .redeem(a, store: store, terminal: nil, profile: nil, request: nil),
        .redeem(b, store: store, terminal: nil, profile: nil, request: nil),
        .void(b, reason: nil, request: nil),
        .redeem(b, store: store, terminal: nil, profile: nil, request: nil),
        .status(b),
      ], now: fixture.now)
    #expect(files.journalSyncs - syncsBefore == 1)
    guard case .redeem(.redeemed(let first, false)) = results[0] else {
      throw TestFailure("\(results[0])")
    }
    #expect(results[1] == .redeem(.redeemed(first, replayed: true)))
    #expect(results[2] == .redeem(.usedUp(last: first)))
    guard case .void(.voided(_, 1, false)) = results[4],
      case .redeem(.redeemed(_, false)) = results[5]
    else { throw TestFailure("\(results)") }
    guard case .status(let status) = results[6] else { throw TestFailure("no status") }
    #expect(status.uses == 1)
    #expect(try registry.check().problems.isEmpty)
    // A failed sync answers nothing of its batch.
    files.failSync = { $0.hasSuffix("/journal") }
    #expect(throws: RegistryError.self) {
      try registry.perform(
        [.redeem(try fixture.voucher(3), store: store, terminal: nil, profile: nil, request: nil)],
        now: fixture.now)
    }
  }

  @Test("profile ids that look like e-mail addresses or phone numbers are refused, saying why")
  func pseudonymousProfiles() {
    for bad in ["jane@example.com", "+49 151 1234567", "015112345678", "(030) 1234-567"] {
      #expect(throws: InvalidField.self) { try ProfileID(bad) }
    }
    #expect((try? ProfileID("jane@example.com")) == nil)
    do {
      _ = try ProfileID("jane@example.com")
    } catch {
      #expect(error.reason.contains("e-mail"))
    }
    for good in ["crm:4711", "a1b2c3", "123456", "user.9_x-y"] {
      #expect((try? ProfileID(good)) != nil, "\(good)")
    }
  }

  @Test(
    "every naughty string as a store, terminal, profile, request id or reason: refused, or recorded and read back byte for byte"
  )
  func naughtyFields() throws {
    let fixture = try Fixture(uses: 255, capacity: 10_000)
    defer { fixture.remove() }
    let registry = try fixture.registry()
    let strings = try TestData.naughtyStrings()
    var serial = 0
    var recorded = 0
    for text in strings {
      serial += 1
      let voucher = try fixture.voucher(serial)
      if let store = try? StoreID(text), let terminal = try? TerminalID(text),
        let request = try? RequestID(text)
      {
        let profile = try? ProfileID(text)
        guard
          case .redeemed = try registry.redeem(
            voucher, store: store, terminal: terminal, profile: profile, request: request,
            now: fixture.now)
        else {
          throw TestFailure("not redeemed")
        }
        let event = try registry.history(of: voucher)[0]
        #expect(
          event.store == text && event.terminal == text && event.request == text
            && event.profile == profile?.rawValue)
        recorded += 1
      }
      if let reason = try? Reason(text) {
        _ = try registry.redeem(voucher, store: StoreID("S1"), now: fixture.now)
        _ = try registry.void(voucher, reason: reason, now: fixture.now)
        let events = try registry.history(of: voucher)
        #expect(events.last?.reason.map { Array($0.utf8) } == Array(text.utf8))
        recorded += 1
      }
    }
    #expect(recorded > 100)
    let report = try registry.check()
    #expect(report.problems.isEmpty, "\(report.problems)")
  }
}
