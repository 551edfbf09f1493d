import Foundation
import Testing

@testable import VoucherKit
@testable import VoucherRegistry

@Suite("The file registry's per-profile counts")
struct ProfileTallyTests {
  @Test(
    "a limit set on a running campaign counts the redemptions made before it, in a registry opened before it"
  )
  func limitSetWhileOpen() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let registry = try fixture.registry()
    let alice = try ProfileID("crm:alice")
    _ = try registry.redeem(
      fixture.voucher(1), store: StoreID("S1"), profile: alice, now: fixture.now)
    // The campaign file gains a limit while the registry stays open (a running serve).
    let store = fixture.home.campaignStore
    let path = store.path(of: fixture.campaign.id)
    let text = try String(contentsOfFile: path, encoding: .utf8)
    try text.replacingOccurrences(
      of: "{\n", with: "{\n  \"limits\" : {\"period\" : \"campaign\", \"redemptions\" : 1},\n",
      options: [.anchored]
    ).write(toFile: path, atomically: true, encoding: .utf8)
    let book = try store.load()
    let campaign = try #require(book.campaign(fixture.campaign.id))
    #expect(campaign.limits?.redemptions == 1)
    let code = try Issuer(campaign: campaign, keyRing: fixture.ring).code(channel: 0, serial: 2)
    guard
      case .valid(let voucher) = Verifier(keyRing: fixture.ring, campaigns: book).verify(
        code, now: fixture.now)
    else { throw TestFailure("the code does not verify") }
    #expect(
      try registry.redeem(voucher, store: StoreID("S1"), profile: alice, now: fixture.now)
        == .profileLimit(until: nil))
  }
}
