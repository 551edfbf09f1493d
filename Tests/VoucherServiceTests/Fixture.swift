import Foundation
import Synchronization
import VoucherKit
import VoucherRegistry
import VoucherService

/// A temporary home with a key and a campaign `summer` (channel flyer, one use per code), its
/// file registry, and codes to send.
struct Fixture {
  let home: VoucherHome
  let verifier: Verifier
  let now = Date(timeIntervalSince1970: 1_790_000_000)
  private let issuer: Issuer

  init() throws {
    home = VoucherHome(
      FileManager.default.temporaryDirectory.appendingPathComponent(
        "voucher-service-\(UUID().uuidString)"
      ).path)
    try KeyRing.generate(in: home.keys, now: now)
    let ring = try KeyRing.load(from: home.keys)
    let spec = CampaignSpec(id: CampaignID("summer")!, channels: [ChannelID("flyer")!])
    let campaign = try home.campaignStore.add(spec, keyRing: ring, now: now)
    verifier = Verifier(keyRing: ring, campaigns: try home.campaignStore.load())
    issuer = try Issuer(campaign: campaign, keyRing: ring)
  }

  func remove() { try? FileManager.default.removeItem(atPath: home.path) }

  /// The code of a serial, as printed.
  func code(_ serial: Int) -> String { issuer.code(channel: 0, serial: serial).description }

  /// The home's file registry.
  func registry() throws -> Registry {
    try Registry.open(home: home, campaigns: verifier.campaigns, create: true, lockTimeout: 5)
  }

  /// A service on this home's key ring and campaigns, at the fixture's fixed time.
  func service() -> Service {
    let now = self.now
    return Service(verifier: verifier, clock: { now })
  }
}

/// A client that keeps what it is handed: the answers in order, and how.
final class Collector: ServiceClient {
  struct Handed: Sendable {
    let answers: [ServiceAnswer]
    /// Whether it came through `deliverNow` (answered on the submitting thread).
    let now: Bool
  }

  private let handed = Mutex<[Handed]>([])
  private let finishes = Mutex(0)

  func deliver(_ answers: [ServiceAnswer]) {
    handed.withLock { $0.append(Handed(answers: answers, now: false)) }
  }

  func deliverNow(_ answers: [ServiceAnswer]) {
    handed.withLock { $0.append(Handed(answers: answers, now: true)) }
  }

  func finished() { finishes.withLock { $0 += 1 } }

  /// Every handing-over, in order.
  var deliveries: [Handed] { handed.withLock { $0 } }
  /// Every answer, in order.
  var answers: [ServiceAnswer] { deliveries.flatMap(\.answers) }
  /// How often `finished()` was called.
  var finishedCount: Int { finishes.withLock { $0 } }
}

/// A store that passes everything to another and counts the operations of each batch.
final class CountingStore: RegistryStore {
  let inner: any RegistryStore
  /// Operations per `perform` call, in order.
  private(set) var batches: [Int] = []
  /// When set, every batch fails with it.
  var failure: RegistryError?

  init(_ inner: any RegistryStore) { self.inner = inner }

  func perform(_ operations: [RegistryOperation], now: Date) throws(RegistryError)
    -> [RegistryResult]
  {
    batches.append(operations.count)
    if let failure { throw failure }
    return try inner.perform(operations, now: now)
  }
  func peek(_ voucher: Voucher) throws(RegistryError) -> CodeStatus { try inner.peek(voucher) }
  func block(
    campaign: Campaign, channel: ChannelID, serials: ClosedRange<Int>, reason: Reason?,
    unblock: Bool, now: Date
  ) throws(RegistryError) -> Int {
    try inner.block(
      campaign: campaign, channel: channel, serials: serials, reason: reason, unblock: unblock,
      now: now)
  }
  func forEachEvent(campaign: CampaignID?, _ visit: (JournalEvent) throws -> Void) throws {
    try inner.forEachEvent(campaign: campaign, visit)
  }
  func addEvents(to report: inout ReportBuilder) throws { try inner.addEvents(to: &report) }
  func forget(profile: ProfileID) throws(RegistryError) -> ForgetReport {
    try inner.forget(profile: profile)
  }
  func check() throws(RegistryError) -> CheckReport { try inner.check() }
  func takeWarnings() -> [String] { inner.takeWarnings() }
}

/// A request line's fields.
func request(_ id: Int, _ op: String, _ code: String, _ more: [String: JSONScalar] = [:])
  -> IncomingRequest
{
  var fields: [String: JSONScalar] = [
    "id": .number(String(id)), "op": .string(op), "code": .string(code),
  ]
  fields.merge(more) { _, new in new }
  return .fields(fields)
}

extension ServiceAnswer {
  /// The answer's status word: the outcome's, or `error`.
  var status: String {
    if case .outcome(let outcome) = result { return outcome.status }
    return "error"
  }
}
