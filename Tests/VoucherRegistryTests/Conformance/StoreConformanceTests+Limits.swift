import Foundation
import Testing
import VoucherTestSupport

@testable import VoucherKit
@testable import VoucherRegistry

/// Per-profile limits, as every store keeps them: counted under the store's isolation, with the
/// profile given or inherited from a claim, a period that resets at its end, claims, voids and
/// erasure. The clock is the `now` each operation is given.
extension StoreConformanceTests {
  /// Limits of `n` redemptions per profile in `period` (and `claims` claims), in `zone`.
  static func limits(
    _ n: Int?, _ period: LimitPeriod = .campaign, claims: Int? = nil, zone: String? = nil
  ) -> ProfileLimits {
    ProfileLimits(redemptions: n, period: period, claims: claims, zone: zone)!
  }

  func instant(_ text: String) -> Date { ISO8601.parse(text)! }

  @Test(
    "per profile 1: a second code for the same profile is refused for the campaign; other profiles, anonymous redemptions and retries are not",
    arguments: conformingStores)
  func perProfileOne(_ kind: any StoreKind) throws {
    let fixture = try Fixture(limits: Self.limits(1))
    defer { fixture.remove() }
    let store = try kind.open(fixture)
    let alice = try ProfileID("crm:alice")
    let request = try RequestID("till-1:1")
    let first = try store.redeem(
      fixture.voucher(1), store: StoreID("S1"), profile: alice, request: request, now: fixture.now)
    #expect(word(first) == "redeemed")
    #expect(
      try store.redeem(fixture.voucher(2), store: StoreID("S1"), profile: alice, now: fixture.now)
        == .profileLimit(until: nil))
    // The refusal recorded nothing: the code is still unused.
    #expect(try store.status(of: fixture.voucher(2)).uses == 0)
    // A retry of the first redemption gets its receipt, not a refusal, from another handle too.
    #expect(
      try kind.open(fixture).redeem(
        fixture.voucher(1), store: StoreID("S1"), profile: alice, request: request,
        now: fixture.now.addingTimeInterval(60)) == .redeemed(first.receipt!, replayed: true))
    #expect(
      word(
        try store.redeem(
          fixture.voucher(2), store: StoreID("S1"), profile: ProfileID("crm:bob"), now: fixture.now)
      ) == "redeemed")
    #expect(
      word(try store.redeem(fixture.voucher(3), store: StoreID("S1"), now: fixture.now))
        == "redeemed")
    // Another campaign of the home has no limit.
    #expect(
      word(
        try store.redeem(
          fixture.voucher(1, campaign: "winter"), store: StoreID("S1"), profile: alice,
          now: fixture.now)) == "redeemed")
    // Two redemptions for one profile in one batch: the second sees the first.
    let carol = try ProfileID("crm:carol")
    let results = try kind.open(fixture).perform(
      [
        .redeem(
          try fixture.voucher(4), store: StoreID("S1"), terminal: nil, profile: carol, request: nil),
        .redeem(
          try fixture.voucher(5), store: StoreID("S1"), terminal: nil, profile: carol, request: nil),
      ], now: fixture.now)
    guard case .redeem(let one) = results[0], case .redeem(let two) = results[1] else {
      throw TestFailure("not redemption answers")
    }
    #expect(word(one) == "redeemed")
    #expect(two == .profileLimit(until: nil))
  }

  @Test(
    "inherited profile: a code claimed online and redeemed at a till without a profile counts for the claiming profile",
    arguments: conformingStores)
  func inheritedProfileCounts(_ kind: any StoreKind) throws {
    let fixture = try Fixture(limits: Self.limits(1))
    defer { fixture.remove() }
    let store = try kind.open(fixture)
    let alice = try ProfileID("crm:alice")
    #expect(try store.claim(fixture.voucher(1), profile: alice, now: fixture.now).isClaimed)
    #expect(try store.claim(fixture.voucher(2), profile: alice, now: fixture.now).isClaimed)
    let first = try store.redeem(fixture.voucher(1), store: StoreID("S1"), now: fixture.now)
    #expect(first.receipt?.profile == alice)
    // The second claimed code, redeemed without a profile, inherits alice's: refused.
    #expect(
      try kind.open(fixture).redeem(fixture.voucher(2), store: StoreID("S2"), now: fixture.now)
        == .profileLimit(until: nil))
    // And alice given at a till for an unclaimed code: refused too.
    #expect(
      try store.redeem(fixture.voucher(3), store: StoreID("S2"), profile: alice, now: fixture.now)
        == .profileLimit(until: nil))
  }

  @Test(
    "a day's limit resets at the day's end: refused until the instant it names, redeemed from it on",
    arguments: conformingStores)
  func dayLimitResets(_ kind: any StoreKind) throws {
    // The fixture's now is Monday 2026-09-21T14:13:20Z.
    let fixture = try Fixture(limits: Self.limits(2, .day))
    defer { fixture.remove() }
    let store = try kind.open(fixture)
    let alice = try ProfileID("crm:alice")
    let midnight = instant("2026-09-22T00:00:00Z")
    func redeem(_ serial: Int, at time: Date) throws -> RedeemAnswer {
      try kind.open(fixture).redeem(
        fixture.voucher(serial), store: StoreID("S1"), profile: alice, now: time)
    }
    // Yesterday's redemption does not count today.
    #expect(word(try redeem(1, at: instant("2026-09-20T23:59:59Z"))) == "redeemed")
    #expect(word(try redeem(2, at: fixture.now)) == "redeemed")
    #expect(word(try redeem(3, at: fixture.now)) == "redeemed")
    #expect(try redeem(4, at: fixture.now) == .profileLimit(until: midnight))
    #expect(
      try redeem(4, at: midnight.addingTimeInterval(-0.001)) == .profileLimit(until: midnight))
    #expect(word(try redeem(4, at: midnight)) == "redeemed")
    _ = store
  }

  @Test(
    "week and month limits end at local midnight in the campaign's zone, across a change of clocks",
    arguments: conformingStores)
  func zonedPeriods(_ kind: any StoreKind) throws {
    guard (try? ZoneRules.named("Europe/Amsterdam")) != nil else {
      try Test.cancel("no tz database: Europe/Amsterdam cannot be read")
    }
    let week = try Fixture(limits: Self.limits(1, .week, zone: "Europe/Amsterdam"))
    defer { week.remove() }
    let alice = try ProfileID("crm:alice")
    _ = try kind.open(week).redeem(
      week.voucher(1), store: StoreID("S1"), profile: alice, now: week.now)
    // Monday 2026-09-28 00:00 in Amsterdam (CEST, +02:00).
    let monday = instant("2026-09-27T22:00:00Z")
    #expect(
      try kind.open(week).redeem(
        week.voucher(2), store: StoreID("S1"), profile: alice, now: monday.addingTimeInterval(-1))
        == .profileLimit(until: monday))
    #expect(
      word(
        try kind.open(week).redeem(
          week.voucher(2), store: StoreID("S1"), profile: alice, now: monday))
        == "redeemed")

    let month = try Fixture(limits: Self.limits(1, .month, zone: "Europe/Amsterdam"))
    defer { month.remove() }
    let october = instant("2026-10-10T12:00:00Z")
    _ = try kind.open(month).redeem(
      month.voucher(1), store: StoreID("S1"), profile: alice, now: october)
    // 2026-11-01 00:00 in Amsterdam is after the clocks went back (CET, +01:00).
    let november = instant("2026-10-31T23:00:00Z")
    #expect(
      try kind.open(month).redeem(
        month.voucher(2), store: StoreID("S1"), profile: alice, now: instant("2026-10-31T22:30:00Z")
      )
        == .profileLimit(until: november))
    #expect(
      word(
        try kind.open(month).redeem(
          month.voucher(2), store: StoreID("S1"), profile: alice, now: november))
        == "redeemed")
  }

  @Test(
    "claims per profile: a second code claimed by one profile is refused; a claim retried, and other profiles, are not",
    arguments: conformingStores)
  func claimsPerProfile(_ kind: any StoreKind) throws {
    let fixture = try Fixture(limits: Self.limits(nil, claims: 1))
    defer { fixture.remove() }
    let store = try kind.open(fixture)
    let alice = try ProfileID("crm:alice")
    #expect(try store.claim(fixture.voucher(1), profile: alice, now: fixture.now).isClaimed)
    #expect(
      try kind.open(fixture).claim(fixture.voucher(2), profile: alice, now: fixture.now)
        == .profileLimit)
    guard
      case .claimed(_, _, true, _) = try store.claim(
        fixture.voucher(1), profile: alice, now: fixture.now)
    else { throw TestFailure("a repeated claim was not answered with the original") }
    #expect(
      try store.claim(fixture.voucher(2), profile: ProfileID("crm:bob"), now: fixture.now).isClaimed
    )
    // Redemptions have no limit here.
    #expect(
      word(
        try store.redeem(fixture.voucher(3), store: StoreID("S1"), profile: alice, now: fixture.now)
      ) == "redeemed")
    #expect(
      word(
        try store.redeem(fixture.voucher(4), store: StoreID("S1"), profile: alice, now: fixture.now)
      ) == "redeemed")
  }

  @Test(
    "a void gives the use back to the profile's count; a void in the same batch too",
    arguments: conformingStores)
  func voidGivesBack(_ kind: any StoreKind) throws {
    let fixture = try Fixture(limits: Self.limits(1))
    defer { fixture.remove() }
    let store = try kind.open(fixture)
    let alice = try ProfileID("crm:alice")
    _ = try store.redeem(fixture.voucher(1), store: StoreID("S1"), profile: alice, now: fixture.now)
    #expect(
      try store.redeem(fixture.voucher(2), store: StoreID("S1"), profile: alice, now: fixture.now)
        == .profileLimit(until: nil))
    guard case .voided = try kind.open(fixture).void(fixture.voucher(1), now: fixture.now) else {
      throw TestFailure("not voided")
    }
    #expect(
      word(
        try store.redeem(fixture.voucher(2), store: StoreID("S1"), profile: alice, now: fixture.now)
      )
        == "redeemed")
    let results = try kind.open(fixture).perform(
      [
        .void(try fixture.voucher(2), reason: nil, request: nil),
        .redeem(
          try fixture.voucher(3), store: StoreID("S1"), terminal: nil, profile: alice, request: nil),
      ], now: fixture.now)
    guard case .redeem(let answer) = results[1] else { throw TestFailure("not a redemption") }
    #expect(word(answer) == "redeemed")
  }

  @Test(
    "erasure: after forget, the profile's past redemptions and claims no longer count; the same id given again starts a new count",
    arguments: conformingStores)
  func forgetRestartsCount(_ kind: any StoreKind) throws {
    let fixture = try Fixture(limits: Self.limits(1, claims: 1))
    defer { fixture.remove() }
    let store = try kind.open(fixture)
    let alice = try ProfileID("crm:alice")
    _ = try store.claim(fixture.voucher(1), profile: alice, now: fixture.now)
    _ = try store.redeem(fixture.voucher(1), store: StoreID("S1"), now: fixture.now)
    #expect(
      try store.redeem(fixture.voucher(2), store: StoreID("S1"), profile: alice, now: fixture.now)
        == .profileLimit(until: nil))
    #expect(try store.claim(fixture.voucher(2), profile: alice, now: fixture.now) == .profileLimit)
    // Forgotten through another handle: this one counted alice's events before.
    #expect(try kind.open(fixture).forget(profile: alice).events == 2)
    #expect(try store.claim(fixture.voucher(2), profile: alice, now: fixture.now).isClaimed)
    #expect(
      word(
        try store.redeem(fixture.voucher(3), store: StoreID("S1"), profile: alice, now: fixture.now)
      ) == "redeemed")
    #expect(
      try store.redeem(fixture.voucher(4), store: StoreID("S1"), profile: alice, now: fixture.now)
        == .profileLimit(until: nil))
  }

  @Test(
    "exactly once per profile: 8 handles on 8 threads each redeem a code of their own for each of 24 profiles, in the same order: one redemption per profile",
    arguments: conformingStores)
  func perProfileRace(_ kind: any StoreKind) throws {
    let fixture = try Fixture(limits: Self.limits(1))
    defer { fixture.remove() }
    // The threads go through the profiles in step, so each profile's limit is raced for.
    let profiles = 24
    let counts = try race(kind, fixture) { store, worker, count in
      for profile in 0..<profiles {
        let answer = try store.redeem(
          try fixture.voucher(worker * profiles + profile + 1), store: StoreID("S\(worker)"),
          profile: ProfileID("crm:\(profile)"), now: fixture.now)
        count("\(profile) \(word(answer))")
      }
    }
    for profile in 0..<profiles {
      #expect(counts["\(profile) redeemed"] == 1, "crm:\(profile)")
      #expect(counts["\(profile) profile-limit"] == 7, "crm:\(profile)")
    }
  }
}

extension ClaimAnswer {
  var isClaimed: Bool {
    if case .claimed(_, _, false, _) = self { return true }
    return false
  }
}
