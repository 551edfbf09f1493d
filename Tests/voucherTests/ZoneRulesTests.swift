import Foundation
import Testing
import VoucherKit
import VoucherTestSupport

let tzdataInstalled = FileManager.default.fileExists(atPath: ZoneRules.defaultFolder + "/Europe/Amsterdam")

@Suite("Time zones from the tz database, without ICU")
struct ZoneRulesTests {
  @Test(
    "every zone Python's zoneinfo knows: the same offset at instants from 1900 to 2100",
    .enabled(if: tzdataInstalled && pythonHas("zoneinfo"), "Debian's tzdata or Python's zoneinfo is missing"))
  func againstPython() throws {
    let list = runBinary(
      ["python3", "-c", "import zoneinfo; print('\\n'.join(sorted(zoneinfo.available_timezones())))"],
      executable: "/usr/bin/env")
    try #require(list.status == 0)
    let zones = list.stdoutLines.filter { !$0.hasPrefix("build/") }
    try #require(zones.count > 300)
    var generator = SeededGenerator(seed: 18004)
    var queries = ""
    var expected: [(zone: String, instant: Int64, offset: Int)] = []
    for zone in zones {
      let rules = try ZoneRules.named(zone)
      // Random instants, and instants an hour either side of each year's switches near now.
      var instants = (0..<60).map { _ in Int64.random(in: -2_208_988_800...4_102_444_800, using: &generator) }
      for year in [2026, 2031, 2045] {
        let start = Int64(ISO8601.parse("\(year)-01-01")!.timeIntervalSince1970)
        instants += stride(from: start, to: start + 366 * 86_400, by: 86_400 * 7 + 3_601).map { $0 }
      }
      for instant in instants {
        queries += "\(zone) \(instant)\n"
        expected.append((zone, instant, rules.offset(at: instant)))
      }
    }
    let script = """
      import sys, datetime, zoneinfo
      for line in sys.stdin:
          zone, instant = line.split()
          moment = datetime.datetime.fromtimestamp(int(instant), zoneinfo.ZoneInfo(zone))
          print(int(moment.utcoffset().total_seconds()))
      """
    let answers = runBinary(["python3", "-c", script], stdin: Data(queries.utf8), executable: "/usr/bin/env")
    try #require(answers.status == 0, "\(answers.stderr)")
    let offsets = answers.stdoutLines.map { Int($0)! }
    try #require(offsets.count == expected.count)
    var mismatches = 0
    for (query, offset) in zip(expected, offsets) where query.offset != offset {
      mismatches += 1
      if mismatches <= 10 {
        Issue.record("\(query.zone) at \(query.instant): ours \(query.offset), Python's \(offset)")
      }
    }
    #expect(mismatches == 0, "\(mismatches) of \(expected.count) offsets differ")
  }

  @Test("names are tz database names: nothing that leaves the folder, no other characters")
  func hostileNames() throws {
    for name in ["", "/etc/passwd", "../../etc/passwd", "Europe/../../../etc/passwd", "Europe//Amsterdam",
      ".hidden", "Europe/Amsterdam\n", "Europe/Amsterdam\0", String(repeating: "A", count: 200)]
    {
      #expect(throws: ZoneRules.LoadError.invalidName) { try ZoneRules.named(name) }
    }
    for name in try TestData.naughtyStrings() {
      do {
        _ = try ZoneRules.named(name)
      } catch {
        #expect(error == .invalidName || error == .unknown(name), "\(name)")
      }
    }
    #expect(throws: ZoneRules.LoadError.unknown("Mars/Olympus")) { try ZoneRules.named("Mars/Olympus") }
    #expect(try ZoneRules.named("UTC").isUTC)
  }

  @Test("POSIX rules: southern hemisphere, negative daylight saving, all-year daylight time")
  func posixRules() throws {
    // A TZif file with no transitions and only a footer: the rule decides every instant.
    func zone(_ footer: String) throws -> ZoneRules {
      var file = Array("TZif2".utf8) + [UInt8](repeating: 0, count: 15)
      file += [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 4]
      file += [0, 0, 0, 0, 0, 0] + Array("UTC\0".utf8)
      file += file
      file += [0x0A] + Array(footer.utf8) + [0x0A]
      let folder = FileManager.default.temporaryDirectory.appendingPathComponent("voucher-tz-\(UUID().uuidString)")
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      defer { try? FileManager.default.removeItem(at: folder) }
      try Data(file).write(to: folder.appendingPathComponent("Test"))
      return try ZoneRules.named("Test", in: folder.path)
    }
    func at(_ text: String) -> Int64 { Int64(ISO8601.parse(text)!.timeIntervalSince1970) }
    let sydney = try zone("AEST-10AEDT,M10.1.0,M4.1.0/3")
    #expect(sydney.offset(at: at("2027-01-15T00:00Z")) == 39_600)
    #expect(sydney.offset(at: at("2027-07-15T00:00Z")) == 36_000)
    // 2027-04-04 03:00 daylight = 16:00Z the day before: the switch back.
    #expect(sydney.offset(at: at("2027-04-03T15:59:59Z")) == 39_600)
    #expect(sydney.offset(at: at("2027-04-03T16:00:00Z")) == 36_000)
    let dublin = try zone("IST-1GMT0,M10.5.0,M3.5.0/1")
    #expect(dublin.offset(at: at("2027-01-15T12:00Z")) == 0)
    #expect(dublin.offset(at: at("2027-07-15T12:00Z")) == 3600)
    let always = try zone("EST5EDT,0/0,J365/25")
    for day in ["2027-01-01T05:00Z", "2027-06-01T00:00Z", "2027-12-31T23:59Z", "2028-02-29T12:00Z"] {
      #expect(always.offset(at: at(day)) == -14_400, "\(day)")
    }
    #expect(try zone("<+0330>-3:30").offset(at: 0) == 12_600)
    #expect(try zone("<+0330>-3:30").format(Date(timeIntervalSince1970: 0)) == "1970-01-01T03:30:00+03:30")
    #expect(try zone("<-0230>2:30").format(Date(timeIntervalSince1970: 0)) == "1969-12-31T21:30:00-02:30")
    #expect(try zone("<-0230>2:30").day(of: 0) == -1)
    #expect(ZoneRules.utc.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00Z")
    #expect(throws: ZoneRules.LoadError.malformed("Test")) { try zone("CET-1CEST,M13.5.0,M10.5.0/3") }
  }
}

@Suite("--tz and VOUCHER_TZ: local times for cashiers and history")
struct TimeZoneCLITests {
  @Test(
    "times in answers, history and serve carry the zone's offset; bad zones are usage errors that change nothing",
    .enabled(if: tzdataInstalled, "Debian's tzdata is missing"))
  func localTimes() throws {
    let home = try Home()
    defer { home.remove() }
    let codes = home.run("issue", "--campaign", "summer", "--channel", "flyer", "--count", "2").stdoutLines
    try #require(codes.count == 2)
    let redeemed = home.run("--tz", "Asia/Kolkata", "redeem", codes[0], "--store", "S1", "--format", "json")
    try #require(redeemed.status == 0, "\(redeemed.stderr)")
    let time = try #require(
      (try JSONSerialization.jsonObject(with: Data(redeemed.stdout.utf8)) as? [String: Any])?["time"] as? String)
    #expect(time.hasSuffix("+05:30"))
    // The same instant, shown in UTC and in New York (5 or 4 hours behind).
    let utc = try #require(ISO8601.parse(home.run("history", codes[0], "--format", "json").stdout
      .components(separatedBy: "\"time\" : \"")[1].prefix(20).description))
    let kolkata = try #require(ISO8601.parse(time))
    #expect(utc == kolkata)
    let york = home.run("verify", codes[0], environment: ["VOUCHER_TZ": "America/New_York"])
    let offset = try ZoneRules.named("America/New_York").offset(at: utc)
    #expect(york.status == 1 && york.stdout.contains("already used \(ZoneRules.utc.format(utc.addingTimeInterval(Double(offset))).dropLast())-0"))
    let history = home.run("--tz=Europe/Amsterdam", "history", codes[0])
    #expect(history.stdout.contains(try ZoneRules.named("Europe/Amsterdam").format(utc)))
    let served = home.run(
      arguments: ["--tz", "Australia/Adelaide", "serve", "--stdio"],
      stdin: Data(#"{"id":1,"op":"history","code":"\#(codes[0])"}"#.utf8 + [0x0A]))
    #expect(served.stdout.contains(try ZoneRules.named("Australia/Adelaide").format(utc)))
    let before = home.snapshot()
    for (arguments, environment) in [
      (["--tz", "../../etc/passwd", "redeem", codes[1], "--store", "S1"], [:]),
      (["--tz", "Mars/Base", "redeem", codes[1], "--store", "S1"], [:]),
      (["--tz"], [:]),
      (["redeem", codes[1], "--store", "S1"], ["VOUCHER_TZ": "Europe/Amsterdam\u{1B}[2J"]),
    ] as [([String], [String: String])] {
      let refused = runBinary(["--home", home.path] + arguments, environment: environment)
      #expect(refused.status == 64 && refused.stderrLines.count == 1 && refused.stderr.hasPrefix("error: "), "\(arguments): \(refused.stderr)")
      #expect(!refused.stderr.contains("\u{1B}"))
    }
    #expect(home.snapshot() == before)
  }
}
