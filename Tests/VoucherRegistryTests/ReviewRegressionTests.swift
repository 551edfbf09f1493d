import Foundation
import Testing

@testable import VoucherKit
@testable import VoucherRegistry

/// Cases found by a review of the registry; each failed before its fix.
@Suite("Registry: review regressions")
struct ReviewRegressionTests {
  @Test(
    "a registry object opened before another process's rebuild uses the new index, not the old one")
  func rebuildUnderAnOpenRegistry() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let longLived = try fixture.registry()
    let code = try fixture.voucher(1)
    #expect(
      try longLived.redeem(try fixture.voucher(2), store: StoreID("S1"), now: fixture.now).receipt
        != nil)
    try fixture.registry().rebuild()
    #expect(
      try fixture.registry().redeem(code, store: StoreID("S1"), now: fixture.now).receipt != nil)
    // The long-lived object must see that redemption through the rebuilt index.
    #expect(try longLived.redeem(code, store: StoreID("S2"), now: fixture.now).receipt == nil)
    #expect(try longLived.uses(of: code) == 1)
    #expect(try fixture.registry().check().problems.isEmpty)
  }

  @Test("a lock-free read of a campaign without an index creates nothing")
  func peekCreatesNothing() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let registry = try fixture.registry()
    _ = try registry.redeem(try fixture.voucher(1), store: StoreID("S1"), now: fixture.now)
    let winter = try fixture.voucher(1, campaign: "winter")
    #expect(try registry.peek(winter).uses == 0)
    #expect(try registry.uses(of: winter) == 0)
    #expect(!FileManager.default.fileExists(atPath: fixture.home.registry + "/index/winter.idx"))
  }

  @Test("records a killed writer left unsynced are synced before anything rests on them")
  func recoverySyncsBeforeApplying() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let files = FaultyFiles()
    let registry = try fixture.registry(files: files)
    _ = try registry.redeem(try fixture.voucher(1), store: StoreID("S1"), now: fixture.now)
    let record = Record(
      time: 0, code: CodeRef(slot: fixture.campaign.slot.rawValue, payload: 1), previous: 0,
      body: .redeem(
        venue: Record.venueStore, store: "S9", terminal: nil, profile: nil, request: "r-1",
        usesAfter: 1))
    let journal = try Journal(path: fixture.journalPath, files: SystemFiles())
    try journal.write(journal.commitBytes(record.encoded()), at: registry.end)
    let before = files.journalSyncs
    let reopened = try fixture.registry(files: files)
    guard
      case .redeemed(_, true) = try reopened.redeem(
        try fixture.voucher(2), store: StoreID("S1"), request: RequestID("r-1"), now: fixture.now)
    else {
      throw TestFailure("the killed writer's redemption was not replayed")
    }
    #expect(files.journalSyncs > before, "the replayed receipt rested on unsynced bytes")
  }

  @Test("a failed sync leaves no trace a reader could apply, even after check lifts the fence")
  func failedSyncLeavesNoRecord() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let files = FaultyFiles()
    let registry = try fixture.registry(files: files)
    _ = try registry.redeem(try fixture.voucher(1), store: StoreID("S1"), now: fixture.now)
    files.failSync = { $0.hasSuffix("/journal") }
    #expect(throws: RegistryError.self) {
      try registry.redeem(try fixture.voucher(2), store: StoreID("S1"), now: fixture.now)
    }
    files.failSync = { _ in false }
    #expect(try fixture.registry().status(of: try fixture.voucher(2)).uses == 0)
    #expect(try fixture.registry().check().problems.isEmpty)
    #expect(
      try fixture.registry().redeem(try fixture.voucher(2), store: StoreID("S1"), now: fixture.now)
        .receipt != nil)
  }

  @Test("a block list with a backward range is damage, not a trap")
  func backwardBlockRange() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let registry = try fixture.registry()
    try registry.block(
      campaign: fixture.campaign, channel: ChannelID("flyer")!, serials: 1...5, reason: nil,
      now: fixture.now)
    let path = fixture.home.registry + "/blocks"
    let text = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(
      of: " 1 5\n", with: " 5 1\n")
    try text.write(toFile: path, atomically: false, encoding: .utf8)
    #expect(throws: RegistryError.self) {
      try fixture.registry().redeem(try fixture.voucher(3), store: StoreID("S1"), now: fixture.now)
    }
  }

  @Test("one damaged history fails its own operation, not the rest of the batch")
  func damageFailsOneOperation() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let registry = try fixture.registry()
    _ = try registry.redeem(try fixture.voucher(1), store: StoreID("S1"), now: fixture.now)
    var bytes = try fixture.journalBytes()
    bytes[Int(Journal.headerSize) + 12] ^= 0x40
    try fixture.writeJournal(bytes)
    let results = try fixture.registry().perform(
      [
        .redeem(
          try fixture.voucher(1), store: try StoreID("S1"), terminal: nil, profile: nil,
          request: nil),
        .redeem(
          try fixture.voucher(2), store: try StoreID("S1"), terminal: nil, profile: nil,
          request: nil),
      ], now: fixture.now)
    guard case .failed(.damaged) = results[0], case .redeem(.redeemed) = results[1] else {
      throw TestFailure("\(results)")
    }
  }
}
