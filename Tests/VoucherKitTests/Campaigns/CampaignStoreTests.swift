import Foundation
import Testing

@testable import VoucherKit

@Suite("Campaigns and the issue log")
struct CampaignStoreTests {
  let ring = testRing([0: 0x11])

  func spec(_ id: String, channels: [String] = ["flyer"], capacity: Int = 1000) -> CampaignSpec {
    var spec = CampaignSpec(id: CampaignID(id)!, channels: channels.map { ChannelID($0)! })
    spec.capacity = capacity
    return spec
  }

  @Test("campaigns get disjoint ranges of their key's code space, and read back as written")
  func placement() throws {
    let home = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: home) }
    let store = CampaignStore(folder: home + "/Campaigns")
    let a = try store.add(
      spec("a", channels: ["x", "y"], capacity: 1000), keyRing: ring, now: Date())
    let b = try store.add(spec("b", capacity: 50), keyRing: ring, now: Date())
    #expect(a.base == 0 && b.base == 2000)
    let book = try store.load()
    #expect(book.campaigns == [a, b])
    #expect(book.campaign(slot: 0, payload: 1999)?.id == a.id)
    #expect(book.campaign(slot: 0, payload: 2000)?.id == b.id)
    #expect(book.campaign(slot: 0, payload: 2050) == nil)
    #expect(book.campaign(slot: 1, payload: 0) == nil)
    #expect(throws: CampaignError.duplicateCampaign(a.id)) {
      try store.add(spec("a"), keyRing: ring, now: Date())
    }
  }

  @Test("settings out of range are refused before anything is written")
  func invalidSettings() throws {
    let home = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: home) }
    let store = CampaignStore(folder: home + "/Campaigns")
    var bad: [CampaignSpec] = []
    var s = spec("x")
    s.starts = "2026-02-30"
    bad.append(s)
    s = spec("x")
    s.ends = "tomorrow"
    bad.append(s)
    s = spec("x")
    s.starts = "2026-05-01"
    s.ends = "2026-04-30"
    bad.append(s)
    s = spec("x")
    s.uses = 0
    bad.append(s)
    s = spec("x")
    s.tagBits = 31
    bad.append(s)
    s = spec("x")
    s.capacity = 0
    bad.append(s)
    s = spec("x", channels: ["a", "a"])
    bad.append(s)
    s = spec("x")
    s.title = "bell\u{7}"
    bad.append(s)
    for spec in bad {
      #expect(throws: CampaignError.self) { try store.add(spec, keyRing: ring, now: Date()) }
    }
    #expect(!FileManager.default.fileExists(atPath: home + "/Campaigns/x.campaign"))
  }

  @Test("a full key slot refuses a campaign that does not fit")
  func fullSlot() throws {
    let home = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: home) }
    let store = CampaignStore(folder: home + "/Campaigns")
    _ = try store.add(
      spec("big", capacity: Campaign.codeSpacePerKey - 10), keyRing: ring, now: Date())
    #expect(throws: CampaignError.spaceExhausted(slot: KeySlot(0)!, needed: 11, free: 10)) {
      try store.add(spec("more", capacity: 11), keyRing: ring, now: Date())
    }
  }

  @Test("plain issues continue after the last serial; reprints are recorded; capacity is enforced")
  func issueLog() throws {
    let home = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: home) }
    let store = CampaignStore(folder: home + "/Campaigns")
    let campaign = try store.add(
      spec("c", channels: ["a", "b"], capacity: 100), keyRing: ring, now: Date())
    let log = IssueLog(folder: store.folder, campaign: campaign.id)
    let a = ChannelID("a")!
    #expect(
      try log.reserve(campaign: campaign, channel: a, count: 10, first: nil, now: Date()) == 1...10)
    #expect(
      try log.reserve(campaign: campaign, channel: a, count: 5, first: nil, now: Date()) == 11...15)
    #expect(
      try log.reserve(
        campaign: campaign, channel: ChannelID("b")!, count: 5, first: nil, now: Date()) == 1...5)
    #expect(
      try log.reserve(campaign: campaign, channel: a, count: 3, first: 2, now: Date()) == 2...4)
    #expect(try log.nextSerial(channel: a) == 16)
    #expect(throws: CampaignError.self) {
      try log.reserve(campaign: campaign, channel: a, count: 86, first: nil, now: Date())
    }
    #expect(
      try log.reserve(campaign: campaign, channel: a, count: 85, first: nil, now: Date())
        == 16...100)
    #expect(try log.entries().map(\.reprint) == [false, false, false, true, false])
    // A torn last line from a crash is ignored, then cut by the next append.
    let handle = FileHandle(forWritingAtPath: log.path)!
    handle.seekToEndOfFile()
    handle.write(Data("{\"at\":\"x\",\"chan".utf8))
    handle.closeFile()
    #expect(try log.entries().count == 5)
    #expect(
      try log.reserve(
        campaign: campaign, channel: ChannelID("b")!, count: 1, first: nil, now: Date()) == 6...6)
    #expect(try log.entries().count == 6)
  }

  @Test("a campaign file whose range overflows is malformed, not a trap (found by fuzzing)")
  func overflowingFile() throws {
    let home = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: home) }
    let store = CampaignStore(folder: home + "/Campaigns")
    let campaign = try store.add(spec("a", channels: ["x", "y"]), keyRing: ring, now: Date())
    let path = store.path(of: campaign.id)
    let written = try String(contentsOfFile: path, encoding: .utf8)
    for (from, to) in [
      ("\"capacity\" : 1000", "\"capacity\" : 9223372036854775807"),
      ("\"capacity\" : 1000", "\"capacity\" : 4611686018427387904"),
      ("\"base\" : 0", "\"base\" : 9223372036854775807"),
    ] {
      #expect(written.contains(from))
      try written.replacingOccurrences(of: from, with: to).write(
        toFile: path, atomically: true, encoding: .utf8)
      #expect(throws: CampaignError.malformedFile(path: path, reason: "a setting is out of range"))
      {
        try store.load()
      }
    }
  }

  @Test("ISO 8601 dates: whole days, times, offsets, and impossible dates")
  func dates() {
    #expect(ISO8601.parse("2026-12-31") == Date(timeIntervalSince1970: 1_798_675_200))
    #expect(
      ISO8601.parse("2026-12-31", endOfDay: true) == Date(timeIntervalSince1970: 1_798_761_600))
    #expect(
      ISO8601.parse("2026-12-31T08:30:00+01:00")
        == Date(timeIntervalSince1970: 1_798_675_200 + 7 * 3600 + 1800))
    #expect(
      ISO8601.parse("2026-12-31T08:30Z")
        == Date(timeIntervalSince1970: 1_798_675_200 + 8 * 3600 + 1800))
    #expect(ISO8601.parse("2024-02-29") != nil)
    for bad in [
      "2025-02-29", "2026-13-01", "2026-00-10", "2026-1-1", "31.12.2026", "", "2026-12-31T25:00",
      "2026-12-31T10:00+1",
    ] {
      #expect(ISO8601.parse(bad) == nil, "\(bad)")
    }
    #expect(
      ISO8601.format(Date(timeIntervalSince1970: 1_798_675_200 + 61)) == "2026-12-31T00:01:01Z")
  }
}
