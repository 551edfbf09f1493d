import Foundation
import Testing

@testable import VoucherKit
@testable import VoucherRegistry

@Suite("Registry: erasure of a profile, crash-safe")
struct ForgetTests {
  /// A registry where crm:P1 claimed and redeemed serial 1 and redeemed serial 2, crm:P2
  /// redeemed serial 3, and serial 4 was redeemed without a profile.
  func history(_ fixture: Fixture) throws {
    let registry = try fixture.registry()
    let first = try ProfileID("crm:P1")
    _ = try registry.claim(try fixture.voucher(1), profile: first, now: fixture.now)
    _ = try registry.redeem(try fixture.voucher(1), store: StoreID("S1"), now: fixture.now)
    _ = try registry.redeem(
      try fixture.voucher(2), store: StoreID("S1"), profile: first, request: RequestID("r-2"),
      now: fixture.now)
    _ = try registry.redeem(
      try fixture.voucher(3), store: StoreID("S2"), profile: ProfileID("crm:P2"), now: fixture.now)
    _ = try registry.redeem(try fixture.voucher(4), store: nil, now: fixture.now)
  }

  /// Every event with its profile and erasure flag, and every code's status.
  func state(_ fixture: Fixture) throws -> [String] {
    let registry = try fixture.registry()
    var lines: [String] = []
    try registry.forEachEvent { event in
      lines.append(
        "\(event.offset) \(event.kind) \(event.serial) \(event.store ?? "-") \(event.request ?? "-")"
      )
    }
    for serial in 1...5 {
      let status = try registry.status(of: try fixture.voucher(serial))
      lines.append("\(serial): \(status.uses) \(status.lastRedemption?.id.description ?? "-")")
    }
    return lines
  }

  func contains(_ fixture: Fixture, _ text: String) throws -> Bool {
    let needle = Data(text.utf8)
    let enumerator = FileManager.default.enumerator(atPath: fixture.home.path)
    while let relative = enumerator?.nextObject() as? String {
      let path = fixture.home.path + "/" + relative
      if let data = FileManager.default.contents(atPath: path), data.range(of: needle) != nil {
        return true
      }
    }
    return false
  }

  @Test("erases the profile's events only; offsets, counts, chains and the check are unchanged")
  func erases() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    try history(fixture)
    let before = try state(fixture)
    let report = try fixture.registry().forget(profile: ProfileID("crm:P1"))
    #expect(report == ForgetReport(redemptions: 2, claims: 1, sideFiles: 0))
    #expect(try !contains(fixture, "crm:P1") && contains(fixture, "crm:P2"))
    #expect(try state(fixture) == before)
    #expect(try fixture.registry().check().problems.isEmpty)
    let registry = try fixture.registry()
    var erased: [Int] = []
    try registry.forEachEvent { if $0.profileErased { erased.append($0.serial) } }
    #expect(erased == [1, 1, 2])
    // A retry with the same request id still answers the original receipt.
    let retry = try registry.redeem(
      try fixture.voucher(2), store: StoreID("S1"), request: RequestID("r-2"), now: fixture.now)
    guard case .redeemed(let receipt, replayed: true) = retry else {
      Issue.record("the retry was not replayed: \(retry)")
      return
    }
    #expect(receipt.profile == nil)
    // The claim stands: another profile cannot take the code.
    #expect(
      try registry.claim(try fixture.voucher(1), profile: ProfileID("crm:P9"), now: fixture.now)
        == .claimedByOther)
  }

  @Test("in a commit of several records, the frame's checksum is made anew and the rest kept")
  func framedBatch() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let registry = try fixture.registry()
    let first = try ProfileID("crm:P1")
    let results = try registry.perform(
      [
        .claim(try fixture.voucher(1), profile: first),
        .redeem(
          try fixture.voucher(2), store: StoreID("S1"), terminal: nil,
          profile: ProfileID("crm:P2"), request: nil),
        .redeem(
          try fixture.voucher(3), store: StoreID("S1"), terminal: nil, profile: first, request: nil),
      ], now: fixture.now)
    #expect(results.count == 3)
    let before = try state(fixture)
    #expect(try fixture.registry().forget(profile: first).events == 2)
    #expect(try state(fixture) == before)
    #expect(try !contains(fixture, "crm:P1") && contains(fixture, "crm:P2"))
    // The whole journal still reads, frames and all, after a restart's full replay.
    #expect(try fixture.registry().check().problems.isEmpty)
    #expect(try fixture.registry().rebuild() == 3)
    #expect(try fixture.registry().check().problems.isEmpty)
  }

  @Test("reports and exports refuse a damaged record, naming its offset, and never skip it")
  func damagedRecordInAReport() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    try history(fixture)
    var offsets: [Int64] = []
    try fixture.registry().forEachEvent { offsets.append($0.offset) }
    #expect(offsets.count == 5)
    // A byte in the body of the third record (its store), inside a valid-looking frame.
    var bytes = try fixture.journalBytes()
    bytes[Int(offsets[2]) + Record.headerSize + 24] ^= 0x20
    try fixture.writeJournal(bytes)
    let registry = try fixture.registry()
    do {
      try registry.forEachEvent { _ in }
      Issue.record("a damaged record was read")
    } catch RegistryError.damaged(_, let offset, _) {
      #expect(offset == offsets[2])
    }
    var report = ReportBuilder(
      campaigns: [(fixture.campaign, issued: [10, 0])], grouping: .channel, since: nil, until: nil)
    #expect(throws: RegistryError.self) { try registry.addEvents(to: &report) }
  }

  @Test("a crash before the erasure log is in place leaves the old state")
  func crashBeforeLog() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    try history(fixture)
    let before = try fixture.journalBytes()
    let files = FaultyFiles()
    files.failRename = { $0.hasSuffix("/forget.pending") }
    #expect(throws: RegistryError.self) {
      try fixture.registry(files: files).forget(profile: ProfileID("crm:P1"))
    }
    #expect(try fixture.journalBytes() == before)
    #expect(try fixture.registry().check().problems.isEmpty)
    // A later run completes it, the leftover staging file notwithstanding.
    #expect(try fixture.registry().forget(profile: ProfileID("crm:P1")).events == 3)
    #expect(try !contains(fixture, "crm:P1"))
  }

  @Test("a crash after the log is in place, even mid-record, is completed by the next open")
  func crashAfterLog() throws {
    for written in [0, 5, 23] {
      let fixture = try Fixture()
      defer { fixture.remove() }
      try history(fixture)
      let before = try state(fixture)
      let files = FaultyFiles()
      files.failWrite = { $0.hasSuffix("/journal") ? written : nil }
      #expect(throws: RegistryError.self) {
        try fixture.registry(files: files).forget(profile: ProfileID("crm:P1"))
      }
      #expect(FileManager.default.fileExists(atPath: fixture.home.registry + "/forget.pending"))
      // Any next command completes the erasure before it reads anything.
      #expect(try state(fixture) == before)
      #expect(!FileManager.default.fileExists(atPath: fixture.home.registry + "/forget.pending"))
      #expect(try !contains(fixture, "crm:P1"), "written \(written)")
      #expect(try fixture.registry().check().problems.isEmpty)
    }
  }

  @Test("a rebuild after a crash mid-erasure completes the erasure first: no torn tail, no id")
  func rebuildAfterCrash() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    try history(fixture)
    let before = try state(fixture)
    let files = FaultyFiles()
    files.failWrite = { $0.hasSuffix("/journal") ? 12 : nil }
    #expect(throws: RegistryError.self) {
      try fixture.registry(files: files).forget(profile: ProfileID("crm:P1"))
    }
    let registry = try Registry.open(
      folder: fixture.home.registry, campaigns: fixture.book, create: false, lockTimeout: 5,
      files: SystemFiles())
    #expect(try registry.rebuild() == 5)
    #expect(registry.takeWarnings().isEmpty)
    #expect(try !contains(fixture, "crm:P1"))
    #expect(try state(fixture) == before)
    #expect(try fixture.registry().check().problems.isEmpty)
  }

  @Test("a record with an impossible time is damage to both decoders, never a trap later")
  func impossibleTimes() throws {
    let code = CodeRef(slot: 1, payload: 7)
    for time: Int64 in [-1, .min, .max, Record.times.upperBound + 1] {
      let bytes = Record(
        time: time, code: code, previous: 0,
        body: .redeem(
          venue: 1, store: "S1", terminal: nil, profile: nil, request: nil, usesAfter: 1)
      ).encoded()
      guard case .invalid = Record.decode(bytes[...]) else {
        Issue.record("time \(time) decoded")
        continue
      }
      let raw = bytes.withUnsafeBytes { RawRecord.decode($0.baseAddress!, count: $0.count) }
      guard case .invalid = raw else {
        Issue.record("time \(time) decoded in place")
        continue
      }
    }
  }

  @Test("a damaged erasure log is named, never applied or dropped silently")
  func damagedLog() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    try history(fixture)
    let files = FaultyFiles()
    files.failWrite = { $0.hasSuffix("/journal") ? 0 : nil }
    _ = try? fixture.registry(files: files).forget(profile: ProfileID("crm:P1"))
    let path = fixture.home.registry + "/forget.pending"
    var log = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    log[20] ^= 0x40
    try Data(log).write(to: URL(fileURLWithPath: path))
    #expect(throws: RegistryError.self) {
      try fixture.registry().status(of: try fixture.voucher(1))
    }
    do {
      _ = try fixture.registry().status(of: try fixture.voucher(1))
    } catch {
      #expect("\(error)".contains("forget.pending"))
    }
  }

  @Test("the erasure log's decoder refuses anything but a whole log naming files in the folder")
  func patchLogDecoding() {
    let log = PatchLog(patches: [
      .init(file: "journal", offset: 40, bytes: [1, 2, 3]),
      .init(file: "torn-1-2.bin", offset: 0, bytes: [0, 0]),
    ])
    let bytes = log.encoded()
    #expect(PatchLog.decode(bytes) == log)
    for cut in 0..<bytes.count { #expect(PatchLog.decode(Array(bytes.prefix(cut))) == nil) }
    for index in bytes.indices {
      var flipped = bytes
      flipped[index] ^= 1
      #expect(PatchLog.decode(flipped) == nil, "byte \(index)")
    }
    let escaping = PatchLog(patches: [.init(file: "../Keys/slot-01.key", offset: 0, bytes: [0])])
    #expect(PatchLog.decode(escaping.encoded()) == nil)
  }
}
