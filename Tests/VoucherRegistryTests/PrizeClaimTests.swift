import Foundation
import Testing
import VoucherTestSupport

@testable import VoucherKit
@testable import VoucherRegistry

@Suite("Prizes in the registry: awarded once, with the claim, answered again on a retry")
struct PrizeClaimTests {
  let tiers = [
    PrizeTier(name: PrizeName("gift-card")!, count: 10),
    PrizeTier(name: PrizeName("coffee")!, count: 100),
  ]

  @Test(
    "claiming all 100,000 codes of a run in random order finds exactly 10 and 100 winners, spread evenly over the order of claims; the prizes are in the event stream"
  )
  func everyCode() throws {
    let fixture = try Fixture(capacity: 100_000)
    defer { fixture.remove() }
    let book = PrizeBook(home: fixture.home, campaign: fixture.campaign.id)
    let allocation = try book.add(
      channel: ChannelID("flyer")!, serials: 1...100_000, tiers: tiers, capacity: 100_000,
      now: fixture.now)
    let winners = try book.winners(of: allocation)
    let registry = try fixture.registry()
    var generator = SeededGenerator(seed: 14)
    let order = Array(1...100_000).shuffled(using: &generator)
    let issuer = try Issuer(campaign: fixture.campaign, keyRing: fixture.ring)
    let verifier = Verifier(keyRing: fixture.ring, campaigns: fixture.book)
    var won: [String: Int] = [:]
    var tenths = [Int](repeating: 0, count: 10)
    for start in stride(from: 0, to: order.count, by: 2_000) {
      let serials = order[start..<min(start + 2_000, order.count)]
      let operations = try serials.map { serial -> RegistryOperation in
        guard
          case .valid(let voucher) = verifier.verify(
            issuer.code(channel: 0, serial: serial), now: fixture.now)
        else { throw TestFailure("a code does not verify") }
        return .claim(voucher, profile: try ProfileID("crm:\(serial)"), prize: winners[serial])
      }
      let results = try registry.perform(operations, now: fixture.now)
      for (position, result) in zip(serials.indices, results) {
        guard case .claim(.claimed(_, _, false, let prize)) = result else {
          throw TestFailure("a claim was not recorded: \(result)")
        }
        if let prize {
          won[prize.rawValue, default: 0] += 1
          tenths[position / 10_000] += 1
        }
      }
    }
    #expect(won == ["gift-card": 10, "coffee": 100])
    #expect(chiSquare(tenths) < chiSquare9At999, "\(tenths)")
    var streamed: [Int: String] = [:]
    try registry.forEachEvent { event in
      if let prize = event.prize { streamed[event.serial] = prize }
    }
    #expect(streamed == winners.mapValues(\.rawValue))
  }

  @Test(
    "a retried claim answers the prize recorded with the first one, also from a new handle; another profile wins nothing; erasure keeps the award",
    arguments: conformingStores)
  func retries(_ kind: any StoreKind) throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let voucher = try fixture.voucher(7)
    let ada = try ProfileID("crm:ada")
    let gift = PrizeName("gift-card")!
    let store = try kind.open(fixture)
    guard
      case .claimed(ada, let time, false, gift) = try store.claim(
        voucher, profile: ada, prize: gift, now: fixture.now)
    else { throw TestFailure("the first claim does not name its prize") }
    // The decision is passed in with every claim; a retry answers what was recorded.
    let again = try kind.open(fixture).claim(voucher, profile: ada, prize: nil, now: fixture.now)
    #expect(again == .claimed(ada, time: time, replayed: true, prize: gift))
    let other = try store.claim(
      voucher, profile: try ProfileID("crm:bob"), prize: gift, now: fixture.now)
    #expect(other == .claimedByOther)
    // A code claimed without a prize keeps none.
    let plain = try fixture.voucher(8)
    _ = try store.claim(plain, profile: ada, now: fixture.now)
    #expect(
      try store.claim(plain, profile: ada, prize: gift, now: fixture.now)
        == .claimed(ada, time: fixture.now, replayed: true, prize: nil))
    var prizes: [Int: String?] = [:]
    try store.forEachEvent { prizes[$0.serial] = $0.prize }
    #expect(prizes == [7: "gift-card", 8: nil])
    _ = try store.forget(profile: ada)
    var kept: [Int: String?] = [:]
    try kind.open(fixture).forEachEvent { kept[$0.serial] = $0.prize }
    #expect(kept == prizes)
    #expect(try store.check().damage.isEmpty)
  }
}
