import Foundation
import Testing

@testable import VoucherKit
@testable import VoucherRegistry

/// A file layer that fails chosen calls, for fault tests.
final class FaultyFiles: FileLayer {
  let real = SystemFiles()
  /// Paths whose next sync fails with EIO.
  var failSync: (String) -> Bool = { _ in false }
  /// Folders whose next sync fails with EIO.
  var failFolderSync: (String) -> Bool = { _ in false }
  /// Syncs of the journal so far.
  var journalSyncs = 0
  /// Paths whose next write fails with EIO, after writing the first `n` bytes (a crash mid-write).
  var failWrite: (String) -> Int? = { _ in nil }
  /// Renames to these paths fail with EIO (a crash before the rename).
  var failRename: (String) -> Bool = { _ in false }
  /// Folders synced so far, in order.
  var folderSyncs: [String] = []

  func open(_ path: String, create: Bool) throws(SystemError) -> FileDescriptor {
    try real.open(path, create: create)
  }
  func close(_ file: FileDescriptor) { real.close(file) }
  func size(_ file: FileDescriptor, path: String) throws(SystemError) -> Int64 {
    try real.size(file, path: path)
  }
  func read(_ file: FileDescriptor, at offset: Int64, count: Int, path: String) throws(SystemError)
    -> [UInt8]
  {
    if path.hasSuffix("/journal") { journalReads += 1 }
    return try real.read(file, at: offset, count: count, path: path)
  }
  /// Reads of the journal so far.
  var journalReads = 0
  func write(_ file: FileDescriptor, _ bytes: [UInt8], at offset: Int64, path: String) throws(SystemError) {
    if let written = failWrite(path) {
      if written > 0 { try real.write(file, Array(bytes.prefix(written)), at: offset, path: path) }
      throw SystemError("write", path, code: 5)
    }
    try real.write(file, bytes, at: offset, path: path)
  }
  func sync(_ file: FileDescriptor, path: String) throws(SystemError) {
    if failSync(path) { throw SystemError("sync", path, code: 5) }
    if path.hasSuffix("/journal") { journalSyncs += 1 }
    try real.sync(file, path: path)
  }
  func truncate(_ file: FileDescriptor, to length: Int64, path: String) throws(SystemError) {
    try real.truncate(file, to: length, path: path)
  }
  func allocate(_ file: FileDescriptor, to length: Int64, path: String) throws(SystemError) {
    try real.allocate(file, to: length, path: path)
  }
  func reserve(_ file: FileDescriptor, offset: Int64, length: Int64, path: String) throws(SystemError) {
    try real.reserve(file, offset: offset, length: length, path: path)
  }
  func link(_ from: String, to: String) throws(SystemError) { try real.link(from, to: to) }
  func map(_ file: FileDescriptor, length: Int, path: String) throws(SystemError) -> UnsafeMutableRawPointer
  { try real.map(file, length: length, path: path) }
  func unmap(_ address: UnsafeMutableRawPointer, length: Int) {
    real.unmap(address, length: length)
  }
  func rename(_ from: String, to: String) throws(SystemError) {
    if failRename(to) { throw SystemError("rename", to, code: 5) }
    try real.rename(from, to: to)
  }
  func syncDirectory(_ path: String) throws(SystemError) {
    if failFolderSync(path) { throw SystemError("sync folder", path, code: 5) }
    folderSyncs.append(path)
    try real.syncDirectory(path)
  }
  func makeDirectory(_ path: String) throws(SystemError) { try real.makeDirectory(path) }
  func remove(_ path: String) throws(SystemError) { try real.remove(path) }
  func exists(_ path: String) -> Bool { real.exists(path) }
}

@Suite("Registry: crashes, torn tails, damage, faults")
struct RecoveryTests {
  /// Redeems serials 1...count and answers the journal's bytes.
  func redeemSome(_ fixture: Fixture, count: Int) throws -> [UInt8] {
    let registry = try fixture.registry()
    for serial in 1...count {
      _ = try registry.redeem(
        try fixture.voucher(serial), store: StoreID("S\(serial)"), now: fixture.now)
    }
    return try fixture.journalBytes()
  }

  /// Where the journal's data ends: after its last whole commit.
  func dataEnd(_ bytes: [UInt8]) -> Int {
    journalFrames(bytes).last?.end ?? Int(Journal.headerSize)
  }

  /// `bytes` with `patch` written at `offset` (growing the array if needed).
  func overwrite(_ bytes: [UInt8], at offset: Int, with patch: [UInt8]) -> [UInt8] {
    var out = bytes
    if out.count < offset + patch.count {
      out += [UInt8](repeating: 0, count: offset + patch.count - out.count)
    }
    out.replaceSubrange(offset..<(offset + patch.count), with: patch)
    return out
  }

  @Test(
    "torn tails (partial record, garbage, a lone marker, stray bytes after a restart) are cleared on the next redeem, kept in a side file, and reported"
  )
  func tornTails() throws {
    // A crash while appending a record that was never acknowledged (its sync had not returned).
    let unacknowledged = Record(
      time: 1, code: CodeRef(slot: 0, payload: 99), previous: 0,
      body: .redeem(
        venue: Record.venueStore, store: "S", terminal: nil, profile: nil, request: nil,
        usesAfter: 1)
    ).encoded()
    let cases: [(name: String, offset: Int, bytes: [UInt8], restart: Bool)] = [
      ("partial record", 0, Array(unacknowledged.prefix(unacknowledged.count - 5)), false),
      ("garbage", 0, Array("\u{1}garbage after a crash".utf8), false),
      ("a lone marker byte", 0, [0xA5], false),
      ("a marker with zeros after it", 0, [0xA5, 0, 0, 0, 0, 0, 0, 0, 0], false),
      ("sectors of a torn write that landed past its start", 1024, Array(unacknowledged), true),
    ]
    for torn in cases {
      let fixture = try Fixture()
      defer { fixture.remove() }
      let clean = try redeemSome(fixture, count: 3)
      let start = dataEnd(clean)
      let damaged = overwrite(clean, at: start + torn.offset, with: torn.bytes)
      try fixture.writeJournal(damaged)
      if torn.restart {
        let statePath = fixture.home.registry + "/state"
        var state = RegistryState.parse(
          Array(try Data(contentsOf: URL(fileURLWithPath: statePath))))!
        state.boot = [UInt8](repeating: 7, count: 16)
        try Data(state.encoded()).write(to: URL(fileURLWithPath: statePath))
      }
      let registry = try fixture.registry()
      let check = try registry.check()
      #expect(check.problems.isEmpty, "\(torn.name): \(check.problems)")
      #expect(check.tornTail?.offset == Int64(start), "\(torn.name)")
      // The next write repairs it and says so.
      let next = try registry.redeem(
        try fixture.voucher(50), store: StoreID("S50"), now: fixture.now)
      #expect(next.receipt != nil, "\(torn.name)")
      #expect(
        registry.warnings.contains {
          $0.contains("repaired a torn tail of the journal at byte offset \(start)")
        }, "\(torn.name): \(registry.warnings)")
      let sides = try FileManager.default.contentsOfDirectory(atPath: fixture.home.registry).filter
      { $0.hasPrefix("torn-") }
      #expect(sides.count == 1, "\(torn.name)")
      let kept = Array(
        try Data(contentsOf: URL(fileURLWithPath: fixture.home.registry + "/" + sides[0])))
      let keptEnd = damaged.lastIndex { $0 != 0 }! + 1
      #expect(kept == Array(damaged[start..<keptEnd]), "\(torn.name)")
      // Every acknowledged redemption survived; the registry checks clean.
      for serial in 1...3 {
        #expect(
          try registry.redeem(try fixture.voucher(serial), store: StoreID("X"), now: fixture.now)
            .receipt == nil, "\(torn.name) serial \(serial)")
      }
      let after = try registry.check()
      #expect(after.problems.isEmpty && after.tornTail == nil, "\(torn.name): \(after.problems)")
    }
  }

  @Test("a zero-filled record at the end is unused space: nothing to repair, nothing lost")
  func zeroedRecord() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let clean = try redeemSome(fixture, count: 3)
    try fixture.writeJournal(
      overwrite(clean, at: dataEnd(clean), with: [UInt8](repeating: 0, count: 64)))
    let registry = try fixture.registry()
    let check = try registry.check()
    #expect(check.problems.isEmpty && check.tornTail == nil)
    #expect(
      try registry.redeem(try fixture.voucher(9), store: StoreID("S1"), now: fixture.now).receipt
        != nil)
    #expect(
      try registry.redeem(try fixture.voucher(3), store: StoreID("S1"), now: fixture.now).receipt
        == nil)
  }

  @Test("an acknowledged record that vanished is damage, never 'not redeemed'")
  func lostAcknowledgedRecord() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let bytes = try redeemSome(fixture, count: 3)
    let end = dataEnd(bytes)
    let lastStart = journalFrames(bytes).last!.start
    try fixture.writeJournal(
      overwrite(bytes, at: lastStart, with: [UInt8](repeating: 0, count: end - lastStart)))
    #expect(throws: RegistryError.self) {
      try fixture.registry().redeem(try fixture.voucher(3), store: StoreID("S1"), now: fixture.now)
    }
    #expect(!(try fixture.registry().check().problems.isEmpty))
  }

  @Test(
    "a flipped byte in the middle of the journal is damage: named with its offset, never 'not redeemed'"
  )
  func flippedByte() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    var bytes = try redeemSome(fixture, count: 3)
    // The second commit's record starts after its frame header; flip a byte inside it.
    let second = journalFrames(bytes)[1].start + Journal.frameHeaderSize
    bytes[second + 12] ^= 0x40
    try fixture.writeJournal(bytes)
    let registry = try fixture.registry()
    let report = try registry.check()
    #expect(report.problems.count == 1)
    #expect(
      report.problems.first?.contains("journal is damaged at byte offset \(second)") == true,
      "\(report.problems)")
    // Serial 2's record is the damaged one: its redeem must fail, not answer "redeemed".
    #expect(
      throws: RegistryError.damaged(
        path: fixture.journalPath, offset: Int64(second), reason: "checksum mismatch")
    ) {
      try registry.redeem(try fixture.voucher(2), store: StoreID("S9"), now: fixture.now)
    }
    #expect(throws: RegistryError.self) { try registry.rebuild() }
  }

  /// An entry zeroed whole reads like a code never used; the bitmap of codes with events tells
  /// them apart, so a redeemed code is never redeemed again.
  func zeroedEntry() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    _ = try redeemSome(fixture, count: 3)
    // Damage to synced index data: a new process replays only what follows the checkpoint.
    let synced = try fixture.registry()
    try synced.locked(writing: false) { () throws(RegistryError) in try synced.checkpoint() }
    let path = fixture.home.registry + "/index/summer.idx"
    var index = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    let second = Int(
      CampaignIndex.entryOffset(fixture.campaign, payload: fixture.campaign.base + 1))
    for position in second..<(second + 8) { index[position] = 0 }
    try Data(index).write(to: URL(fileURLWithPath: path))
    // A lock-free reader (verify) names the damage too, never "valid".
    do {
      let status = try fixture.registry().peek(try fixture.voucher(2))
      Issue.record("a lock-free read of a zeroed entry answered \(status)")
    } catch RegistryError.damaged(let damaged, _, let reason) {
      #expect(damaged.hasSuffix("summer.idx") && reason.contains("the code has events"))
    }
    let registry = try fixture.registry()
    do {
      _ = try registry.redeem(try fixture.voucher(2), store: StoreID("X"), now: fixture.now)
      Issue.record("a redeemed code whose entry was zeroed was redeemed again")
    } catch RegistryError.damaged(let damaged, _, let reason) {
      #expect(damaged.hasSuffix("summer.idx") && reason.contains("the code has events"))
    }
    #expect(try !registry.check().problems.isEmpty)
    #expect(try registry.rebuild() == 3)
    #expect(
      try registry.redeem(try fixture.voucher(2), store: StoreID("X"), now: fixture.now).receipt
        == nil)
  }

  @Test("a damaged index entry is found by check and mended by rebuild")
  func indexDamage() throws {
    try zeroedEntry()
    let fixture = try Fixture()
    defer { fixture.remove() }
    _ = try redeemSome(fixture, count: 5)
    let path = fixture.home.registry + "/index/summer.idx"
    var index = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    let third = CampaignIndex.entryOffset(fixture.campaign, payload: fixture.campaign.base + 2)
    index[Int(third)] = 0  // serial 3 loses its use
    try Data(index).write(to: URL(fileURLWithPath: path))
    let registry = try fixture.registry()
    // The answer names the damage (the entry disagrees with the code's records), never a second
    // redemption.
    #expect(throws: RegistryError.self) {
      try registry.redeem(try fixture.voucher(3), store: StoreID("X"), now: fixture.now)
    }
    let report = try registry.check()
    #expect(
      report.problems.contains { $0.contains("summer.idx is damaged at byte offset \(third)") },
      "\(report.problems)")
    #expect(try registry.rebuild() == 5)
    #expect(try registry.check().problems.isEmpty)
    #expect(
      try registry.redeem(try fixture.voucher(3), store: StoreID("X"), now: fixture.now).receipt
        == nil)
  }

  @Test(
    "an index that lost unsynced pages while a newer state survived, without a reboot, is replayed: never a second redemption"
  )
  func lostIndexPagesWithoutReboot() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let path = fixture.home.registry + "/index/summer.idx"
    _ = try fixture.registry().redeem(try fixture.voucher(1), store: StoreID("S1"), now: fixture.now)
    let old = try Data(contentsOf: URL(fileURLWithPath: path))
    #expect(
      try fixture.registry().redeem(try fixture.voucher(2), store: StoreID("S1"), now: fixture.now)
        .receipt != nil)
    // The index's pages written since are lost; `state` (same boot id) still says applied.
    try old.write(to: URL(fileURLWithPath: path))
    // Lock-free readers and writers of a new process alike see the redemption.
    #expect(try fixture.registry().peek(try fixture.voucher(2)).uses == 1)
    try old.write(to: URL(fileURLWithPath: path))
    #expect(try fixture.registry().uses(of: try fixture.voucher(2)) == 1)
    try old.write(to: URL(fileURLWithPath: path))
    guard
      case .usedUp(let last?) = try fixture.registry().redeem(
        try fixture.voucher(2), store: StoreID("S2"), now: fixture.now)
    else { throw TestFailure("a code redeemed before the lost index write was redeemed again") }
    #expect(last.store?.rawValue == "S1")
    #expect(try fixture.registry().check().problems.isEmpty)
  }

  @Test(
    "a torn tail after a crash is repaired by the first reader, once: readers neither replay frame by frame nor warn again"
  )
  func tornTailReaders() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let writer = try fixture.registry()
    for serial in 1...1_000 {
      _ = try writer.redeem(try fixture.voucher(serial), store: StoreID("S1"), now: fixture.now)
    }
    var bytes = try fixture.journalBytes()
    let end = dataEnd(bytes)
    bytes = overwrite(bytes, at: end, with: [Journal.frameMarker, 0, 0, 0, 200, 0, 0, 0, 1, 2, 3])
    try fixture.writeJournal(bytes)
    let files = FaultyFiles()
    let reader = try fixture.registry(files: files)
    #expect(try reader.peek(try fixture.voucher(7)).uses == 1)
    // The replay from the checkpoint reads the journal in large reads, not two per commit.
    #expect(files.journalReads < 40, "\(files.journalReads) reads of the journal")
    #expect(reader.warnings.count == 1 && reader.warnings[0].hasPrefix("repaired a torn tail"))
    let later = try fixture.registry()
    #expect(try later.peek(try fixture.voucher(8)).uses == 1)
    #expect(later.warnings.isEmpty, "\(later.warnings)")
    #expect(try later.check().problems.isEmpty)
  }

  @Test("records a killed process synced but never applied are replayed, once")
  func replayAfterKill() throws {
    let fixture = try Fixture(uses: 2)
    defer { fixture.remove() }
    let registry = try fixture.registry()
    let voucher = try fixture.voucher(1)
    _ = try registry.redeem(voucher, store: StoreID("S1"), now: fixture.now)
    // A second process appended and synced a redemption, then died before touching the index.
    let record = Record(
      time: 0, code: CodeRef(slot: fixture.campaign.slot.rawValue, payload: 0),
      previous: try registry.index(for: fixture.campaign).entry(payload: 0).last,
      body: .redeem(
        venue: Record.venueStore, store: "S2", terminal: nil, profile: nil, request: nil,
        usesAfter: 2))
    let journal = try Journal(path: fixture.journalPath, files: SystemFiles())
    try journal.write(journal.commitBytes(record.encoded()), at: registry.end)
    try journal.sync()
    let next = try fixture.registry()
    guard case .usedUp(let last) = try next.redeem(voucher, store: StoreID("S3"), now: fixture.now)
    else { throw TestFailure("not used up") }
    #expect(last?.store?.rawValue == "S2")
    #expect(try next.check().problems.isEmpty)
  }

  @Test(
    "after a restart (another boot id) only the synced checkpoint is trusted, and the index is made whole again"
  )
  func restart() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    _ = try redeemSome(fixture, count: 4)
    // Simulate a power loss that lost every unsynced index write: zero the entries, and give the
    // state another boot id.
    let path = fixture.home.registry + "/index/summer.idx"
    var index = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    for position in Int(CampaignIndex.headerSize)..<index.count { index[position] = 0 }  // bits too
    try Data(index).write(to: URL(fileURLWithPath: path))
    var state = RegistryState.parse(
      Array(try Data(contentsOf: URL(fileURLWithPath: fixture.home.registry + "/state"))))!
    state.boot = [UInt8](repeating: 7, count: 16)
    try Data(state.encoded()).write(to: URL(fileURLWithPath: fixture.home.registry + "/state"))
    let registry = try fixture.registry()
    for serial in 1...4 {
      #expect(
        try registry.redeem(try fixture.voucher(serial), store: StoreID("X"), now: fixture.now)
          .receipt == nil, "serial \(serial)")
    }
    #expect(try registry.check().problems.isEmpty)
  }

  @Test("a failed sync is never retried into success: no answer, writes fenced until check passes")
  func syncFailure() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let files = FaultyFiles()
    let registry = try fixture.registry(files: files)
    _ = try registry.redeem(try fixture.voucher(1), store: StoreID("S1"), now: fixture.now)
    files.failSync = { $0.hasSuffix("/journal") }
    #expect(throws: RegistryError.syncFailed(path: fixture.journalPath, code: 5)) {
      try registry.redeem(try fixture.voucher(2), store: StoreID("S1"), now: fixture.now)
    }
    files.failSync = { _ in false }
    #expect(FileManager.default.fileExists(atPath: fixture.home.registry + "/FENCED"))
    #expect(throws: RegistryError.self) {
      try fixture.registry().redeem(try fixture.voucher(3), store: StoreID("S1"), now: fixture.now)
    }
    do {
      _ = try fixture.registry().redeem(
        try fixture.voucher(3), store: StoreID("S1"), now: fixture.now)
    } catch {
      guard case .fenced = error as? RegistryError else { throw error }
    }
    // Reads still work; check passes and lifts the fence.
    #expect(try fixture.registry().status(of: try fixture.voucher(1)).uses == 1)
    #expect(try fixture.registry().check().problems.isEmpty)
    #expect(!FileManager.default.fileExists(atPath: fixture.home.registry + "/FENCED"))
    #expect(
      try fixture.registry().redeem(try fixture.voucher(3), store: StoreID("S1"), now: fixture.now)
        .receipt != nil)
  }

  @Test("a lock held too long gives busy after the timeout, not a hang")
  func busy() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    _ = try redeemSome(fixture, count: 1)
    let holder = open(fixture.home.registry + "/lock", O_RDWR)
    defer { close(holder) }
    #expect(flock(holder, LOCK_EX) == 0)
    let started = Date()
    #expect(throws: RegistryError.busy(path: fixture.home.registry + "/lock")) {
      try fixture.registry(lockTimeout: 0.3).redeem(
        try fixture.voucher(2), store: StoreID("S1"), now: fixture.now)
    }
    #expect(Date().timeIntervalSince(started) < 3)
    flock(holder, LOCK_UN)
    #expect(
      try fixture.registry(lockTimeout: 0.3).redeem(
        try fixture.voucher(2), store: StoreID("S1"), now: fixture.now
      ).receipt != nil)
  }

  @Test("a registry half-created by a crash does not count; the next write creates a complete one")
  func creationCrash() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    // A crash between the steps leaves only a staging folder, never Registry/ itself.
    try FileManager.default.createDirectory(
      atPath: fixture.home.registry + ".new-1-2", withIntermediateDirectories: true)
    try Data([1, 2, 3]).write(to: URL(fileURLWithPath: fixture.home.registry + ".new-1-2/journal"))
    #expect(!Registry.exists(in: fixture.home))
    #expect(throws: RegistryError.missing(path: fixture.home.registry)) {
      try Registry.open(home: fixture.home, campaigns: fixture.book, create: false)
    }
    #expect(
      try fixture.registry().redeem(try fixture.voucher(1), store: StoreID("S1"), now: fixture.now)
        .receipt != nil)
    #expect(try fixture.registry().check().problems.isEmpty)
  }
}
