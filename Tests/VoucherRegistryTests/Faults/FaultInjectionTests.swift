import Foundation
import Testing

@testable import VoucherKit
@testable import VoucherRegistry

/// A short scripted workload, run again and again with one call failing each time.
struct FaultWorkload {
  let fixture: Fixture
  let book: CampaignBook

  /// A code of the workload: campaign, channel, serial.
  func voucher(_ key: String) throws -> Voucher {
    let parts = key.split(separator: "/")
    return try fixture.voucher(
      Int(parts[2])!, channel: Int(parts[1])!, campaign: String(parts[0]))
  }

  /// The steps: each is run, then its events (per code key) are acknowledged.
  func steps() -> [(name: String, events: [(String, Event.Kind)], run: (Registry) throws -> Bool)] {
    let now = fixture.now
    return [
      (
        "first batch (creates the registry and two indexes)",
        [("summer/0/1", .redeemed), ("winter/0/1", .redeemed), ("summer/0/2", .claimed)],
        { registry in
          let results = try registry.perform(
            [
              .redeem(
                try voucher("summer/0/1"), store: StoreID("S1"), terminal: nil, profile: nil,
                request: nil),
              .redeem(
                try voucher("winter/0/1"), store: StoreID("S2"), terminal: nil, profile: nil,
                request: nil),
              .claim(try voucher("summer/0/2"), profile: ProfileID("p:1")),
            ], now: now)
          return results.allSatisfy { if case .failed = $0 { false } else { true } }
        }
      ),
      (
        "second batch",
        [("summer/0/1", .redeemed), ("winter/0/1", .voided), ("summer/0/3", .redeemed)],
        { registry in
          let results = try registry.perform(
            [
              .redeem(
                try voucher("summer/0/1"), store: StoreID("S3"), terminal: nil, profile: nil,
                request: RequestID("q1")),
              .void(try voucher("winter/0/1"), reason: nil, request: nil),
              .redeem(
                try voucher("summer/0/3"), store: StoreID("S4"), terminal: nil, profile: nil,
                request: nil),
            ], now: now)
          guard case .redeem(.redeemed(_, false)) = results[0], case .void(.voided) = results[1]
          else { return false }
          return true
        }
      ),
      (
        "block",
        [],
        { registry in
          try registry.block(
            campaign: fixture.campaign, channel: ChannelID("flyer")!, serials: 7...8,
            reason: nil, now: now)
          return true
        }
      ),
      (
        "a batch of ten",
        (10..<20).map { ("summer/1/\($0)", .redeemed) },
        { registry in
          let results = try registry.perform(
            try (10..<20).map {
              .redeem(
                try voucher("summer/1/\($0)"), store: try StoreID("B\($0)"), terminal: nil,
                profile: nil, request: nil)
            }, now: now)
          return results.allSatisfy { if case .redeem(.redeemed) = $0 { true } else { false } }
        }
      ),
      (
        "checkpoint",
        [],
        { registry in
          try registry.locked(writing: true) { () throws(RegistryError) in try registry.checkpoint()
          }
          return true
        }
      ),
      (
        "last batch",
        [("summer/0/1", .voided), ("summer/0/2", .redeemed)],
        { registry in
          let results = try registry.perform(
            [
              .void(try voucher("summer/0/1"), reason: nil, request: nil),
              .redeem(
                try voucher("summer/0/2"), store: StoreID("S5"), terminal: nil, profile: nil,
                request: nil),
            ], now: now)
          guard case .void(.voided) = results[0],
            case .redeem(.redeemed(let receipt, false)) = results[1]
          else { return false }
          return receipt.profile?.rawValue == "p:1"
        }
      ),
    ]
  }

  static let keys =
    ["summer/0/1", "summer/0/2", "summer/0/3", "winter/0/1"] + (10..<20).map { "summer/1/\($0)" }
}

@Suite("Registry: a failing sync, write, allocation or short write at every call")
struct FaultInjectionTests {
  @Test(
    "no acknowledgement for the failed operation, a clear error, a fence after a failed sync, and every acknowledged operation still there"
  )
  func faultAtEveryCall() throws {
    let fixture = try Fixture(uses: 2, capacity: 100)
    defer { fixture.remove() }
    let workload = FaultWorkload(fixture: fixture, book: fixture.book)
    let shared = "/dev/shm"
    let scratch =
      (FileManager.default.isWritableFile(atPath: shared) ? shared : fixture.home.path)
      + "/voucher-faults-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: scratch) }
    // A run without faults numbers the calls.
    let counting = FailingFiles()
    let countFolder = scratch + "/count/Registry"
    try FileManager.default.createDirectory(
      atPath: scratch + "/count", withIntermediateDirectories: true)
    var registry: Registry? = try Registry.open(
      folder: countFolder, campaigns: fixture.book, create: true, lockTimeout: 5, files: counting)
    for step in workload.steps() { #expect(try step.run(registry!), "\(step.name)") }
    registry = nil
    let calls = counting.calls
    var injected: [FailingFiles.Fault: Int] = [:]
    var failures: [String] = []
    var run = 0
    for (index, call) in calls.enumerated() {
      for fault in FailingFiles.faults(for: call) {
        run += 1
        let folder = "\(scratch)/\(run)/Registry"
        try FileManager.default.createDirectory(
          atPath: "\(scratch)/\(run)", withIntermediateDirectories: true)
        let files = FailingFiles()
        files.failing = index
        files.fault = fault
        let place = "call \(index) (\(call)), \(fault.rawValue)"
        do {
          try check(
            workload, folder: folder, files: files, place: place, failures: &failures)
        } catch {
          failures.append("\(place): \(error)")
        }
        if files.fired { injected[fault, default: 0] += 1 }
        try? FileManager.default.removeItem(atPath: "\(scratch)/\(run)")
      }
    }
    #expect(failures.isEmpty, "\(failures.count) failures: \(failures.prefix(8))")
    let total = injected.values.reduce(0, +)
    print(
      "faults: \(total) injected at \(calls.count) calls; \(FailingFiles.Fault.allCases.map { "\($0.rawValue) \(injected[$0] ?? 0)" }.joined(separator: ", "))"
    )
    #expect(total == run)
  }

  @Test(
    "a failed sync of an index, its folder, the block list or the state fences the registry, and check syncs them all before lifting the fence",
    arguments: ["/summer.idx", "/index", "/blocks.new", "/state"])
  func everyFailedSyncFences(suffix: String) throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let files = FaultyFiles()
    let registry = try fixture.registry(files: files)
    files.failSync = { $0.hasSuffix(suffix) }
    files.failFolderSync = { $0.hasSuffix(suffix) }
    // The first redeem creates the index; a block writes the block list; a checkpoint syncs
    // the index files, their folder and the state.
    _ = try? registry.redeem(try fixture.voucher(1), store: StoreID("S1"), now: fixture.now)
    _ = try? registry.block(
      campaign: fixture.campaign, channel: ChannelID("flyer")!, serials: 5...6, reason: nil,
      now: fixture.now)
    _ = try? registry.locked(writing: true) { () throws(RegistryError) in
      try registry.checkpoint()
    }
    #expect(
      FileManager.default.fileExists(atPath: fixture.home.registry + "/FENCED"), "\(suffix)")
    files.failSync = { _ in false }
    files.failFolderSync = { _ in false }
    files.folderSyncs = []
    #expect(throws: RegistryError.self) {
      try registry.redeem(try fixture.voucher(2), store: StoreID("S2"), now: fixture.now)
    }
    #expect(try registry.check().problems.isEmpty)
    #expect(!FileManager.default.fileExists(atPath: fixture.home.registry + "/FENCED"))
    #expect(files.folderSyncs.contains(fixture.home.registry + "/index"), "\(files.folderSyncs)")
    #expect(files.folderSyncs.contains(fixture.home.path), "\(files.folderSyncs)")
    #expect(
      try registry.redeem(try fixture.voucher(2), store: StoreID("S2"), now: fixture.now).receipt
        != nil)
  }

  /// Runs the workload with one fault, then reopens with the real layer and checks.
  private func check(
    _ workload: FaultWorkload, folder: String, files: FailingFiles, place: String,
    failures: inout [String]
  ) throws {
    var acknowledged: [String: [Event.Kind]] = [:]
    var failedStep: [(String, Event.Kind)] = []
    var failure: Error?
    do {
      let registry = try Registry.open(
        folder: folder, campaigns: workload.book, create: true, lockTimeout: 5, files: files)
      for step in workload.steps() {
        do {
          guard try step.run(registry) else {
            failures.append("\(place): \(step.name) gave other answers than without a fault")
            return
          }
          for (key, kind) in step.events { acknowledged[key, default: []].append(kind) }
        } catch {
          failure = error
          failedStep = step.events
          break
        }
      }
    } catch {
      failure = error  // creating or opening the registry failed
    }
    guard files.fired else { return }
    let failedSync = files.fault == .syncError || files.fault == .folderSyncError
    if let failure {
      // A clear error: the registry's own, naming the failed call's errno.
      guard let error = failure as? RegistryError else {
        failures.append("\(place): not a registry error: \(failure)")
        return
      }
      let text = error.description
      if !(text.contains("Input/output error") || text.contains("No space left on device")
        || text.contains("refuses writes"))
      {
        failures.append("\(place): an unclear error: \(text)")
      }
    }
    guard FileManager.default.fileExists(atPath: folder + "/journal") else {
      // The fault stopped the registry's creation: none exists, nothing was acknowledged.
      if !acknowledged.isEmpty { failures.append("\(place): acknowledged without a registry") }
      return
    }
    let fenced = FileManager.default.fileExists(atPath: folder + "/FENCED")
    if failedSync && !fenced {
      failures.append("\(place): a sync failed but the registry is not fenced")
    }
    let reopened = try Registry.open(
      folder: folder, campaigns: workload.book, create: false, lockTimeout: 5,
      files: SystemFiles())
    if fenced {
      do {
        _ = try reopened.redeem(
          try workload.voucher("summer/0/50"), store: StoreID("X"), now: workload.fixture.now)
        failures.append("\(place): a fenced registry accepted a write")
      } catch RegistryError.fenced {
      } catch {
        failures.append("\(place): a fenced registry answered \(error), not fenced")
      }
    }
    // Every acknowledged operation is there; the failed step's wholly or not at all.
    for key in FaultWorkload.keys {
      let kinds = try reopened.history(of: try workload.voucher(key)).map(\.kind).filter {
        $0 != .blocked
      }
      let acked = acknowledged[key] ?? []
      let withFailed = acked + failedStep.filter { $0.0 == key }.map(\.1)
      if kinds != acked && kinds != withFailed {
        failures.append("\(place): \(key) has \(kinds), acknowledged \(acked)")
      }
      let uses = try reopened.status(of: try workload.voucher(key)).uses
      if uses > 2 { failures.append("\(place): \(key) counts \(uses) uses") }
    }
    // Unchanged or repairable: check passes (lifting a fence), then a write, then clean.
    let report = try reopened.check()
    if !report.problems.isEmpty {
      failures.append("\(place): check reports \(report.problems)")
      return
    }
    let after = try Registry.open(
      folder: folder, campaigns: workload.book, create: false, lockTimeout: 5,
      files: SystemFiles())
    guard
      case .redeemed = try after.redeem(
        try workload.voucher("summer/0/50"), store: StoreID("X"), now: workload.fixture.now)
    else {
      failures.append("\(place): no write after check")
      return
    }
    let final = try after.check()
    if !final.problems.isEmpty || final.tornTail != nil {
      failures.append("\(place): not clean at the end: \(final.problems)")
    }
  }
}

@Suite("Registry: a rebuild that fails leaves the registry as it was")
struct RebuildFaultTests {
  /// A registry with redemptions in two campaigns and a block.
  func prepare(_ fixture: Fixture) throws -> [Voucher] {
    let registry = try fixture.registry()
    let vouchers = try (1...6).map { try fixture.voucher($0) } + [
      try fixture.voucher(1, campaign: "winter")
    ]
    for voucher in vouchers {
      _ = try registry.redeem(voucher, store: StoreID("S1"), now: fixture.now)
    }
    try registry.block(
      campaign: fixture.campaign, channel: ChannelID("flyer")!, serials: 40...50, reason: try Reason("lost"),
      now: fixture.now)
    return vouchers
  }

  /// Every redemption and the block are in effect, `check` is clean and a new code redeems.
  func expectIntact(_ fixture: Fixture, _ vouchers: [Voucher], _ place: String) throws {
    let registry = try fixture.registry()
    for voucher in vouchers {
      guard
        case .usedUp = try registry.redeem(voucher, store: StoreID("S2"), now: fixture.now)
      else {
        Issue.record("\(place): serial \(voucher.serial) redeemed again")
        return
      }
    }
    guard case .blocked = try registry.redeem(try fixture.voucher(45), store: StoreID("S2"), now: fixture.now)
    else {
      Issue.record("\(place): the block is gone")
      return
    }
    #expect(try registry.check().problems.isEmpty, "\(place)")
    #expect(
      try registry.redeem(try fixture.voucher(99), store: StoreID("S2"), now: fixture.now).receipt
        != nil, "\(place)")
  }

  @Test(
    "a full disk at every write, allocation and sync of a rebuild: an error, and afterwards every command works as before, with nothing lost"
  )
  func fullDiskAtEveryCall() throws {
    // Count the calls of a rebuild that succeeds.
    let counting = FailingFiles()
    do {
      let fixture = try Fixture(capacity: 100)
      defer { fixture.remove() }
      _ = try prepare(fixture)
      _ = try fixture.registry(files: counting).rebuild()
    }
    var fired = 0
    for (index, call) in counting.calls.enumerated() {
      for fault in FailingFiles.faults(for: call) {
        let fixture = try Fixture(capacity: 100)
        defer { fixture.remove() }
        let vouchers = try prepare(fixture)
        let files = FailingFiles()
        files.failing = index
        files.fault = fault
        let place = "call \(index) (\(call)), \(fault.rawValue)"
        do {
          _ = try fixture.registry(files: files).rebuild()
          if files.fired { Issue.record("\(place): the rebuild succeeded although a call failed") }
        } catch {
          #expect(files.fired, "\(place): \(error)")
        }
        if files.fired { fired += 1 }
        // A failed sync fences writes until check passes; nothing else is needed by hand.
        if FileManager.default.fileExists(atPath: fixture.home.registry + "/FENCED") {
          _ = try fixture.registry().check()
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: fixture.home.registry)
          .filter { $0.hasPrefix("index.") }
        #expect(leftovers.isEmpty, "\(place): \(leftovers)")
        try expectIntact(fixture, vouchers, place)
      }
    }
    #expect(fired > 10)
    print("rebuild faults: \(fired) injected at \(counting.calls.count) calls")
  }

  @Test(
    "a rebuild cut short between its two renames (no atomic exchange) leaves no index folder: the next open replays the whole journal"
  )
  func crashBetweenRenames() throws {
    let fixture = try Fixture(capacity: 100)
    defer { fixture.remove() }
    let vouchers = try prepare(fixture)
    // Checkpointed, so that a replay from the checkpoint alone would miss every redemption.
    let registry = try fixture.registry()
    try registry.locked(writing: false) { () throws(RegistryError) in try registry.checkpoint() }
    try FileManager.default.moveItem(
      atPath: fixture.home.registry + "/index", toPath: fixture.home.registry + "/index.old-1-2")
    try expectIntact(fixture, vouchers, "no index folder")
  }
}
