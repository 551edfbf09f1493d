import Foundation
import Testing

@testable import VoucherKit

@Suite("Per-profile limits: campaign files and periods")
struct ProfileLimitsTests {
  let ring = testRing([0: 0x11])

  @Test(
    "limits are kept in the campaign file; a file without them loads as before; bad limits in a file are named"
  )
  func files() throws {
    let home = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: home) }
    let store = CampaignStore(folder: home + "/Campaigns")
    var spec = CampaignSpec(id: CampaignID("a")!, channels: [ChannelID("x")!])
    spec.capacity = 10
    let plain = try store.add(spec, keyRing: ring, now: Date())
    #expect(plain.limits == nil)
    #expect(
      !(try String(contentsOfFile: store.path(of: plain.id), encoding: .utf8)).contains("limits"))
    spec.id = CampaignID("b")!
    spec.limits = ProfileLimits(
      redemptions: 2, period: .week, claims: nil, zone: "Europe/Amsterdam")
    let limited = try store.add(spec, keyRing: ring, now: Date())
    #expect(try store.load().campaign(limited.id)?.limits == spec.limits)
    let path = store.path(of: limited.id)
    let written = try String(contentsOfFile: path, encoding: .utf8)
    for (from, to) in [
      ("\"redemptions\" : 2", "\"redemptions\" : 0"),
      ("\"redemptions\" : 2", "\"redemptions\" : -1"),
      ("\"period\" : \"week\"", "\"period\" : \"year\""),
      ("\"redemptions\" : 2", "\"redemptions\" : null"),
    ] {
      #expect(written.contains(from))
      try written.replacingOccurrences(of: from, with: to).write(
        toFile: path, atomically: true, encoding: .utf8)
      #expect(throws: CampaignError.self, "\(to)") { try store.load() }
    }
  }

  @Test("a limit of nothing, or below 1, is not made")
  func counts() {
    #expect(ProfileLimits(redemptions: nil, claims: nil, zone: nil) == nil)
    #expect(ProfileLimits(redemptions: 0, claims: nil, zone: nil) == nil)
    #expect(ProfileLimits(redemptions: 1, claims: -1, zone: nil) == nil)
    #expect(ProfileLimits(redemptions: nil, claims: 1, zone: nil) != nil)
  }

  @Test(
    "periods: a UTC day, an ISO week from Monday, a month over a year's end; the whole campaign has none"
  )
  func utcWindows() {
    func window(_ period: LimitPeriod, _ at: String) -> [String]? {
      ProfileLimits(redemptions: 1, period: period, claims: nil, zone: nil)!
        .window(at: ISO8601.parse(at)!, zone: .utc).map {
          [ISO8601.format($0.start), ISO8601.format($0.end)]
        }
    }
    #expect(
      window(.day, "2026-12-31T23:59:59Z") == ["2026-12-31T00:00:00Z", "2027-01-01T00:00:00Z"])
    // 2026-12-03 is a Thursday: its week runs from Monday 30 November.
    #expect(
      window(.week, "2026-12-03T10:00:00Z") == ["2026-11-30T00:00:00Z", "2026-12-07T00:00:00Z"])
    #expect(
      window(.week, "2026-11-30T00:00:00Z") == ["2026-11-30T00:00:00Z", "2026-12-07T00:00:00Z"])
    #expect(
      window(.month, "2026-12-15T00:00:00Z") == ["2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z"])
    #expect(
      window(.month, "2028-02-29T12:00:00Z") == ["2028-02-01T00:00:00Z", "2028-03-01T00:00:00Z"])
    #expect(window(.campaign, "2026-12-15T00:00:00Z") == nil)
  }

  @Test("periods in a zone end at local midnight, on both sides of a change of clocks")
  func zonedWindows() throws {
    guard let amsterdam = try? ZoneRules.named("Europe/Amsterdam") else {
      try Test.cancel("no tz database: Europe/Amsterdam cannot be read")
    }
    let day = ProfileLimits(redemptions: 1, period: .day, claims: nil, zone: "Europe/Amsterdam")!
    // 23:30Z on 31 December is already 1 January in Amsterdam.
    let newYear = try #require(
      day.window(at: ISO8601.parse("2026-12-31T23:30:00Z")!, zone: amsterdam))
    #expect(ISO8601.format(newYear.start) == "2026-12-31T23:00:00Z")
    #expect(ISO8601.format(newYear.end) == "2027-01-01T23:00:00Z")
    // 2026-10-25 has 25 hours in Amsterdam (CEST to CET).
    let long = try #require(day.window(at: ISO8601.parse("2026-10-25T12:00:00Z")!, zone: amsterdam))
    #expect(ISO8601.format(long.start) == "2026-10-24T22:00:00Z")
    #expect(ISO8601.format(long.end) == "2026-10-25T23:00:00Z")
    // 2026-03-29 has 23 (CET to CEST).
    let short = try #require(
      day.window(at: ISO8601.parse("2026-03-29T12:00:00Z")!, zone: amsterdam))
    #expect(ISO8601.format(short.start) == "2026-03-28T23:00:00Z")
    #expect(ISO8601.format(short.end) == "2026-03-29T22:00:00Z")
  }
}
