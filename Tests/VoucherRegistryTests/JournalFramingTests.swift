import Foundation
import Testing

@testable import VoucherKit
@testable import VoucherRegistry

@Suite("Registry: commits are framed")
struct FramingTests {
  @Test(
    "a commit never acknowledged whose sectors persisted out of order (its start lost, later records whole) is a torn tail after a restart, not damage"
  )
  func outOfOrderSectorsAreATornTail() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let registry = try fixture.registry()
    for serial in 1...2 {
      _ = try registry.redeem(try fixture.voucher(serial), store: StoreID("S1"), now: fixture.now)
    }
    let acknowledged = try fixture.journalBytes()
    let start = journalFrames(acknowledged).last!.end
    let indexPath = fixture.home.registry + "/index/summer.idx"
    let index = try Data(contentsOf: URL(fileURLWithPath: indexPath))
    // A large batch, then the power fails before its sync returns: only its later sectors
    // reached the disk, the first one holds stale garbage.
    _ = try registry.perform(
      try (10..<60).map {
        .redeem(
          try fixture.voucher($0), store: try StoreID("B\($0)"), terminal: nil, profile: nil,
          request: nil)
      }, now: fixture.now)
    var bytes = try fixture.journalBytes()
    let end = journalFrames(bytes).last!.end
    #expect(end - start > 1024)
    for offset in start..<(start + 512 - start % 512) { bytes[offset] = 0x5C }
    try fixture.writeJournal(bytes)
    // The index and the state the disk kept predate the batch (the index is written only after
    // the sync returns), from another boot.
    try index.write(to: URL(fileURLWithPath: indexPath))
    let statePath = fixture.home.registry + "/state"
    var state = RegistryState.parse(Array(try Data(contentsOf: URL(fileURLWithPath: statePath))))!
    state.applied = Int64(start)
    state.boot = [UInt8](repeating: 7, count: 16)
    try Data(state.encoded()).write(to: URL(fileURLWithPath: statePath))
    let reopened = try fixture.registry()
    let report = try reopened.check()
    #expect(report.problems.isEmpty, "\(report.problems)")
    #expect(report.tornTail?.offset == Int64(start))
    for serial in 1...2 {
      #expect(try reopened.status(of: try fixture.voucher(serial)).uses == 1)
    }
    #expect(try reopened.status(of: try fixture.voucher(30)).uses == 0)
    #expect(
      try reopened.redeem(try fixture.voucher(30), store: StoreID("S3"), now: fixture.now).receipt
        != nil)
    let after = try fixture.registry().check()
    #expect(after.problems.isEmpty && after.tornTail == nil)
  }

  @Test("a frame another process wrote across the end of the file as known here is read whole")
  func frameAcrossTheKnownSize() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    _ = try fixture.registry()
    let reader = try Journal(path: fixture.journalPath, files: SystemFiles())
    let writer = try Journal(path: fixture.journalPath, files: SystemFiles())
    let record = Record(
      time: 1, code: CodeRef(slot: fixture.campaign.slot.rawValue, payload: 1), previous: 0,
      body: .void(voided: 40, reason: String(repeating: "x", count: 500), request: nil))
    try writer.write(writer.commitBytes(record.encoded()), at: Journal.headerSize)
    let known = try reader.fileSize()
    // The writer's next frame starts just before the end of the file as the reader knows it.
    let offset = known - 100
    try writer.write(writer.commitBytes(record.encoded()), at: offset)
    var seen: [Int64] = []
    let end = try reader.scan(from: offset) { (at, _, _) throws(RegistryError) in seen.append(at) }
    #expect(seen == [offset + Int64(Journal.frameHeaderSize)])
    #expect(end == .clean(end: offset + Int64(writer.commitBytes(record.encoded()).count)))
  }

  @Test("a version 1 journal (bare records) is still read and appended to as it is")
  func versionOneJournal() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    _ = try fixture.registry()
    var bytes = try fixture.journalBytes()
    // The header as version 1 wrote it: same id, version 1, its CRC.
    bytes[8] = 1
    let crc = Checksum.crc32c(bytes[0..<28])
    withUnsafeBytes(of: crc.littleEndian) { bytes.replaceSubrange(28..<32, with: $0) }
    try fixture.writeJournal(bytes)
    let registry = try fixture.registry()
    #expect(!registry.journal.framed)
    for serial in 1...3 {
      _ = try registry.redeem(try fixture.voucher(serial), store: StoreID("S1"), now: fixture.now)
    }
    let written = try fixture.journalBytes()
    #expect(written[Int(Journal.headerSize)] == Record.marker)
    #expect(journalFrames(written).isEmpty)
    let reopened = try fixture.registry()
    #expect(
      try reopened.redeem(try fixture.voucher(2), store: StoreID("S2"), now: fixture.now).receipt
        == nil)
    #expect(try reopened.check().problems.isEmpty)
  }
}
