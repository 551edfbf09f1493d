import Foundation
import Synchronization
import Testing
import VoucherKit
import VoucherRegistry
import VoucherService

@Suite("a service whose campaigns change while it runs")
struct ServiceVerifiersTests {
  @Test(
    "a service made with verifiers checks each verify at once and each batch with the verifier of that moment"
  )
  func verifierOfTheMoment() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let store = try fixture.registry()
    let current = Mutex(fixture.verifier)
    let now = fixture.now
    let service = Service(verifiers: { current.withLock { $0 } }, clock: { now })
    let engine = ServiceEngine(service: service, store: store)
    let client = Collector()
    let session = service.open(client)
    let view = try fixture.registry()
    session.submit([request(1, "verify", fixture.code(1))], view: view)
    // The campaign is cut short: the next verify, and the next batch, see it.
    let id = CampaignID("summer")!
    _ = try fixture.home.campaignStore.setEnds(id, to: "2020-01-31", now: now)
    let ring = try KeyRing.load(from: fixture.home.keys)
    current.withLock {
      $0 = Verifier(keyRing: ring, campaigns: try! fixture.home.campaignStore.load())
    }
    session.submit([request(2, "verify", fixture.code(1))], view: view)
    session.submit([request(3, "redeem", fixture.code(2), ["store": .string("S1")])], view: view)
    service.stop()
    session.finish()
    engine.run()
    #expect(client.answers.map(\.status) == ["valid", "expired", "expired"])
    #expect(client.deliveries.prefix(2).allSatisfy { $0.now })
    // Nothing was recorded for the refused redemption.
    let voucher = try #require(fixture.verifier.verify(fixture.code(2), now: now).voucher)
    #expect(try store.status(of: voucher).uses == 0)
  }
}
