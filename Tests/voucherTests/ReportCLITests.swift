import Foundation
import Testing
import VoucherKit
import VoucherRegistry
import VoucherTestSupport

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// A known history over three days (UTC), built through the library with explicit times, then
/// reported and exported by the built binary.
///
/// Campaign `summer` (single use): flyer serials 1–10 and receipt 1–6 issued (receipt 1–3 reprinted
/// once). Campaign `winter`: email 1–8.
///
/// | day | event |
/// |---|---|
/// | D1 | claim flyer#1 by crm:P1; redeem flyer#2 at S1/T2 with crm:P2; redeem receipt#1 at S2/T3 |
/// | D2 | claim flyer#4 by crm:P3; redeem flyer#1 at S1/T1 (inherits crm:P1); redeem flyer#3 at S2/T3; block receipt 5–6; winter email#1 at S3 with crm:P5 |
/// | D3 | void flyer#3 (reason `=1+2`); redeem flyer#3 at S1/T1; redeem flyer#5 online; redeem receipt#2 at -S9/T1; claim receipt#2 by crm:P4; unblock receipt 6 (reason `@cmd`) |
struct KnownHistory {
  let home: Home
  let days: [Date]
  var flyer: [String] = []
  var receipt: [String] = []
  var email: [String] = []

  init() throws {
    home = try Home()
    try #require(
      home.run("campaign", "add", "winter", "--channels", "email", "--capacity", "1000").status
        == 0)
    flyer =
      home.run("issue", "--campaign", "summer", "--channel", "flyer", "--count", "10")
      .stdoutLines
    receipt =
      home.run("issue", "--campaign", "summer", "--channel", "receipt", "--count", "6")
      .stdoutLines
    _ = home.run(
      "issue", "--campaign", "summer", "--channel", "receipt", "--count", "3", "--first", "1")
    email =
      home.run("issue", "--campaign", "winter", "--channel", "email", "--count", "8")
      .stdoutLines
    try #require(flyer.count == 10 && receipt.count == 6 && email.count == 8)
    // Days after the issue runs, so that a window ending on D2 still sees every issued code.
    let today = (Date().timeIntervalSince1970 / 86_400).rounded(.down) * 86_400
    days = (1...3).map { Date(timeIntervalSince1970: today + Double($0) * 86_400 + 36_000) }

    let ring = try KeyRing.load(from: home.path + "/Keys")
    let book = try CampaignStore(folder: home.path + "/Campaigns").load()
    let verifier = Verifier(keyRing: ring, campaigns: book)
    let registry = try Registry.open(
      home: VoucherHome(home.path), campaigns: book, create: true)
    func voucher(_ text: String) throws -> Voucher {
      guard case .valid(let voucher) = verifier.verify(text, now: days[0]) else {
        throw TestFailure("\(text) does not verify")
      }
      return voucher
    }
    func at(_ day: Int, _ minute: Int) -> Date { days[day].addingTimeInterval(Double(minute) * 60) }
    let summer = book.campaign(CampaignID("summer")!)!

    _ = try registry.claim(try voucher(flyer[0]), profile: ProfileID("crm:P1"), now: at(0, 1))
    _ = try registry.redeem(
      try voucher(flyer[1]), store: StoreID("S1"), terminal: TerminalID("T2"),
      profile: ProfileID("crm:P2"), now: at(0, 2))
    _ = try registry.redeem(
      try voucher(receipt[0]), store: StoreID("S2"), terminal: TerminalID("T3"), now: at(0, 3))

    _ = try registry.claim(try voucher(flyer[3]), profile: ProfileID("crm:P3"), now: at(1, 1))
    _ = try registry.redeem(
      try voucher(flyer[0]), store: StoreID("S1"), terminal: TerminalID("T1"), now: at(1, 2))
    _ = try registry.redeem(
      try voucher(flyer[2]), store: StoreID("S2"), terminal: TerminalID("T3"),
      request: RequestID("till-3:0001"), now: at(1, 3))
    try registry.block(
      campaign: summer, channel: ChannelID("receipt")!, serials: 5...6, reason: Reason("box lost"),
      now: at(1, 4))
    _ = try registry.redeem(
      try voucher(email[0]), store: StoreID("S3"), profile: ProfileID("crm:P5"), now: at(1, 5))

    _ = try registry.void(try voucher(flyer[2]), reason: Reason("=1+2"), now: at(2, 1))
    _ = try registry.redeem(
      try voucher(flyer[2]), store: StoreID("S1"), terminal: TerminalID("T1"), now: at(2, 2))
    _ = try registry.redeem(try voucher(flyer[4]), store: nil, now: at(2, 3))
    _ = try registry.redeem(
      try voucher(receipt[1]), store: StoreID("-S9"), terminal: TerminalID("T1"), now: at(2, 4))
    _ = try registry.claim(try voucher(receipt[1]), profile: ProfileID("crm:P4"), now: at(2, 5))
    try registry.block(
      campaign: summer, channel: ChannelID("receipt")!, serials: 6...6, reason: Reason("@cmd"),
      unblock: true, now: at(2, 6))
  }

  func day(_ index: Int) -> String { String(ISO8601.format(days[index]).prefix(10)) }
}

/// The figures of one report row, in the order of the CSV columns.
struct Row: Equatable, CustomStringConvertible {
  var issued: Int?
  var claimed: Int?
  var redeemed: Int
  var voided: Int
  var linked: Int
  var claimedThenRedeemed: Int

  var net: Int { redeemed - voided }
  var description: String {
    "issued \(issued.map(String.init) ?? "-") claimed \(claimed.map(String.init) ?? "-") redeemed \(redeemed) voided \(voided) linked \(linked) c→r \(claimedThenRedeemed)"
  }
}

@Suite("voucher report, export and forget, end to end")
struct ReportCLITests {
  /// Rows by "campaign/group" from the JSON report, with each rate checked against its counts.
  func jsonRows(_ text: String) throws -> [String: Row] {
    let report = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    guard case .array(let campaigns)? = report["campaigns"] else {
      throw TestFailure("no campaigns")
    }
    var rows: [String: Row] = [:]
    for campaign in campaigns {
      let id = campaign["campaign"]?.string ?? "?"
      var entries: [(String, JSONValue)] = [("all", campaign["total"] ?? .null)]
      if case .array(let groups)? = campaign["groups"] {
        entries += groups.map { ($0["group"]?.string ?? "?", $0["figures"] ?? .null) }
      }
      for (group, figures) in entries {
        func int(_ key: String) -> Int? {
          if case .number(let value)? = figures[key] { return Int(value) }
          return nil
        }
        func rate(_ key: String) -> Double? {
          if case .number(let value)? = figures[key] { return value }
          return nil
        }
        let row = Row(
          issued: int("issued"), claimed: int("claimed"), redeemed: int("redeemed") ?? -1,
          voided: int("voided") ?? -1, linked: int("linked") ?? -1,
          claimedThenRedeemed: int("claimedThenRedeemed") ?? -1)
        #expect(int("netRedeemed") == row.net)
        func expected(_ part: Int?, _ whole: Int?) -> Double? {
          guard let part, let whole, whole > 0 else { return nil }
          return (Double(part) / Double(whole) * 10_000).rounded() / 10_000
        }
        #expect(rate("redemptionRate") == expected(row.net, row.issued), "\(id)/\(group)")
        #expect(rate("claimRate") == expected(row.claimed, row.issued), "\(id)/\(group)")
        #expect(rate("linkedShare") == expected(row.linked, row.redeemed), "\(id)/\(group)")
        rows["\(id)/\(group)"] = row
      }
    }
    return rows
  }

  /// Rows by "campaign/group" from the CSV report.
  func csvRows(_ text: String) throws -> [String: Row] {
    #expect(
      text.hasSuffix("\r\n") && !text.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
    // Text quoted, numbers bare.
    #expect(text.hasPrefix(#""campaign","#))
    var rows: [String: Row] = [:]
    for (line, cells) in zip(text.components(separatedBy: "\r\n").dropFirst(), parseCSV(text).dropFirst()) {
      try #require(cells.count == 14, "\(line)")
      #expect(line.hasPrefix("\"") && !line.hasSuffix("\""))
      // A group that starts like a formula is neutralised with a quote; read it back without.
      var group = cells[1]
      if group.hasPrefix("'"), let next = group.dropFirst().first, "=+-@".contains(next) {
        group.removeFirst()
      }
      rows["\(cells[0])/\(group)"] = Row(
        issued: Int(cells[2]), claimed: Int(cells[3]), redeemed: Int(cells[4])!,
        voided: Int(cells[5])!, linked: Int(cells[7])!, claimedThenRedeemed: Int(cells[8])!)
      #expect(Int(cells[6]) == Int(cells[4])! - Int(cells[5])!)
    }
    return rows
  }

  /// Runs a report in JSON and in CSV and checks both hold exactly `expected`.
  func check(_ history: KnownHistory, _ arguments: [String], _ expected: [String: Row]) throws {
    let json = history.home.run(arguments: ["report", "--format", "json"] + arguments)
    let csv = history.home.run(arguments: ["report", "--format", "csv"] + arguments)
    #expect(json.status == 0 && csv.status == 0 && json.stderr.isEmpty, "\(json.stderr)")
    let fromJSON = try jsonRows(json.stdout)
    let fromCSV = try csvRows(csv.stdout)
    #expect(fromJSON == expected, "json \(arguments)")
    #expect(fromCSV == expected, "csv \(arguments)")
  }

  @Test("every figure of the report, by channel, store, day and terminal, in JSON and CSV")
  func figures() throws {
    let history = try KnownHistory()
    defer { history.home.remove() }
    try check(
      history, [],
      [
        "summer/all": Row(
          issued: 16, claimed: 3, redeemed: 7, voided: 1, linked: 2, claimedThenRedeemed: 1),
        "summer/flyer": Row(
          issued: 10, claimed: 2, redeemed: 5, voided: 1, linked: 2, claimedThenRedeemed: 1),
        "summer/receipt": Row(
          issued: 6, claimed: 1, redeemed: 2, voided: 0, linked: 0, claimedThenRedeemed: 0),
        "winter/all": Row(
          issued: 8, claimed: 0, redeemed: 1, voided: 0, linked: 1, claimedThenRedeemed: 0),
        "winter/email": Row(
          issued: 8, claimed: 0, redeemed: 1, voided: 0, linked: 1, claimedThenRedeemed: 0),
      ])
    let summerAll = Row(
      issued: 16, claimed: 3, redeemed: 7, voided: 1, linked: 2, claimedThenRedeemed: 1)
    try check(
      history, ["--campaign", "summer", "--by", "store"],
      [
        "summer/all": summerAll,
        "summer/S1": Row(redeemed: 3, voided: 0, linked: 2, claimedThenRedeemed: 1),
        "summer/S2": Row(redeemed: 2, voided: 1, linked: 0, claimedThenRedeemed: 0),
        "summer/-S9": Row(redeemed: 1, voided: 0, linked: 0, claimedThenRedeemed: 0),
        "summer/online": Row(redeemed: 1, voided: 0, linked: 0, claimedThenRedeemed: 0),
      ])
    try check(
      history, ["--campaign", "summer", "--by", "day"],
      [
        "summer/all": summerAll,
        "summer/\(history.day(0))": Row(
          claimed: 1, redeemed: 2, voided: 0, linked: 1, claimedThenRedeemed: 0),
        "summer/\(history.day(1))": Row(
          claimed: 1, redeemed: 2, voided: 1, linked: 1, claimedThenRedeemed: 1),
        "summer/\(history.day(2))": Row(
          claimed: 1, redeemed: 3, voided: 0, linked: 0, claimedThenRedeemed: 0),
      ])
    try check(
      history, ["--campaign", "summer", "--by", "terminal"],
      [
        "summer/all": summerAll,
        // A till is known by its store: T1 in S1 and in -S9 are two tills.
        "summer/S1/T1": Row(redeemed: 2, voided: 0, linked: 1, claimedThenRedeemed: 1),
        "summer/-S9/T1": Row(redeemed: 1, voided: 0, linked: 0, claimedThenRedeemed: 0),
        "summer/S1/T2": Row(redeemed: 1, voided: 0, linked: 1, claimedThenRedeemed: 0),
        "summer/S2/T3": Row(redeemed: 2, voided: 1, linked: 0, claimedThenRedeemed: 0),
        "summer/online": Row(redeemed: 1, voided: 0, linked: 0, claimedThenRedeemed: 0),
      ])
    // One day: the void on D3 counts against its redemption on D2, inside the window.
    try check(
      history, ["--campaign", "summer", "--since", history.day(1), "--until", history.day(1)],
      [
        "summer/all": Row(
          issued: 16, claimed: 1, redeemed: 2, voided: 1, linked: 1, claimedThenRedeemed: 1),
        "summer/flyer": Row(
          issued: 10, claimed: 1, redeemed: 2, voided: 1, linked: 1, claimedThenRedeemed: 1),
        "summer/receipt": Row(
          issued: 6, claimed: 0, redeemed: 0, voided: 0, linked: 0, claimedThenRedeemed: 0),
      ])
    // The daily series behind the chart.
    let json = try JSONDecoder().decode(
      JSONValue.self,
      from: Data(history.home.run("report", "--campaign", "summer", "--format", "json").stdout.utf8)
    )
    guard case .array(let campaigns)? = json["campaigns"],
      case .array(let daily)? = campaigns[0]["daily"]
    else {
      throw TestFailure("no daily series")
    }
    let series = daily.map {
      [$0["day"] ?? .null, $0["redeemed"]?["flyer"] ?? .null, $0["redeemed"]?["receipt"] ?? .null]
    }
    #expect(
      series == [
        [.string(history.day(0)), .number(1), .number(1)],
        [.string(history.day(1)), .number(2), .number(0)],
        [.string(history.day(2)), .number(2), .number(1)],
      ])
    // The terminal table shows the same totals.
    let table = history.home.run("report", "--campaign", "summer")
    #expect(table.status == 0)
    #expect(
      table.stdout.split(separator: "\n").contains {
        $0.split(separator: " ").map(String.init) == [
          "all", "16", "3", "7", "1", "37.5%", "18.8%", "28.6%", "1", "(33.3%)",
        ]
      }, "\(table.stdout)")
  }

  @Test("export: one row per event, CSV neutralised against formulas, JSON Lines exact")
  func export() throws {
    let history = try KnownHistory()
    defer { history.home.remove() }
    let jsonl = history.home.run("export", "--format", "jsonl")
    #expect(jsonl.status == 0)
    let rows = try jsonl.stdoutLines.map {
      try JSONDecoder().decode(JSONValue.self, from: Data($0.utf8))
    }
    #expect(rows.count == 14)
    #expect(
      rows.map { $0["event"]?.string ?? "" } == [
        "claimed", "redeemed", "redeemed", "claimed", "redeemed", "redeemed", "blocked", "redeemed",
        "voided", "redeemed", "redeemed", "redeemed", "claimed", "unblocked",
      ])
    // Every row names its campaign, channel, serial and code as issued.
    let second = rows[1]
    #expect(
      second["campaign"]?.string == "summer" && second["channel"]?.string == "flyer"
        && second["serial"] == .number(2) && second["code"]?.string == history.flyer[1]
        && second["store"]?.string == "S1" && second["terminal"]?.string == "T2"
        && second["profile"]?.string == "crm:P2" && second["venue"]?.string == "store")
    #expect(rows[5]["request"]?.string == "till-3:0001")
    // Times keep the journal's milliseconds.
    #expect(
      rows[5]["time"]?.string
        == ISO8601.format(history.days[1].addingTimeInterval(180)).dropLast() + ".000Z")
    #expect(rows[8]["undoes"] == rows[5]["id"] && rows[8]["reason"]?.string == "=1+2")
    #expect(
      rows[6]["serial"] == .number(5) && rows[6]["lastSerial"] == .number(6)
        && rows[6]["code"] == .null && rows[6]["channel"]?.string == "receipt")
    #expect(rows[7]["campaign"]?.string == "winter" && rows[7]["code"]?.string == history.email[0])

    let csv = history.home.run("export")
    #expect(csv.status == 0)
    let lines = csv.stdout.components(separatedBy: "\r\n").dropLast()
    #expect(lines.count == 15)
    #expect(
      lines.first
        == #""event","time","campaign","channel","serial","lastSerial","code","venue","store","terminal","profile","profileErased","request","reason","id","undoes","prize""#
    )
    // Fields that a spreadsheet would run as formulas start with a quote.
    #expect(lines[9].contains(#","'=1+2","#), "\(lines[9])")
    #expect(lines[12].contains(#","'-S9","#), "\(lines[12])")
    #expect(lines[14].contains(#","'@cmd","#), "\(lines[14])")
    // Filters: one campaign, a window.
    let winter = history.home.run("export", "--campaign", "winter", "--format", "jsonl")
    #expect(winter.stdoutLines.count == 1 && winter.stdout.contains(history.email[0]))
    let lastDay = history.home.run("export", "--since", history.day(2), "--format", "jsonl")
    #expect(lastDay.stdoutLines.count == 6)
  }

  @Test(
    "export needs the key that prints its codes: none, one readable by others or a missing slot fails before anything is written; a retired or revoked key still prints them; report and check read no key"
  )
  func exportWithoutKey() throws {
    let history = try KnownHistory()
    let home = history.home
    defer { home.remove() }
    let expected = home.run("export", "--format", "jsonl")
    #expect(expected.status == 0 && expected.stdoutLines.count == 14)
    let report = home.run("report", "--format", "json", "--by", "store")
    let key = home.path + "/Keys/slot-00.key"
    func expectRefused(_ status: Int32, _ message: String, _ what: String) {
      let before = home.snapshot()
      for arguments in [
        ["export"], ["export", "--format", "jsonl", "--campaign", "winter"],
        ["export", "--output", home.path + "/events.csv"],
      ] {
        let outcome = home.run(arguments: arguments)
        #expect(outcome.status == status, "\(what), \(arguments): \(outcome.stderr)")
        #expect(
          outcome.stderrLines.count == 1 && outcome.stderr.hasPrefix("error: \(message)"),
          "\(what), \(arguments): \(outcome.stderr)")
        #expect(outcome.stdout.isEmpty, "\(what), \(arguments): \(outcome.stdout)")
        #expect(home.snapshot() == before, "\(what), \(arguments) changed a file")
      }
      // Counting events needs no secret: the report and the check answer as ever.
      let counted = home.run("report", "--format", "json", "--by", "store")
      #expect(counted.status == 0 && counted.stdout == report.stdout, "\(what): \(counted.stderr)")
      #expect(counted.stderr.isEmpty, "\(what): \(counted.stderr)")
      #expect(home.run("registry", "check").status == 0, "\(what)")
    }
    chmod(key, 0o644)
    expectRefused(78, "key file \(key) has mode 0644", "a key file readable by others")
    chmod(key, 0o600)
    // Another key in the ring, but not the campaigns' own; then no key at all.
    #expect(home.run("keys", "new").status == 0)
    let other = home.path + "/Keys/slot-01.key"
    try FileManager.default.moveItem(atPath: key, toPath: home.path + "/slot-00.key")
    expectRefused(
      66, "the campaign's key (slot 0) is not in the key ring", "the campaigns' key missing")
    try FileManager.default.removeItem(atPath: other)
    expectRefused(66, "the key ring at \(home.path)/Keys has no keys", "no key")
    try FileManager.default.moveItem(atPath: home.path + "/slot-00.key", toPath: key)
    // A retired or revoked key no longer signs new codes, but its codes were issued.
    for state in ["retire", "revoke"] {
      #expect(home.run("keys", state, "0").status == 0)
      let exported = home.run("export", "--format", "jsonl")
      #expect(
        exported.status == 0 && exported.stdout == expected.stdout, "\(state): \(exported.stderr)")
    }
  }

  @Test("hostile text round-trips through JSON Lines and never becomes a formula in CSV")
  func hostileFields() throws {
    let home = try Home()
    defer { home.remove() }
    let ring = try KeyRing.load(from: home.path + "/Keys")
    let book = try CampaignStore(folder: home.path + "/Campaigns").load()
    let registry = try Registry.open(home: VoucherHome(home.path), campaigns: book, create: true)
    let summer = book.campaign(CampaignID("summer")!)!
    let reasons =
      try TestData.naughtyStrings().compactMap { try? Reason($0) }.map(\.rawValue)
      + ["=HYPERLINK(\"http://x\")", "+1", "-1", "@SUM(A1)", "a,b", "say \"hi\""]
    for (index, reason) in reasons.enumerated() {
      try registry.block(
        campaign: summer, channel: ChannelID("flyer")!, serials: (index + 1)...(index + 1),
        reason: Reason(reason), now: Date())
    }
    _ = ring
    let jsonl = home.run("export", "--format", "jsonl")
    let exported = try jsonl.stdoutLines.map {
      try JSONDecoder().decode(JSONValue.self, from: Data($0.utf8))["reason"]?.string ?? ""
    }
    #expect(exported == reasons)
    // CSV: parse RFC 4180 by hand; every cell that starts with a formula character is quoted.
    let csv = home.run("export").stdout
    let records = parseCSV(csv)
    #expect(records.count == reasons.count + 1)
    for (record, reason) in zip(records.dropFirst(), reasons) {
      let cell = record[13]
      if let first = reason.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) {
        #expect(cell == "'" + reason)
      } else {
        #expect(cell == reason)
      }
    }
  }

  @Test("SVG parses as XML with one series per channel; HTML is one page with nothing to fetch")
  func charts() throws {
    let history = try KnownHistory()
    defer { history.home.remove() }
    let svg = history.home.run("report", "--format", "svg")
    #expect(svg.status == 0)
    let delegate = SeriesCounter()
    let parser = XMLParser(data: Data(svg.stdout.utf8))
    parser.delegate = delegate
    #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")")
    #expect(delegate.series == ["flyer", "receipt", "email"])
    // One funnel per channel with claims (summer's flyer and receipt; winter has no claims).
    let funnel = ["issued", "claimed online", "claimed, then redeemed"]
    #expect(delegate.stages == funnel + funnel)

    let output = history.home.path + "/report.html"
    let html = history.home.run("report", "--format", "html", "--output", output)
    #expect(html.status == 0)
    let page = try String(contentsOfFile: output, encoding: .utf8)
    #expect(page.hasPrefix("<!DOCTYPE html>") && page.contains("Content-Security-Policy"))
    // The campaigns compared, then one chart per campaign.
    #expect(page.components(separatedBy: "<svg").count - 1 == 3)
    #expect(page.components(separatedBy: "class=\"series\"").count - 1 == 3)
    // Nothing that could make a request: no scripts, links, images, frames or remote URLs.
    for banned in ["<script", "<link", "<img", "<iframe", "http://", "https://", "url(", "@import"]
    {
      #expect(!page.lowercased().contains(banned), "\(banned)")
    }
    // Never overwritten without --force; replaced whole with it.
    let before = try Data(contentsOf: URL(fileURLWithPath: output))
    let again = history.home.run("report", "--format", "csv", "--output", output)
    #expect(again.status == 73 && again.stderr.hasPrefix("error: ") && again.stderrLines.count == 1)
    #expect(try Data(contentsOf: URL(fileURLWithPath: output)) == before)
    #expect(
      history.home.run("report", "--format", "csv", "--output", output, "--force").status == 0)
    #expect(try String(contentsOfFile: output, encoding: .utf8).hasPrefix(#""campaign","channel","#))
  }

  @Test(
    "the HTML page renders in headless Chromium, charts and all, and requests nothing",
    .enabled(if: chromium != nil, "Debian's chromium is not installed (.ci/run installs it)"))
  func browser() throws {
    let history = try KnownHistory()
    defer { history.home.remove() }
    let folder = history.home.path
    #expect(
      history.home.run("report", "--format", "html", "--output", folder + "/r.html").status == 0)
    let rendered = try render(folder + "/r.html", in: folder)
    #expect(
      rendered.screenshot.count > 20_000
        && rendered.screenshot.starts(with: [0x89, 0x50, 0x4E, 0x47]))
    #expect(rendered.pageRequests.isEmpty, "\(rendered.pageRequests)")
    // The screenshot is kept where asked, to look at (see the voucher DocC article).
    if let keep = ProcessInfo.processInfo.environment["VOUCHER_SCREENSHOT"] {
      try rendered.screenshot.write(to: URL(fileURLWithPath: keep))
    }
    // The check can fail: a page with a remote image is caught.
    try "<html><body><img src=\"http://127.0.0.1:9/x.png\"></body></html>".write(
      toFile: folder + "/bad.html", atomically: true, encoding: .utf8)
    #expect(
      try render(folder + "/bad.html", in: folder).pageRequests == ["http://127.0.0.1:9/x.png"])
  }

  /// Renders a page in headless Chromium: its screenshot, and the URLs the page itself requested
  /// (from Chromium's network log; the browser's own background requests have no origin).
  func render(_ page: String, in folder: String, size: String = "1000,1500") throws -> (
    screenshot: Data, pageRequests: [String]
  ) {
    let shot = folder + "/shot.png"
    let log = folder + "/net.json"
    try? FileManager.default.removeItem(atPath: shot)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: chromium!)
    process.arguments = [
      "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--user-data-dir=\(folder)/chromium", "--window-size=\(size)", "--screenshot=\(shot)",
      "--log-net-log=\(log)", "file://\(page)",
    ]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    let screenshot = try Data(contentsOf: URL(fileURLWithPath: shot))
    let net =
      try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: log)))
      as? [String: Any]
    let types = (net?["constants"] as? [String: Any])?["logEventTypes"] as? [String: Int] ?? [:]
    let start = types["URL_REQUEST_START_JOB"]
    var requests: [String] = []
    for event in net?["events"] as? [[String: Any]] ?? [] where event["type"] as? Int == start {
      let params = event["params"] as? [String: Any] ?? [:]
      if let url = params["url"] as? String, params["initiator"] as? String != "not an origin" {
        requests.append(url)
      }
    }
    return (screenshot, requests)
  }

  @Test("forget: the profile id is nowhere under the home, every count stays, the registry checks")
  func forget() throws {
    let history = try KnownHistory()
    let home = history.home
    defer { home.remove() }
    // A torn tail kept aside by a repair may hold the id too.
    let side = home.path + "/Registry/torn-999-1.bin"
    try Data("\u{A5}\u{01}xxcrm:P1yy".utf8).write(to: URL(fileURLWithPath: side))
    let reportBefore = home.run("report", "--format", "json", "--by", "store").stdout
    let exportBefore = home.run("export", "--format", "jsonl").stdoutLines

    let forgot = home.run("forget", "--profile", "crm:P1", "--format", "json")
    #expect(forgot.status == 0, "\(forgot.stderr)")
    let answer = try JSONDecoder().decode(JSONValue.self, from: Data(forgot.stdout.utf8))
    #expect(
      answer["redemptions"] == .number(1) && answer["claims"] == .number(1)
        && answer["sideFiles"] == .number(1) && answer["events"] == .number(2))
    #expect(try filesContaining("crm:P1", under: home.path).isEmpty)
    #expect(home.run("registry", "check").status == 0)
    #expect(home.run("report", "--format", "json", "--by", "store").stdout == reportBefore)
    // Only the two rows that named the profile changed, and only in the profile.
    let exportAfter = home.run("export", "--format", "jsonl").stdoutLines
    #expect(exportAfter.count == exportBefore.count)
    let changed = zip(exportBefore, exportAfter).filter { $0 != $1 }
    #expect(changed.count == 2)
    for (before, after) in changed {
      #expect(
        before.replacingOccurrences(
          of: "\"profile\":\"crm:P1\",\"profileErased\":false",
          with: "\"profile\":null,\"profileErased\":true") == after)
    }
    // The claimed code stays claimed: nobody else can claim it, it stays redeemed.
    #expect(
      home.run("claim", history.flyer[0], "--profile", "crm:P9").stdout.contains("claimed-by-other")
    )
    #expect(home.run("verify", history.flyer[0]).stdout.contains("used-up"))
    #expect(home.run("history", history.flyer[0]).stdout.contains("profile erased"))
    // Other profiles are untouched, and forgetting again touches nothing.
    #expect(home.run("export").stdout.contains("crm:P2"))
    let again = home.run("forget", "--profile", "crm:P1")
    #expect(again.status == 0 && again.stdout == "no event names that profile\n")
  }

  @Test("forget names files it does not own that still hold the id, and refuses contact data")
  func forgetLeftovers() throws {
    let history = try KnownHistory()
    let home = history.home
    defer { home.remove() }
    #expect(home.run("export", "--output", home.path + "/crm.csv").status == 0)
    let forgot = home.run("forget", "--profile", "crm:P2")
    #expect(forgot.status == 1 && forgot.stderr.contains("crm.csv still contains the profile id"))
    #expect(try filesContaining("crm:P2", under: home.path) == [home.path + "/crm.csv"])
    let before = home.snapshot()
    for bad in ["ann@example.com", "+49 30 1234567", "", "a b", "ü"] {
      let outcome = home.run("forget", "--profile", bad)
      #expect(outcome.status == 64 && outcome.stderrLines.count == 1, "\(bad)")
    }
    #expect(home.snapshot() == before)
  }

  @Test("bad options: a clear error, a documented status, no file changed")
  func badOptions() throws {
    let history = try KnownHistory()
    let home = history.home
    defer { home.remove() }
    let before = home.snapshot()
    let cases: [([String], Int32)] = [
      (["report", "--by", "year"], 64), (["report", "--format", "pdf"], 64),
      (["report", "--since", "yesterday"], 64), (["report", "--since", "2026-02-30"], 64),
      (["report", "--since", "2026-03-02", "--until", "2026-03-01"], 64),
      (["report", "--campaign", "nope"], 66), (["report", "--campaign", "../x"], 64),
      (["report", "--force"], 64), (["report", "--output", ""], 64),
      (["report", "--output", home.path + "/no/such/folder/r.txt"], 73),
      (["export", "--format", "xlsx"], 64), (["export", "--campaign", "nope"], 66),
      (["export", "stray"], 64), (["forget"], 64),
    ]
    for (arguments, status) in cases {
      let outcome = home.run(arguments: arguments)
      #expect(outcome.status == status, "\(arguments): \(outcome.stderr)")
      #expect(
        outcome.stderrLines.count == 1 && outcome.stderr.hasPrefix("error: "),
        "\(arguments): \(outcome.stderr)")
    }
    #expect(home.snapshot() == before)
  }
}

/// Debian's Chromium, if installed.
let chromium: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first {
  FileManager.default.isExecutableFile(atPath: $0)
}

/// Counts chart series and funnel stages in an SVG document.
final class SeriesCounter: NSObject, XMLParserDelegate {
  var series: [String] = []
  var stages: [String] = []

  func parser(
    _ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
    qualifiedName: String?, attributes: [String: String] = [:]
  ) {
    if name == "g", attributes["class"] == "series", let channel = attributes["data-channel"] {
      series.append(channel)
    }
    if name == "rect", attributes["class"] == "stage", let stage = attributes["data-stage"] {
      stages.append(stage)
    }
  }
}

/// Files under `folder` whose bytes contain `text`.
func filesContaining(_ text: String, under folder: String) throws -> [String] {
  let needle = Data(text.utf8)
  var found: [String] = []
  let enumerator = FileManager.default.enumerator(atPath: folder)
  while let relative = enumerator?.nextObject() as? String {
    let path = folder + "/" + relative
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), !isFolder.boolValue
    else { continue }
    if try Data(contentsOf: URL(fileURLWithPath: path)).range(of: needle) != nil {
      found.append(path)
    }
  }
  return found
}

/// Records of RFC 4180 CSV text.
func parseCSV(_ text: String) -> [[String]] {
  var records: [[String]] = []
  var record: [String] = []
  var field = ""
  var quoted = false
  var scalars = Array(text.unicodeScalars)[...]
  while let scalar = scalars.popFirst() {
    if quoted {
      if scalar == "\"" {
        if scalars.first == "\"" {
          field.unicodeScalars.append(scalars.removeFirst())
        } else {
          quoted = false
        }
      } else {
        field.unicodeScalars.append(scalar)
      }
    } else if scalar == "\"" {
      quoted = true
    } else if scalar == "," {
      record.append(field)
      field = ""
    } else if scalar == "\r", scalars.first == "\n" {
      scalars.removeFirst()
      record.append(field)
      records.append(record)
      record = []
      field = ""
    } else {
      field.unicodeScalars.append(scalar)
    }
  }
  return records
}
