import Foundation
import Synchronization
import Testing
import VoucherTestSupport

@testable import VoucherKit
@testable import VoucherRegistry

/// A kind of store the conformance suite runs against: every store must pass it.
protocol StoreKind: Sendable, CustomTestStringConvertible {
  /// Opens a handle on the registry of `fixture`'s home, as another process would: each handle
  /// is used by one thread at a time, and several handles share one registry.
  func open(_ fixture: Fixture) throws -> any RegistryStore
}

/// The file registry under the fixture's home.
struct FileStoreKind: StoreKind {
  var testDescription: String { "file registry" }
  func open(_ fixture: Fixture) throws -> any RegistryStore { try fixture.registry() }
}

/// The stores the suite covers in this build: PostgreSQL too under the `PostgreSQL` trait.
#if PostgreSQL
  let conformingStores: [any StoreKind] = [FileStoreKind(), PostgresStoreKind()]
#else
  let conformingStores: [any StoreKind] = [FileStoreKind()]
#endif

/// The store contract, written against ``RegistryStore`` alone: no file, offset or table.
@Suite("Store conformance: the promises every registry store keeps")
struct StoreConformanceTests {
  /// The answer's word, for counting.
  func word(_ answer: RedeemAnswer) -> String {
    switch answer {
    case .redeemed(_, let replayed): return replayed ? "replayed" : "redeemed"
    case .usedUp: return "used-up"
    case .blocked: return "blocked"
    case .claimedByOther: return "claimed-by-other"
    case .profileLimit: return "profile-limit"
    }
  }

  /// Runs `body` on 8 threads, each with its own handle on the fixture's registry (created
  /// before), and answers how often each word was counted; any error fails the test.
  func race(
    _ kind: any StoreKind, _ fixture: Fixture,
    _ body: @Sendable (any RegistryStore, Int, (String) -> Void) throws -> Void
  ) throws -> [String: Int] {
    _ = try kind.open(fixture)
    let counts = Mutex([String: Int]())
    let failures = Mutex([String]())
    DispatchQueue.concurrentPerform(iterations: 8) { worker in
      do {
        try body(try kind.open(fixture), worker) { key in counts.withLock { $0[key, default: 0] += 1 } }
      } catch {
        failures.withLock { $0.append("\(error)") }
      }
    }
    #expect(failures.withLock { $0 }.isEmpty)
    return counts.withLock { $0 }
  }

  @Test(
    "exactly once: 8 handles on 8 threads redeem the same single-use codes in random orders",
    arguments: conformingStores)
  func exactlyOnce(_ kind: any StoreKind) throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let vouchers = try (1...300).map { try fixture.voucher($0) }
    let all = try race(kind, fixture) { store, worker, count in
      var generator = SeededGenerator(seed: UInt64(worker + 1))
      for voucher in vouchers.shuffled(using: &generator) {
        let answer = try store.redeem(
          voucher, store: try StoreID("S\(worker)"), now: fixture.now)
        count("\(voucher.serial) \(word(answer))")
      }
    }
    for voucher in vouchers {
      #expect(all["\(voucher.serial) redeemed"] == 1, "serial \(voucher.serial)")
      #expect(all["\(voucher.serial) used-up"] == 7, "serial \(voucher.serial)")
    }
  }

  @Test("at most N: a code of a 3-use campaign redeems three times, then is used up", arguments: conformingStores)
  func atMostN(_ kind: any StoreKind) throws {
    let fixture = try Fixture(uses: 3)
    defer { fixture.remove() }
    let store = try kind.open(fixture)
    let voucher = try fixture.voucher(1)
    var left: [Int] = []
    for _ in 0..<3 {
      guard case .redeemed(let receipt, false) = try store.redeem(voucher, store: StoreID("S1"), now: fixture.now)
      else { throw TestFailure("not redeemed") }
      left.append(receipt.usesLeft)
    }
    #expect(left == [2, 1, 0])
    guard case .usedUp(let last?) = try store.redeem(voucher, store: StoreID("S2"), now: fixture.now)
    else { throw TestFailure("not used up") }
    #expect(last.store?.rawValue == "S1")
    #expect(try store.status(of: voucher).uses == 3)
    #expect(try kind.open(fixture).peek(voucher).uses == 3)
  }

  @Test(
    "retries: the same request id gets the original receipt, also from another handle; another request id gets used-up",
    arguments: conformingStores)
  func retries(_ kind: any StoreKind) throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let voucher = try fixture.voucher(7)
    let request = try RequestID("till-3:0042")
    guard
      case .redeemed(let first, false) = try kind.open(fixture).redeem(
        voucher, store: StoreID("S1"), terminal: TerminalID("T3"), request: request, now: fixture.now)
    else { throw TestFailure("not redeemed") }
    guard
      case .redeemed(let again, true) = try kind.open(fixture).redeem(
        voucher, store: StoreID("S1"), terminal: TerminalID("T3"), request: request,
        now: fixture.now.addingTimeInterval(5))
    else { throw TestFailure("a retry was not answered with the original receipt") }
    #expect(again == first)
    guard
      case .usedUp(let last?) = try kind.open(fixture).redeem(
        voucher, store: StoreID("S2"), request: RequestID("till-9:1"), now: fixture.now)
    else { throw TestFailure("another request id redeemed again") }
    #expect(last == first)
    // A void retried with its request id undoes once.
    let store = try kind.open(fixture)
    let undo = try RequestID("till-3:0043")
    guard case .voided(_, let usesLeft, false) = try store.void(voucher, request: undo, now: fixture.now)
    else { throw TestFailure("not voided") }
    #expect(usesLeft == 1)
    guard case .voided(let receipt, _, true) = try kind.open(fixture).void(voucher, request: undo, now: fixture.now)
    else { throw TestFailure("a void retry was not replayed") }
    #expect(receipt.id == first.id)
    #expect(try store.status(of: voucher).uses == 0)
  }

  @Test(
    "voids: nothing to undo, undo the latest live redemption, redeem again; history in order with rising ids",
    arguments: conformingStores)
  func voids(_ kind: any StoreKind) throws {
    let fixture = try Fixture(uses: 2)
    defer { fixture.remove() }
    let store = try kind.open(fixture)
    let voucher = try fixture.voucher(3)
    #expect(try store.void(voucher, now: fixture.now) == .notRedeemed)
    _ = try store.redeem(voucher, store: StoreID("A"), now: fixture.now)
    _ = try store.redeem(voucher, store: StoreID("B"), now: fixture.now)
    guard case .voided(let undone, let usesLeft, false) = try store.void(voucher, reason: Reason("returned"), now: fixture.now)
    else { throw TestFailure("not voided") }
    #expect(undone.store?.rawValue == "B" && usesLeft == 1)
    guard case .redeemed(let receipt, false) = try store.redeem(voucher, store: StoreID("C"), now: fixture.now)
    else { throw TestFailure("a voided use was not given back") }
    #expect(receipt.usesLeft == 0)
    let history = try kind.open(fixture).history(of: voucher)
    #expect(history.map(\.kind) == [.redeemed, .redeemed, .voided, .redeemed])
    #expect(history.map(\.store) == ["A", "B", nil, "C"])
    #expect(history[2].reason == "returned")
    #expect(zip(history, history.dropFirst()).allSatisfy { $0.id < $1.id })
  }

  @Test(
    "claims: once per code, replayed for the same profile, refused for another; a redemption inherits the claim",
    arguments: conformingStores)
  func claims(_ kind: any StoreKind) throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let store = try kind.open(fixture)
    let voucher = try fixture.voucher(11)
    let ada = try ProfileID("crm:ada")
    guard case .claimed(ada, let time, false, nil) = try store.claim(voucher, profile: ada, now: fixture.now)
    else { throw TestFailure("not claimed") }
    guard case .claimed(ada, time, true, nil) = try kind.open(fixture).claim(voucher, profile: ada, now: fixture.now)
    else { throw TestFailure("a repeated claim was not replayed") }
    #expect(try store.claim(voucher, profile: ProfileID("crm:bob"), now: fixture.now) == .claimedByOther)
    #expect(
      try store.redeem(voucher, store: StoreID("S1"), profile: ProfileID("crm:bob"), now: fixture.now)
        == .claimedByOther)
    guard case .redeemed(let receipt, false) = try store.redeem(voucher, store: StoreID("S1"), now: fixture.now)
    else { throw TestFailure("not redeemed") }
    #expect(receipt.profile == ada)
    // A claim after the redemption links it too.
    let later = try fixture.voucher(12)
    _ = try store.redeem(later, store: StoreID("S1"), now: fixture.now)
    guard case .claimed = try store.claim(later, profile: ada, now: fixture.now)
    else { throw TestFailure("a redeemed code could not be claimed") }
    #expect(try store.history(of: later).map(\.kind) == [.redeemed, .claimed])
  }

  @Test(
    "blocks: a blocked range refuses redemptions and claims, with its reason, until unblocked; history shows both",
    arguments: conformingStores)
  func blocks(_ kind: any StoreKind) throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let store = try kind.open(fixture)
    let flyer = try #require(ChannelID("flyer"))
    #expect(
      try store.block(
        campaign: fixture.campaign, channel: flyer, serials: 20...29, reason: Reason("box lost"),
        unblock: false, now: fixture.now) == 10)
    let inside = try fixture.voucher(25)
    guard case .blocked(let info) = try kind.open(fixture).redeem(inside, store: StoreID("S1"), now: fixture.now)
    else { throw TestFailure("a blocked code redeemed") }
    #expect(info.reason == "box lost")
    guard case .blocked = try store.claim(inside, profile: ProfileID("crm:1"), now: fixture.now)
    else { throw TestFailure("a blocked code was claimed") }
    #expect(try store.peek(inside).block?.reason == "box lost")
    guard case .redeemed = try store.redeem(try fixture.voucher(30), store: StoreID("S1"), now: fixture.now)
    else { throw TestFailure("a code outside the range was refused") }
    try store.block(
      campaign: fixture.campaign, channel: flyer, serials: 25...25, reason: nil, unblock: true,
      now: fixture.now)
    guard case .redeemed = try kind.open(fixture).redeem(inside, store: StoreID("S1"), now: fixture.now)
    else { throw TestFailure("an unblocked code was refused") }
    #expect(try store.history(of: inside).map(\.kind) == [.blocked, .unblocked, .redeemed])
    #expect(try store.peek(try fixture.voucher(26)).block != nil)
  }

  @Test(
    "a second block keeps the first: a code blocked twice is blocked since the first, with every reason, oldest first; an unblock ends them all",
    arguments: conformingStores)
  func blocksKeepEveryReason(_ kind: any StoreKind) throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let store = try kind.open(fixture)
    let flyer = try #require(ChannelID("flyer"))
    let first = fixture.now
    let later = first.addingTimeInterval(60)
    func block(_ serials: ClosedRange<Int>, _ reason: String?, unblock: Bool = false, at now: Date)
      throws
    {
      try store.block(
        campaign: fixture.campaign, channel: flyer, serials: serials,
        reason: try reason.map { try Reason($0) }, unblock: unblock, now: now)
    }
    try block(20...29, "box 7 lost", at: first)
    try block(25...35, "stolen from the van", at: later)
    try block(20...29, "box 7 lost", at: later)
    try block(20...20, nil, at: later)
    let both = try fixture.voucher(25)
    guard
      case .blocked(let info) = try kind.open(fixture).redeem(
        both, store: StoreID("S1"), now: later)
    else { throw TestFailure("a blocked code redeemed") }
    #expect(info.reason == "box 7 lost; stolen from the van")
    #expect(info.since == BlockInfo(since: first, reason: nil).since)
    #expect(try store.peek(both).block == info)
    #expect(try store.peek(try fixture.voucher(20)).block?.reason == "box 7 lost")
    #expect(try store.peek(try fixture.voucher(30)).block?.reason == "stolen from the van")
    #expect(try store.peek(try fixture.voucher(30)).block?.since == later)
    // An unblock ends every block over the code; a block after it starts afresh.
    try block(25...25, nil, unblock: true, at: later)
    #expect(try store.peek(both).block == nil)
    let again = later.addingTimeInterval(60)
    try block(21...26, "found torn", at: again)
    #expect(try store.peek(both).block == BlockInfo(since: again, reason: "found torn"))
    #expect(
      try store.peek(try fixture.voucher(24)).block?.reason
        == "box 7 lost; found torn")
    #expect(
      try store.history(of: both).map(\.kind) == [
        .blocked, .blocked, .blocked, .unblocked, .blocked,
      ])
  }

  @Test(
    "a batch is in order: later operations of a batch see earlier ones",
    arguments: conformingStores)
  func batches(_ kind: any StoreKind) throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let store = try kind.open(fixture)
    let a = try fixture.voucher(40)
    let results = try store.perform(
      [
        .redeem(a, store: try StoreID("S1"), terminal: nil, profile: nil, request: nil),
        .redeem(a, store: try StoreID("S2"), terminal: nil, profile: nil, request: nil),
        .status(a), .void(a, reason: nil, request: nil), .history(a),
      ], now: fixture.now)
    guard case .redeem(.redeemed(let receipt, false)) = results[0],
      case .redeem(.usedUp(receipt)) = results[1],
      case .status(let status) = results[2], status.uses == 1,
      case .void(.voided(receipt, 1, false)) = results[3],
      case .history(let history) = results[4]
    else { throw TestFailure("\(results)") }
    #expect(history.map(\.kind) == [.redeemed, .voided])
  }

  @Test(
    "erasure: no event names a forgotten profile; counts stay; its claim stays claimed by nobody",
    arguments: conformingStores)
  func erasure(_ kind: any StoreKind) throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let store = try kind.open(fixture)
    let ada = try ProfileID("crm:ada-4711")
    let claimed = try fixture.voucher(50)
    let redeemed = try fixture.voucher(51)
    _ = try store.claim(claimed, profile: ada, now: fixture.now)
    _ = try store.redeem(redeemed, store: StoreID("S1"), profile: ada, now: fixture.now)
    let report = try kind.open(fixture).forget(profile: ada)
    #expect(report.redemptions == 1 && report.claims == 1)
    for voucher in [claimed, redeemed] {
      let history = try store.history(of: voucher)
      #expect(history.allSatisfy { $0.profile == nil && $0.profileErased })
    }
    var named = 0
    try store.forEachEvent { if $0.profile == ada.rawValue { named += 1 } }
    #expect(named == 0)
    #expect(try store.status(of: redeemed).uses == 1)
    #expect(try store.claim(claimed, profile: ada, now: fixture.now) == .claimedByOther)
    guard case .redeemed(let receipt, false) = try store.redeem(claimed, store: StoreID("S1"), now: fixture.now)
    else { throw TestFailure("not redeemed") }
    #expect(receipt.profile == nil)
  }
}
