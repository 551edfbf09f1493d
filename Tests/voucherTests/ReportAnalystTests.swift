import Foundation
import Testing
import VoucherKit
import VoucherRegistry
import VoucherTestSupport

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// A history around the turn of the year 2025/2026, with redemptions near midnight UTC so that
/// local days, ISO weeks and months differ between UTC and Europe/Amsterdam (UTC+1 in winter).
///
/// Campaign `summer`: flyer 1–10 and receipt 1–5 issued. Times UTC:
///
/// | event | time | what |
/// |---|---|---|
/// | E1 | 2025-12-22 12:00 | claim flyer#4 by crm:B |
/// | E2 | 2025-12-22 12:05 | redeem receipt#2 at S1 (no till) |
/// | E3 | 2025-12-28 23:30 | redeem flyer#3 at S2/T1 (a Sunday in UTC, Monday 00:30 in Amsterdam) |
/// | E4 | 2025-12-30 09:00 | claim flyer#1 by crm:A |
/// | E5 | 2025-12-31 23:30 | redeem flyer#2 at S1/T1 (New Year's Day 00:30 in Amsterdam) |
/// | E6 | 2026-01-02 10:00 | redeem flyer#1 at S1/T1 (claimed, so linked and claimed → redeemed) |
/// | E7 | 2026-01-03 10:00 | void receipt#2 (counts against E2) |
/// | E8 | 2026-01-04 12:00 | redeem flyer#5 online |
/// | E9 | 2026-01-05 08:00 | redeem receipt#1 at S2/T2 |
struct TurnOfYear {
  let home: Home

  init() throws {
    home = try Home()
    let flyer =
      home.run("issue", "--campaign", "summer", "--channel", "flyer", "--count", "10").stdoutLines
    let receipt =
      home.run("issue", "--campaign", "summer", "--channel", "receipt", "--count", "5")
      .stdoutLines
    try #require(flyer.count == 10 && receipt.count == 5)
    let book = try CampaignStore(folder: home.path + "/Campaigns").load()
    let verifier = Verifier(
      keyRing: try KeyRing.load(from: home.path + "/Keys"), campaigns: book)
    let registry = try Registry.open(home: VoucherHome(home.path), campaigns: book, create: true)
    func at(_ text: String) -> Date { ISO8601.parse(text)! }
    func voucher(_ text: String) throws -> Voucher {
      guard case .valid(let voucher) = verifier.verify(text, now: at("2025-12-01T00:00:00Z"))
      else { throw TestFailure("\(text) does not verify") }
      return voucher
    }
    _ = try registry.claim(
      voucher(flyer[3]), profile: ProfileID("crm:B"), now: at("2025-12-22T12:00:00Z"))
    _ = try registry.redeem(
      voucher(receipt[1]), store: StoreID("S1"), now: at("2025-12-22T12:05:00Z"))
    _ = try registry.redeem(
      voucher(flyer[2]), store: StoreID("S2"), terminal: TerminalID("T1"),
      now: at("2025-12-28T23:30:00Z"))
    _ = try registry.claim(
      voucher(flyer[0]), profile: ProfileID("crm:A"), now: at("2025-12-30T09:00:00Z"))
    _ = try registry.redeem(
      voucher(flyer[1]), store: StoreID("S1"), terminal: TerminalID("T1"),
      now: at("2025-12-31T23:30:00Z"))
    _ = try registry.redeem(
      voucher(flyer[0]), store: StoreID("S1"), terminal: TerminalID("T1"),
      now: at("2026-01-02T10:00:00Z"))
    _ = try registry.void(voucher(receipt[1]), now: at("2026-01-03T10:00:00Z"))
    _ = try registry.redeem(voucher(flyer[4]), store: nil, now: at("2026-01-04T12:00:00Z"))
    _ = try registry.redeem(
      voucher(receipt[0]), store: StoreID("S2"), terminal: TerminalID("T2"),
      now: at("2026-01-05T08:00:00Z"))
  }
}

/// Many stores and days, for the charts: campaign `summer` with store `S<k>` redeeming 5·k²
/// flyer codes (S15: 1,125), every fourth one claimed online the day before, spread over five
/// weeks from Monday 2025-11-03; campaign `winter` with fewer.
struct ManyStores {
  let home: Home
  static let stores = 15

  init() throws {
    home = try Home()
    try #require(
      home.run("campaign", "add", "winter", "--channels", "email,receipt", "--capacity", "10000")
        .status == 0)
    let total = (1...Self.stores).reduce(0) { $0 + 5 * $1 * $1 }
    let flyer =
      home.run(
        "issue", "--campaign", "summer", "--channel", "flyer", "--count", String(total + 500)
      )
      .stdoutLines
    let email =
      home.run("issue", "--campaign", "winter", "--channel", "email", "--count", "900").stdoutLines
    try #require(flyer.count == total + 500 && email.count == 900)
    let book = try CampaignStore(folder: home.path + "/Campaigns").load()
    let verifier = Verifier(
      keyRing: try KeyRing.load(from: home.path + "/Keys"), campaigns: book)
    let registry = try Registry.open(home: VoucherHome(home.path), campaigns: book, create: true)
    let start = ISO8601.parse("2025-11-03T08:00:00Z")!
    func voucher(_ text: String) throws -> Voucher {
      guard case .valid(let voucher) = verifier.verify(text, now: start) else {
        throw TestFailure("\(text) does not verify")
      }
      return voucher
    }
    // Events in time order: code n on day n mod 35, at a minute of its own.
    var events: [(Date, () throws -> Void)] = []
    var next = 0
    for store in 1...Self.stores {
      for _ in 0..<(5 * store * store) {
        let index = next
        next += 1
        let day = Double(index % 35)
        let time = start.addingTimeInterval(day * 86_400 + Double(index / 35) * 3)
        let code = flyer[index]
        if index % 4 == 0 {
          events.append(
            (
              time.addingTimeInterval(-86_400 / 2),
              {
                _ = try registry.claim(
                  voucher(code), profile: ProfileID("crm:\(index)"),
                  now: time.addingTimeInterval(-86_400 / 2))
              }
            ))
        }
        events.append(
          (
            time,
            {
              _ = try registry.redeem(
                voucher(code), store: StoreID("S\(store)"),
                terminal: TerminalID("T\(index % 3 + 1)"),
                now: time)
            }
          ))
      }
    }
    for index in 0..<300 {
      let time = start.addingTimeInterval(Double(index % 35) * 86_400 + 40_000 + Double(index))
      let code = email[index]
      if index % 2 == 0 {
        events.append(
          (
            time.addingTimeInterval(-3_600),
            {
              _ = try registry.claim(
                voucher(code), profile: ProfileID("crm:w\(index)"),
                now: time.addingTimeInterval(-3_600))
            }
          ))
      }
      if index % 3 != 2 {
        events.append(
          (
            time,
            {
              _ = try registry.redeem(voucher(code), store: StoreID("S\(index % 4 + 1)"), now: time)
            }
          ))
      }
    }
    for event in events.sorted(by: { $0.0 < $1.0 }) { try event.1() }
  }
}

@Suite("voucher report for an analyst: local days, weeks, months, tills, matrices, charts")
struct ReportAnalystTests {
  let rows = ReportCLITests()

  /// Runs the report in JSON and CSV (`arguments` after `report`, `global` before it) and
  /// checks both hold exactly `expected`.
  func check(_ home: Home, global: [String] = [], _ arguments: [String], _ expected: [String: Row])
    throws
  {
    let json = home.run(arguments: global + ["report", "--format", "json"] + arguments)
    let csv = home.run(arguments: global + ["report", "--format", "csv"] + arguments)
    #expect(json.status == 0 && csv.status == 0 && json.stderr.isEmpty, "\(json.stderr)")
    #expect(try rows.jsonRows(json.stdout) == expected, "json \(global) \(arguments)")
    #expect(try rows.csvRows(csv.stdout) == expected, "csv \(global) \(arguments)")
  }

  static let total = Row(
    issued: 15, claimed: 2, redeemed: 6, voided: 1, linked: 1, claimedThenRedeemed: 1)

  @Test("the README's report examples run as shown, in a home holding the history around New Year")
  func readme() throws {
    let history = try TurnOfYear()
    defer { history.home.remove() }
    let readme = try String(
      contentsOf: packageFolder.appendingPathComponent("README.md"), encoding: .utf8)
    let commands = try ReadmeCommand.block(after: "### Reports for the CRM team", in: readme)
    try #require(commands.count >= 5)
    // The home is the current folder, as in the README.
    let path = URL(fileURLWithPath: voucherBinary).deletingLastPathComponent().path
    for command in commands {
      #expect(command.command.hasPrefix("voucher "), "\(command.command)")
      let run = runBinary(
        ["-c", "export PATH='\(path)':\"$PATH\"\n\(command.command) 2>&1"],
        directory: history.home.path, executable: "/bin/bash")
      #expect(
        run.status == 0 && !run.stdout.contains("error:"), "\(command.command): \(run.stdout)")
      var remaining = run.stdout[...]
      for piece in command.expected {
        guard let found = remaining.range(of: piece) else {
          Issue.record("\(command.command): expected \(piece) in \(run.stdout)")
          break
        }
        remaining = remaining[found.upperBound...]
      }
    }
  }

  @Test("days, ISO weeks and months in UTC and in Europe/Amsterdam, with exact figures")
  func periods() throws {
    let history = try TurnOfYear()
    defer { history.home.remove() }
    let home = history.home
    let all = Self.total
    try check(
      home, ["--by", "week"],
      [
        "summer/all": all,
        "summer/2025-W52": .period(1, 2, 1, 0, 0),
        "summer/2026-W01": .period(1, 3, 0, 1, 1),
        "summer/2026-W02": .period(0, 1, 0, 0, 0),
      ])
    // In Amsterdam E3 falls on Monday 2025-12-29 (2026-W01) and E5 on 2026-01-01.
    for global in [["--tz", "Europe/Amsterdam"], ["--tz=Europe/Amsterdam"]] {
      try check(
        home, global: global, ["--by", "week"],
        [
          "summer/all": all,
          "summer/2025-W52": .period(1, 1, 1, 0, 0),
          "summer/2026-W01": .period(1, 4, 0, 1, 1),
          "summer/2026-W02": .period(0, 1, 0, 0, 0),
        ])
    }
    try check(
      home, ["--by", "month"],
      [
        "summer/all": all,
        "summer/2025-12": .period(2, 3, 1, 0, 0),
        "summer/2026-01": .period(0, 3, 0, 1, 1),
      ])
    try check(
      home, global: ["--tz", "Europe/Amsterdam"], ["--by", "month"],
      [
        "summer/all": all,
        "summer/2025-12": .period(2, 2, 1, 0, 0),
        "summer/2026-01": .period(0, 4, 0, 1, 1),
      ])
    // The redemption at 23:30Z on New Year's Eve is on New Year's Day in Amsterdam.
    let utcDays = try rows.jsonRows(home.run("report", "--by", "day", "--format", "json").stdout)
    #expect(utcDays["summer/2025-12-31"]?.redeemed == 1 && utcDays["summer/2026-01-01"] == nil)
    #expect(utcDays["summer/2025-12-28"]?.redeemed == 1)
    let localDays = try rows.jsonRows(
      home.run("--tz", "Europe/Amsterdam", "report", "--by", "day", "--format", "json").stdout)
    #expect(localDays["summer/2026-01-01"]?.redeemed == 1 && localDays["summer/2025-12-31"] == nil)
    #expect(localDays["summer/2025-12-29"]?.redeemed == 1 && localDays["summer/2025-12-28"] == nil)
    // VOUCHER_TZ does the same as --tz; the JSON names the zone.
    let viaEnvironment = home.run(
      "report", "--by", "day", "--format", "json",
      environment: ["VOUCHER_TZ": "Europe/Amsterdam"])
    #expect(try rows.jsonRows(viaEnvironment.stdout) == localDays)
    #expect(viaEnvironment.stdout.contains(#""zone" : "Europe/Amsterdam""#))
    // The chart's daily series is in local days too.
    #expect(viaEnvironment.stdout.contains(#""day" : "2026-01-01""#))
    // The terminal table says which zone its days are in.
    #expect(
      home.run("--tz", "Europe/Amsterdam", "report").stdout.contains("days in Europe/Amsterdam"))
    #expect(home.run("report").stdout.contains("days in UTC"))
  }

  @Test("days across daylight saving switches in Europe/Amsterdam: 23:30 and 00:30 local sides")
  func daylightSaving() throws {
    let home = try Home()
    defer { home.remove() }
    let codes =
      home.run("issue", "--campaign", "summer", "--channel", "flyer", "--count", "4").stdoutLines
    let book = try CampaignStore(folder: home.path + "/Campaigns").load()
    let verifier = Verifier(keyRing: try KeyRing.load(from: home.path + "/Keys"), campaigns: book)
    let registry = try Registry.open(home: VoucherHome(home.path), campaigns: book, create: true)
    // Spring forward on 2026-03-29 at 01:00Z (+1 to +2); fall back on 2026-10-25 at 01:00Z.
    let times = [
      "2026-03-29T00:30:00Z",  // 01:30 CET, 29 March
      "2026-03-29T22:30:00Z",  // 00:30 CEST, 30 March: the same UTC day, the next local one
      "2026-10-24T22:30:00Z",  // 00:30 CEST, 25 October
      "2026-10-25T22:30:00Z",  // 23:30 CET, 25 October
    ]
    for (code, time) in zip(codes, times) {
      let now = ISO8601.parse(time)!
      guard case .valid(let voucher) = verifier.verify(code, now: now) else {
        throw TestFailure("\(code) does not verify")
      }
      _ = try registry.redeem(voucher, store: StoreID("S1"), now: now)
    }
    let days = try rows.jsonRows(
      home.run("--tz", "Europe/Amsterdam", "report", "--by", "day", "--format", "json").stdout)
    #expect(days["summer/2026-03-29"]?.redeemed == 1 && days["summer/2026-03-30"]?.redeemed == 1)
    #expect(days["summer/2026-10-25"]?.redeemed == 2 && days.count == 4, "\(days)")
    let utc = try rows.jsonRows(home.run("report", "--by", "day", "--format", "json").stdout)
    #expect(utc["summer/2026-03-29"]?.redeemed == 2 && utc["summer/2026-10-24"]?.redeemed == 1)
    // A local --until day ends at the local midnight after it, whichever offset is in force.
    let until = try rows.jsonRows(
      home.run(
        "--tz", "Europe/Amsterdam", "report", "--until", "2026-03-29", "--format", "json"
      ).stdout)
    #expect(until["summer/all"]?.redeemed == 1)
  }

  @Test(
    "hostile store and till ids (naughty strings the ids accept) in every format and the matrix")
  func hostileStores() throws {
    let home = try Home()
    defer { home.remove() }
    var stores: [String] = []
    for text in try TestData.naughtyStrings() where (try? StoreID(text)) != nil {
      if !stores.contains(text) { stores.append(text) }
    }
    stores = Array(stores.prefix(60))
    try #require(stores.count >= 10 && stores.contains { $0.hasPrefix("-") })
    let codes = home.run(
      "issue", "--campaign", "summer", "--channel", "flyer", "--count", String(stores.count)
    ).stdoutLines
    let book = try CampaignStore(folder: home.path + "/Campaigns").load()
    let verifier = Verifier(keyRing: try KeyRing.load(from: home.path + "/Keys"), campaigns: book)
    let registry = try Registry.open(home: VoucherHome(home.path), campaigns: book, create: true)
    for (code, store) in zip(codes, stores) {
      guard case .valid(let voucher) = verifier.verify(code, now: Date()) else {
        throw TestFailure("\(code) does not verify")
      }
      // The store's name as the till's too: `X/X`.
      _ = try registry.redeem(
        voucher, store: StoreID(store), terminal: TerminalID(store), now: Date())
    }
    func unneutralised(_ cell: String) -> String {
      cell.hasPrefix("'") && cell.dropFirst().first.map { "=+-@".contains($0) } == true
        ? String(cell.dropFirst()) : cell
    }
    let csv = parseCSV(home.run("report", "--by", "terminal", "--format", "csv").stdout)
    #expect(Set(csv.dropFirst(2).map { unneutralised($0[1]) }) == Set(stores.map { "\($0)/\($0)" }))
    let matrix = parseCSV(
      home.run("report", "--by", "store", "--matrix", "day", "--format", "csv").stdout)
    #expect(Set(matrix.dropFirst().map { unneutralised($0[1]) }) == Set(stores))
    #expect(matrix.dropFirst().allSatisfy { $0.last == "1" })
    for by in ["store", "terminal"] {
      for format in ["svg", "html"] {
        let outcome = home.run("report", "--by", by, "--format", format)
        #expect(outcome.status == 0 && outcome.stderr.isEmpty, "\(by) \(format)")
        if format == "svg" {
          let parser = XMLParser(data: Data(outcome.stdout.utf8))
          #expect(parser.parse(), "\(by): \(parser.parserError.map { "\($0)" } ?? "")")
        } else {
          #expect(!outcome.stdout.lowercased().contains("<script"))
        }
      }
    }
  }

  @Test("--since and --until days are local days with --tz; moments stay moments")
  func localWindow() throws {
    let history = try TurnOfYear()
    defer { history.home.remove() }
    let home = history.home
    // E6, E8, E9 from New Year's Day in UTC; E5 (00:30 on New Year's Day in Amsterdam) joins
    // them locally, and leaves the days up to New Year's Eve.
    let amsterdam = ["--tz", "Europe/Amsterdam"]
    let windows: [([String], [String], Int)] = [
      ([], ["--since", "2026-01-01"], 3), (amsterdam, ["--since", "2026-01-01"], 4),
      ([], ["--until", "2025-12-31"], 3), (amsterdam, ["--until", "2025-12-31"], 2),
    ]
    for (global, window, redeemed) in windows {
      let outcome = home.run(arguments: global + ["report", "--format", "json"] + window)
      #expect(
        try rows.jsonRows(outcome.stdout)["summer/all"]?.redeemed == redeemed, "\(global) \(window)"
      )
    }
    // The window shown is the local midnight, as a UTC moment.
    let shown = home.run(
      "--tz", "Europe/Amsterdam", "report", "--since", "2026-01-01", "--format", "json")
    #expect(shown.stdout.contains(#""since" : "2025-12-31T23:00:00Z""#), "\(shown.stdout)")
    // A moment with its own offset is that moment whatever the zone.
    let moment = try rows.jsonRows(
      home.run(
        "--tz", "Europe/Amsterdam", "report", "--since", "2025-12-31T23:30:00Z", "--format", "json"
      ).stdout)
    #expect(moment["summer/all"]?.redeemed == 4)
    // Export reads its window the same way.
    let exported = home.run(
      "--tz", "Europe/Amsterdam", "export", "--since", "2026-01-01", "--format", "jsonl")
    #expect(exported.status == 0 && exported.stdoutLines.count == 5, "\(exported.stdout)")
  }

  @Test("tills keyed by store and till, the claimed → redeemed rate, in table, CSV and JSON")
  func tillsAndRates() throws {
    let history = try TurnOfYear()
    defer { history.home.remove() }
    let home = history.home
    try check(
      home, ["--by", "terminal"],
      [
        "summer/all": Self.total,
        "summer/S1/T1": .place(2, 0, 1, 1),
        "summer/S1/none": .place(1, 1, 0, 0),
        "summer/S2/T1": .place(1, 0, 0, 0),
        "summer/S2/T2": .place(1, 0, 0, 0),
        "summer/online": .place(1, 0, 0, 0),
      ])
    // The rate: claimed codes later redeemed per claimed code (1 of 2), only where claims are.
    let json = try JSONDecoder().decode(
      JSONValue.self, from: Data(home.run("report", "--format", "json").stdout.utf8))
    guard case .array(let campaigns)? = json["campaigns"],
      case .array(let groups)? = campaigns[0]["groups"]
    else { throw TestFailure("no groups") }
    #expect(campaigns[0]["total"]?["claimedRedeemedRate"] == .number(0.5))
    #expect(groups.map { $0["figures"]?["claimedRedeemedRate"] ?? .null } == [.number(0.5), .null])
    let csv = parseCSV(home.run("report", "--format", "csv").stdout)
    let rate = try #require(csv[0].firstIndex(of: "claimedRedeemedRate"))
    #expect(csv[1][rate] == "0.5000" && csv[3][rate] == "")
    #expect(csv[0].last == "prizesWon" && csv[1].last == "0")
    let table = home.run("report").stdout
    #expect(
      table.split(separator: "\n").contains {
        $0.split(separator: " ").map(String.init) == [
          "all", "15", "2", "6", "1", "33.3%", "13.3%", "16.7%", "1", "(50.0%)",
        ]
      }, "\(table)")
  }

  @Test("--matrix: a store × day, week or month table of net redemptions in CSV")
  func matrix() throws {
    let history = try TurnOfYear()
    defer { history.home.remove() }
    let home = history.home
    let days = home.run("report", "--by", "store", "--matrix", "day", "--format", "csv")
    #expect(days.status == 0, "\(days.stderr)")
    let table = parseCSV(days.stdout)
    // Every day from the first redemption to the last, gaps included.
    var header = ["campaign", "store"]
    var day = ISO8601.parse("2025-12-22")!
    while day <= ISO8601.parse("2026-01-05")! {
      header.append(String(ISO8601.format(day).prefix(10)))
      day = day.addingTimeInterval(86_400)
    }
    header.append("total")
    #expect(table.first == header)
    func cells(_ values: [String: Int]) -> [String] {
      header.dropFirst(2).dropLast().map { String(values[$0] ?? 0) }
    }
    // S1: E2 redeemed and voided on 12-22 (net 0), E5 on 12-31, E6 on 01-02.
    #expect(table.count == 4)
    #expect(table[1] == ["summer", "S1"] + cells(["2025-12-31": 1, "2026-01-02": 1]) + ["2"])
    #expect(table[2] == ["summer", "S2"] + cells(["2025-12-28": 1, "2026-01-05": 1]) + ["2"])
    #expect(table[3] == ["summer", "online"] + cells(["2026-01-04": 1]) + ["1"])
    let weeks = home.run(
      "--tz", "Europe/Amsterdam", "report", "--by", "terminal", "--matrix", "week", "--format",
      "csv")
    #expect(
      parseCSV(weeks.stdout) == [
        ["campaign", "terminal", "2025-W52", "2026-W01", "2026-W02", "total"],
        ["summer", "S1/T1", "0", "2", "0", "2"],
        ["summer", "S1/none", "0", "0", "0", "0"],
        ["summer", "S2/T1", "0", "1", "0", "1"],
        ["summer", "S2/T2", "0", "0", "1", "1"],
        ["summer", "online", "0", "1", "0", "1"],
      ], "\(weeks.stdout)")
    let months = home.run("report", "--matrix", "month", "--format", "csv")
    #expect(
      parseCSV(months.stdout) == [
        ["campaign", "channel", "2025-12", "2026-01", "total"],
        ["summer", "flyer", "2", "2", "4"],
        ["summer", "receipt", "0", "1", "1"],
      ], "\(months.stdout)")
    // Misuse: a clear error, exit 64, nothing written.
    let before = home.snapshot()
    for arguments in [
      ["report", "--matrix", "day"], ["report", "--matrix", "year", "--format", "csv"],
      ["report", "--by", "week", "--matrix", "day", "--format", "csv"],
      [
        "report", "--matrix", "day", "--format", "csv", "--output", home.path + "/m.csv", "--by",
        "day",
      ],
    ] {
      let outcome = home.run(arguments: arguments)
      #expect(outcome.status == 64 && outcome.stderrLines.count == 1, "\(arguments)")
      #expect(outcome.stderr.hasPrefix("error: --matrix"), "\(outcome.stderr)")
    }
    #expect(home.snapshot() == before)
  }

  @Test(
    "the SVG: a white background, 1-2-5 ticks with thousands separators, a bar per store with the rest as other, a funnel per channel with claims, the campaigns compared"
  )
  func charts() throws {
    let shops = try ManyStores()
    defer { shops.home.remove() }
    let home = shops.home
    let svg = home.run("report", "--by", "store", "--format", "svg")
    #expect(svg.status == 0, "\(svg.stderr)")
    let chart = ChartReader()
    let parser = XMLParser(data: Data(svg.stdout.utf8))
    parser.delegate = chart
    #expect(parser.parse())
    // The background is drawn first (after the title) and covers the document.
    let drawn = chart.elements.filter { !["svg", "title"].contains($0.name) }
    #expect(drawn.first?.name == "rect" && drawn.first?["fill"] == "#fff")
    #expect(
      drawn.first?["class"] == "background"
        && drawn.first?["width"] == chart.elements.first?["width"])
    #expect(drawn.first?["height"] == chart.elements.first?["height"])
    // Summer's stores: the eleven busiest, then the four least as one bar (5+20+45+80).
    let summerBars = chart.elements.filter { $0["class"] == "bar" }.prefix(12)
    let expected =
      (5...15).reversed().map { ("S\($0)", String(5 * $0 * $0)) } + [("other (4)", "150")]
    #expect(summerBars.map { $0["data-group"] ?? "" } == expected.map(\.0))
    #expect(summerBars.map { $0["data-value"] ?? "" } == expected.map(\.1))
    // Every tick is 0 or 1, 2 or 5 times a power of ten, written with thousands separators.
    #expect(chart.ticks.contains("1,000"), "\(chart.ticks)")
    for tick in chart.ticks {
      let digits = tick.replacingOccurrences(of: ",", with: "").replacingOccurrences(
        of: "%", with: "")
      let value = try #require(Int(digits), "\(tick)")
      var step = value
      while step >= 10 && step % 10 == 0 { step /= 10 }
      #expect([0, 1, 2, 4, 5, 6, 8].contains(step) || value % 5 == 0, "\(tick)")
      #expect(value < 1000 || tick.contains(","), "\(tick)")
    }
    // A funnel per channel with claims: summer's flyer and winter's email, never receipt.
    #expect(chart.funnelChannels == ["flyer", "email"])
    let stages = chart.elements.filter { $0["class"] == "stage" }.map {
      ($0["data-stage"] ?? "", Int($0["data-value"] ?? "") ?? -1)
    }
    let summerTotal = (1...ManyStores.stores).reduce(0) { $0 + 5 * $1 * $1 }
    let claimedSummer = (summerTotal + 3) / 4
    #expect(
      stages.map(\.0)
        == Array(repeating: ["issued", "claimed online", "claimed, then redeemed"], count: 2)
        .flatMap { $0 })
    #expect(stages.map(\.1) == [summerTotal + 500, claimedSummer, claimedSummer, 900, 150, 100])
    // Claimed then redeemed never exceeds claimed.
    // The campaigns compared: three rates per campaign.
    let rates = chart.elements.filter { $0["class"] == "rate" }
    #expect(
      rates.map { $0["data-campaign"] ?? "" } == [
        "summer", "summer", "summer", "winter", "winter", "winter",
      ])
    // The matrix: both campaigns' rows under one header of weeks.
    let matrix = parseCSV(
      home.run("report", "--by", "store", "--matrix", "week", "--format", "csv").stdout)
    #expect(
      matrix.first == ["campaign", "store"] + (45...49).map { "2025-W\($0)" } + ["total"])
    #expect(matrix.count == 1 + ManyStores.stores + 4 && matrix.allSatisfy { $0.count == 8 })
    // S1's five codes are the history's first five: Monday to Friday of week 45.
    #expect(matrix.dropFirst().first == ["summer", "S1", "5", "0", "0", "0", "0", "5"])
    #expect(
      matrix.suffix(4).map { [$0[0], $0[1], $0[7]] } == (1...4).map { ["winter", "S\($0)", "50"] })
    // One campaign: nothing to compare.
    let one = home.run("report", "--campaign", "winter", "--format", "svg")
    #expect(!one.stdout.contains("class=\"rate\"") && one.stdout.contains("class=\"background\""))
    // By week: a bar per ISO week, in order (W44 holds only the claims of Sunday 2025-11-02).
    let weekly = ChartReader()
    let weekParser = XMLParser(
      data: Data(
        home.run("report", "--campaign", "summer", "--by", "week", "--format", "svg").stdout.utf8))
    weekParser.delegate = weekly
    #expect(weekParser.parse())
    #expect(
      weekly.elements.filter { $0["class"] == "bar" }.map { $0["data-group"] ?? "" } == [
        "2025-W44", "2025-W45", "2025-W46", "2025-W47", "2025-W48", "2025-W49",
      ])
    let weekValues = weekly.elements.filter { $0["class"] == "bar" }.compactMap {
      Int($0["data-value"] ?? "")
    }
    #expect(weekValues.reduce(0, +) == summerTotal)
  }

  @Test("the HTML page: the campaigns compared, tables that scroll, numbers with separators")
  func page() throws {
    let shops = try ManyStores()
    defer { shops.home.remove() }
    let page = shops.home.run("report", "--by", "store", "--format", "html").stdout
    #expect(
      page.contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"))
    #expect(page.contains("<section class=\"comparison\">") && page.contains("overflow-x: auto"))
    #expect(page.components(separatedBy: "<div class=\"scroll\"><table>").count - 1 == 3)
    let summerTotal = (1...ManyStores.stores).reduce(0) { $0 + 5 * $1 * $1 }
    #expect(page.contains("<td>6,700</td>") && summerTotal + 500 == 6_700)
    #expect(page.contains("<td>1,125</td>"))
    let single = shops.home.run("report", "--campaign", "summer", "--format", "html").stdout
    #expect(!single.contains("class=\"comparison\""))
  }

  @Test(
    "screenshots of the HTML report by store and by week, desktop and phone width, with nothing fetched",
    .enabled(if: chromium != nil, "Debian's chromium is not installed (.ci/run installs it)"))
  func screenshots() throws {
    let shops = try ManyStores()
    defer { shops.home.remove() }
    let folder = shops.home.path
    let keep = ProcessInfo.processInfo.environment["VOUCHER_SCREENSHOT_DIR"]
    for by in ["store", "week"] {
      let page = folder + "/report-\(by).html"
      let made = shops.home.run(
        "--tz", "Europe/Amsterdam", "report", "--by", by, "--format", "html", "--output", page)
      #expect(made.status == 0, "\(made.stderr)")
      for (name, size) in [("desktop", "1280,2400"), ("phone", "390,2400")] {
        let rendered = try ReportCLITests().render(page, in: folder, size: size)
        #expect(rendered.screenshot.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        #expect(rendered.pageRequests.isEmpty, "\(rendered.pageRequests)")
        // The PNG's width (bytes 16-19 of IHDR) is the window's: nothing overflows sideways.
        let width = rendered.screenshot[16..<20].reduce(0) { $0 << 8 | Int($1) }
        #expect(width == Int(size.split(separator: ",")[0])!, "\(by) \(name)")
        if let keep {
          try FileManager.default.createDirectory(atPath: keep, withIntermediateDirectories: true)
          try rendered.screenshot.write(
            to: URL(fileURLWithPath: keep + "/report-\(by)-\(name).png"))
        }
      }
    }
  }
}

extension Row {
  /// A day's, week's or month's row: claimed, redeemed, voided, linked and claimed then
  /// redeemed (a period has no issued codes).
  static func period(
    _ claimed: Int, _ redeemed: Int, _ voided: Int, _ linked: Int, _ claimedThenRedeemed: Int
  ) -> Row {
    Row(
      claimed: claimed, redeemed: redeemed, voided: voided, linked: linked,
      claimedThenRedeemed: claimedThenRedeemed)
  }

  /// A store's or till's row: redeemed, voided, linked and claimed then redeemed (no issued
  /// codes, no claims).
  static func place(_ redeemed: Int, _ voided: Int, _ linked: Int, _ claimedThenRedeemed: Int)
    -> Row
  {
    Row(
      redeemed: redeemed, voided: voided, linked: linked, claimedThenRedeemed: claimedThenRedeemed)
  }
}

/// Reads the elements of an SVG document with their attributes.
final class ChartReader: NSObject, XMLParserDelegate {
  struct Element {
    let name: String
    let attributes: [String: String]
    subscript(key: String) -> String? { attributes[key] }
  }
  var elements: [Element] = []
  var ticks: [String] = []
  var funnelChannels: [String] = []
  private var inTick = false
  private var text = ""

  func parser(
    _ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
    qualifiedName: String?, attributes: [String: String] = [:]
  ) {
    elements.append(Element(name: name, attributes: attributes))
    if name == "g", attributes["class"] == "channel-funnel",
      let channel = attributes["data-channel"]
    {
      funnelChannels.append(channel)
    }
    inTick = name == "text" && attributes["class"] == "tick"
    text = ""
  }

  func parser(_ parser: XMLParser, foundCharacters string: String) {
    if inTick { text += string }
  }

  func parser(
    _ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?
  ) {
    if inTick { ticks.append(text) }
    inTick = false
  }
}
