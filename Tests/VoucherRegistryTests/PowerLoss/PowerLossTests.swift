import Foundation
import Testing
import VoucherTestSupport

@testable import VoucherKit
@testable import VoucherRegistry

/// A scripted workload of group commits over several campaigns, run through ``RecordingFiles``;
/// at every sync point, crash states are built, recovered with the real file layer, and checked.
final class PowerLossRun {
  /// One code event the registry acknowledged (or was about to).
  struct Expected: Equatable {
    let kind: Event.Kind
    /// The store of a redemption, the profile of a claim.
    let detail: String?
    /// The id of a redemption (its receipt names it).
    let id: EventID?
  }

  /// A code of the workload.
  struct Code {
    let voucher: Voucher
    let key: String
  }

  /// A crash state waiting for the outcome of the batch in flight.
  struct Pending {
    let folder: String
    let point: Int
  }

  let fixture: Fixture
  let book: CampaignBook
  let codes: [Code]
  let statesPerPoint: Int
  /// Draws the workload.
  var random: SeededGenerator
  /// Draws the crash states (apart, so the workload is the same whatever their number).
  var crashRandom: SeededGenerator
  let scratch: String

  /// Acknowledged events per code, oldest first.
  var acknowledged: [String: [Expected]] = [:]
  /// Blocked serial ranges acknowledged: (campaign, channel, serials, blocked).
  var ackedBlocks: [(String, Int, ClosedRange<Int>, Bool)] = []
  var pending: [Pending] = []
  var points = 0
  var statesChecked = 0
  var outcomes: [CrashPoint.Outcome: Int] = [:]
  var checkResults: [String: Int] = [:]
  var failures: [String] = []

  init(seed: UInt64, statesPerPoint: Int) throws {
    fixture = try Fixture(uses: 2, capacity: 200)
    var autumn = CampaignSpec(id: CampaignID("autumn")!, channels: [ChannelID("box")!])
    autumn.uses = 3
    autumn.capacity = 50
    _ = try fixture.home.campaignStore.add(autumn, keyRing: fixture.ring, now: Date())
    book = try fixture.home.campaignStore.load()
    random = SeededGenerator(seed: seed)
    crashRandom = SeededGenerator(seed: seed &* 7919)
    self.statesPerPoint = statesPerPoint
    // Recovering a crash state syncs its files: tmpfs makes that free, and it is no part of what
    // is checked (the crash state is already what the disk kept).
    let shared = "/dev/shm"
    scratch =
      (FileManager.default.isWritableFile(atPath: shared) ? shared : fixture.home.path)
      + "/voucher-crashes-\(UUID().uuidString)"
    var codes: [Code] = []
    for (campaign, channel, count) in [
      ("summer", 0, 10), ("summer", 1, 5), ("winter", 0, 6), ("autumn", 0, 6),
    ] {
      let campaign = book.campaign(CampaignID(campaign)!)!
      let issuer = try Issuer(campaign: campaign, keyRing: fixture.ring)
      for serial in 1...count {
        let code = issuer.code(channel: channel, serial: serial)
        guard
          case .valid(let voucher) = Verifier(keyRing: fixture.ring, campaigns: book).verify(
            code, now: fixture.now)
        else { throw TestFailure("a code does not verify") }
        codes.append(Code(voucher: voucher, key: "\(campaign.id)/\(channel)/\(serial)"))
      }
    }
    self.codes = codes
  }

  /// Runs the workload; every sync point leaves crash states, checked once the batch in flight
  /// has answered.
  func run(batches: Int) throws {
    // The registry exists (created and synced) before the recording starts.
    _ = try Registry.open(
      folder: fixture.home.registry, campaigns: book, create: true, lockTimeout: 5,
      files: SystemFiles())
    let files = try RecordingFiles(folder: fixture.home.registry)
    let registry = try Registry.open(
      folder: fixture.home.registry, campaigns: book, create: false, lockTimeout: 5, files: files)
    files.onSyncPoint = { [unowned self] _ in
      self.points += 1
      let point = CrashPoint(files)
      for (number, plan) in point.plans(limit: statesPerPoint, random: &crashRandom).enumerated() {
        let folder = "\(scratch)/\(points)-\(number)/Registry"
        do {
          try point.materialize(
            plan, root: fixture.home.registry, into: folder, random: &crashRandom,
            outcomes: &outcomes)
          try Self.restart(folder)
          pending.append(Pending(folder: folder, point: points))
        } catch {
          failures.append("point \(points): \(error)")
        }
      }
    }
    for step in 0..<batches {
      if step % 9 == 4 {
        // A block of a few serials, or an unblock of one.
        let unblock = step % 2 == 1
        let serials = unblock ? 9...9 : 8...10
        try registry.block(
          campaign: book.campaign(CampaignID("summer")!)!, channel: ChannelID("flyer")!,
          serials: serials, reason: Reason("lost box"), unblock: unblock, now: fixture.now)
        verifyPending(inFlight: [], block: ("summer", 0, serials, !unblock))
        ackedBlocks.append(("summer", 0, serials, !unblock))
        continue
      }
      if step % 7 == 6 {
        // A checkpoint: the index files and the state are synced.
        try registry.locked(writing: true) { () throws(RegistryError) in
          try registry.checkpoint()
        }
        verifyPending(inFlight: [], block: nil)
      }
      let size = step % 5 == 2 ? 70 : Int.random(in: 1...6, using: &random)
      var operations: [RegistryOperation] = []
      var touched: [Code] = []
      for number in 0..<size {
        let code = codes.randomElement(using: &random)!
        touched.append(code)
        switch Int.random(in: 0..<20, using: &random) {
        case 0..<13:
          let request =
            Int.random(in: 0..<3, using: &random) == 0
            ? try RequestID("r\(Int.random(in: 0..<4, using: &random))") : nil
          let profile =
            Int.random(in: 0..<5, using: &random) == 0
            ? try ProfileID("p:\(Int.random(in: 1...2, using: &random))") : nil
          operations.append(
            .redeem(
              code.voucher, store: try StoreID("S\(step).\(number)"), terminal: nil,
              profile: profile, request: request))
        case 13..<16:
          operations.append(.void(code.voucher, reason: nil, request: nil))
        case 16..<19:
          operations.append(
            .claim(
              code.voucher, profile: try ProfileID("p:\(Int.random(in: 1...2, using: &random))")))
        default:
          operations.append(.status(code.voucher))
        }
      }
      let results = try registry.perform(operations, now: fixture.now)
      var events: [(String, Expected)] = []
      for (code, (operation, result)) in zip(touched, zip(operations, results)) {
        switch (operation, result) {
        case (.redeem(_, let store, _, _, _), .redeem(.redeemed(let receipt, false))):
          events.append(
            (code.key, Expected(kind: .redeemed, detail: store?.rawValue, id: receipt.id)))
        case (_, .void(.voided(_, _, false))):
          events.append((code.key, Expected(kind: .voided, detail: nil, id: nil)))
        case (_, .claim(.claimed(let profile, _, false, _))):
          events.append((code.key, Expected(kind: .claimed, detail: profile.rawValue, id: nil)))
        case (_, .failed(let error)):
          failures.append("step \(step): an operation failed: \(error)")
        default:
          break
        }
      }
      verifyPending(inFlight: events, block: nil)
      for (key, event) in events { acknowledged[key, default: []].append(event) }
    }
    files.onSyncPoint = nil
    verifyPending(inFlight: [], block: nil)
  }

  /// Gives the crash state's `state` file another boot id: the machine restarted.
  static func restart(_ folder: String) throws {
    let path = folder + "/state"
    guard let data = FileManager.default.contents(atPath: path),
      var state = RegistryState.parse(Array(data))
    else { return }
    state.boot = [UInt8](repeating: 0x5A, count: 16)
    try Data(state.encoded()).write(to: URL(fileURLWithPath: path))
  }

  /// Recovers and checks every crash state built since the last batch answered.
  func verifyPending(inFlight: [(String, Expected)], block: (String, Int, ClosedRange<Int>, Bool)?)
  {
    for state in pending {
      statesChecked += 1
      do {
        try verify(state, inFlight: inFlight, block: block)
      } catch {
        failures.append("crash point \(state.point), \(state.folder): \(error)")
      }
      try? FileManager.default.removeItem(atPath: FileSystem.parentDirectory(of: state.folder))
    }
    pending = []
  }

  private func verify(
    _ state: Pending, inFlight: [(String, Expected)], block: (String, Int, ClosedRange<Int>, Bool)?
  ) throws {
    let place = "crash point \(state.point) (\(state.folder))"
    let registry = try Registry.open(
      folder: state.folder, campaigns: book, create: false, lockTimeout: 5, files: SystemFiles())
    let report = try registry.check()
    guard report.problems.isEmpty else {
      checkResults["damage", default: 0] += 1
      failures.append("\(place): check reports damage: \(report.problems)")
      return
    }
    checkResults[report.tornTail == nil ? "clean" : "torn tail", default: 0] += 1
    // Every acknowledged event is there, then a prefix of the batch in flight, whole records.
    var survivors: [String: Int] = [:]
    for code in codes {
      let events = try registry.history(of: code.voucher).filter {
        $0.kind == .redeemed || $0.kind == .voided || $0.kind == .claimed
      }.map { event in
        Expected(
          kind: event.kind, detail: event.kind == .redeemed ? event.store : event.profile,
          id: event.kind == .redeemed ? event.id : nil)
      }
      let acked = acknowledged[code.key] ?? []
      guard events.count >= acked.count, Array(events.prefix(acked.count)) == acked else {
        failures.append(
          "\(place): \(code.key) lost an acknowledged event: has \(events), acknowledged \(acked)")
        continue
      }
      let extra = Array(events.dropFirst(acked.count))
      let flying = inFlight.filter { $0.0 == code.key }.map(\.1)
      guard extra.count <= flying.count, Array(flying.prefix(extra.count)) == extra else {
        failures.append("\(place): \(code.key) has events never sent: \(extra)")
        continue
      }
      survivors[code.key] = extra.count
      let status = try registry.status(of: code.voucher)
      let live =
        events.filter { $0.kind == .redeemed }.count - events.filter { $0.kind == .voided }.count
      if status.uses != live || status.uses > code.voucher.campaign.uses {
        failures.append(
          "\(place): \(code.key) counts \(status.uses) uses, history \(live), limit \(code.voucher.campaign.uses)"
        )
      }
    }
    // The batch in flight survived as a prefix: its first n events, no later one.
    let total = survivors.values.reduce(0, +)
    var prefix: [String: Int] = [:]
    for (key, _) in inFlight.prefix(total) { prefix[key, default: 0] += 1 }
    if prefix.filter({ $0.value > 0 }) != survivors.filter({ $0.value > 0 }) {
      failures.append("\(place): the batch in flight survived out of order: \(survivors)")
    }
    // Blocks: acknowledged ones hold; the one in flight is there or not.
    for code in codes where code.key.hasPrefix("summer/0/") {
      let serial = Int(code.key.split(separator: "/")[2])!
      var expected = false
      for (_, _, serials, blocked) in ackedBlocks where serials.contains(serial) {
        expected = blocked
      }
      let actual = try registry.status(of: code.voucher).block != nil
      let alternative = block.map { $0.2.contains(serial) ? $0.3 : expected } ?? expected
      if actual != expected && actual != alternative {
        failures.append("\(place): \(code.key) blocked \(actual), expected \(expected)")
      }
    }
    // The next write repairs what is left, and the registry then checks clean.
    let fresh = try fixture.voucher(150)
    guard case .redeemed = try registry.redeem(fresh, store: StoreID("after"), now: fixture.now)
    else {
      failures.append("\(place): a fresh code was not redeemed after recovery")
      return
    }
    let after = try Registry.open(
      folder: state.folder, campaigns: book, create: false, lockTimeout: 5, files: SystemFiles()
    ).check()
    if !after.problems.isEmpty || after.tornTail != nil {
      failures.append(
        "\(place): not clean after a write: \(after.problems), \(after.tornTail as Any)")
    }
  }
}

@Suite("Registry: power loss at every sync point")
struct PowerLossTests {
  @Test(
    "crash states at every sync point (unsynced writes kept, dropped, torn, garbled; mapped pages old, new or mixed) keep every acknowledged operation"
  )
  func powerLoss() throws {
    let soak = ProcessInfo.processInfo.environment["VOUCHER_SOAK"] == "1"
    var checked = 0
    var points = 0
    var outcomes: [CrashPoint.Outcome: Int] = [:]
    var results: [String: Int] = [:]
    for seed: UInt64 in soak ? Array(1...8) : [1, 2] {
      let run = try PowerLossRun(seed: seed, statesPerPoint: soak ? 96 : 24)
      defer {
        run.fixture.remove()
        try? FileManager.default.removeItem(atPath: run.scratch)
      }
      try run.run(batches: soak ? 60 : 30)
      #expect(run.failures.isEmpty, "seed \(seed): \(run.failures.prefix(5))")
      checked += run.statesChecked
      points += run.points
      outcomes.merge(run.outcomes, uniquingKeysWith: +)
      results.merge(run.checkResults, uniquingKeysWith: +)
    }
    let figures = CrashPoint.Outcome.allCases.map { "\($0.rawValue) \(outcomes[$0] ?? 0)" }
    print(
      "power loss: \(checked) crash states checked at \(points) sync points; pending changes: \(figures.joined(separator: ", ")); check after recovery: \(results.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))"
    )
    #expect(checked > 0)
  }
}
