import Foundation
import Synchronization
import Testing
import VoucherKit
import VoucherTestSupport

/// A home with a campaign `scratch` (channel `card`, 1,000 serials) whose serials 1 to 300 hold
/// prizes, and its codes by serial.
struct PrizeHome {
  let home: Home
  let codes: [Int: String]
  let commitment: String

  /// The environment every command of the home runs with (`VOUCHER_REGISTRY` for a PostgreSQL
  /// registry); empty for the file registry.
  let environment: [String: String]

  /// Runs `voucher --home HOME arguments...` in the home's environment.
  func run(_ arguments: [String], stdin: Data? = nil) -> Outcome {
    runBinary(
      ["--home", home.path] + arguments, stdin: stdin, environment: environment,
      directory: home.path)
  }

  init(gift: Int = 3, coffee: Int = 10, registry: String? = nil) throws {
    let home = try Home()
    let environment = registry.map { ["VOUCHER_REGISTRY": $0] } ?? [:]
    self.home = home
    self.environment = environment
    func run(_ arguments: [String]) -> Outcome {
      runBinary(
        ["--home", home.path] + arguments, environment: environment, directory: home.path)
    }
    if registry != nil { try #require(run(["registry", "init"]).status == 0) }
    try #require(
      run([
        "campaign", "add", "scratch", "--channels", "card", "--capacity", "1000", "--title",
        "Scratch card",
      ]).status == 0)
    let added = run([
      "prizes", "add", "--campaign", "scratch", "--channel", "card", "--serials", "1-300",
      "--tier", "gift:\(gift)", "--tier=coffee:\(coffee)", "--format", "json",
    ])
    try #require(added.status == 0, "\(added.stderr)")
    commitment = try #require(decode(added.stdout)?["commitment"]?.string)
    let issued = run([
      "issue", "--campaign", "scratch", "--channel", "card", "--count", "300", "--format", "csv",
      "--columns", "serial,code",
    ])
    try #require(issued.status == 0)
    var codes: [Int: String] = [:]
    for line in issued.stdout.split(separator: "\r\n").dropFirst() {
      let fields = line.replacingOccurrences(of: "\"", with: "").split(separator: ",")
      codes[Int(fields[0])!] = String(fields[1])
    }
    self.codes = codes
  }

  /// The winners, read as the registration server reads them (the test may see the seed).
  func winners() throws -> [Int: String] {
    let book = PrizeBook(home: VoucherHome(home.path), campaign: CampaignID("scratch")!)
    return try book.winners(of: try #require(try book.allocations().first)).mapValues(\.rawValue)
  }
}

@Suite("voucher prizes and claims with prizes")
struct PrizesCLITests {
  @Test(
    "claims through the CLI and serve answer the prize or null, once; a retry answers the same prize; show counts it"
  )
  func claims() throws {
    let prizes = try PrizeHome()
    let home = prizes.home
    defer { home.remove() }
    let winners = try prizes.winners()
    #expect(winners.values.filter { $0 == "gift" }.count == 3 && winners.count == 13)
    let winner = winners.keys.sorted()[0]
    let loser = try #require((1...300).first { winners[$0] == nil })
    let won = home.run("claim", prizes.codes[winner]!, "--profile", "crm:ada", "--format", "json")
    #expect(won.status == 0 && decode(won.stdout)?["prize"]?.string == winners[winner])
    let lost = home.run("claim", prizes.codes[loser]!, "--profile", "crm:ada", "--format", "json")
    #expect(lost.status == 0 && decode(lost.stdout)?["prize"] == .null)
    let text = home.run("claim", prizes.codes[winner]!, "--profile", "crm:ada")
    #expect(text.status == 0 && text.stdout.hasSuffix("; prize won: \(winners[winner]!)\n"))
    let other = home.run("claim", prizes.codes[winner]!, "--profile", "crm:bob", "--format", "json")
    #expect(other.status == 1 && decode(other.stdout)?["prize"] == nil)
    #expect(
      home.run("claim", prizes.codes[loser]!, "--profile", "crm:ada").stdout.hasSuffix(
        "; no prize\n"))
    // serve: the same answer for a retry, and a new winner.
    let second = winners.keys.sorted()[1]
    let lines = [winner, second, second].map {
      "{\"op\":\"claim\",\"code\":\"\(prizes.codes[$0]!)\",\"profile\":\"crm:ada\"}\n"
    }
    let served = home.run("serve", "--stdio", stdin: Data(lines.joined().utf8))
    let answers = served.stdoutLines.compactMap(decode)
    #expect(
      answers.map { $0["prize"]?.string } == [winners[winner], winners[second], winners[second]])
    #expect(answers.map { $0["replayed"] } == [.bool(true), .bool(false), .bool(true)])
    let show = home.run("prizes", "show", "--campaign", "scratch", "--format", "json")
    let tiers = decode(show.stdout)?.arrayValue?.first?["tiers"]?.arrayValue ?? []
    let won2 = [winners[winner]!, winners[second]!]
    for tier in tiers {
      let name = tier["name"]?.string ?? ""
      let count = Double(won2.filter { $0 == name }.count)
      #expect(tier["won"] == .number(count))
      #expect(tier["unclaimed"] == .number((name == "gift" ? 3 : 10) - count))
    }
    let export = home.run("prizes", "winners", "--campaign", "scratch", "--format", "jsonl")
    #expect(export.stdoutLines.count == 2)
    #expect(export.stdoutLines.allSatisfy { decode($0)?["profile"]?.string == "crm:ada" })
    let events = home.run("export", "--format", "jsonl").stdoutLines.compactMap(decode)
    #expect(events.compactMap { $0["prize"]?.string }.sorted() == won2.sorted())
    let report = home.run("report", "--campaign", "scratch", "--format", "json")
    #expect(report.stdout.contains(#""prizesWon" : 2"#), "\(report.stdout)")
    let csv = home.run("report", "--campaign", "scratch", "--format", "csv").stdout
    #expect(csv.hasPrefix("\"campaign\"") && csv.contains(",2\r\n"), "\(csv)")
  }

  @Test("a running serve reads an allocation added after its start at the next claim")
  func serveSeesNewAllocation() throws {
    let prizes = try PrizeHome()
    let home = prizes.home
    defer { home.remove() }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: voucherBinary)
    process.arguments = ["--home", home.path, "serve", "--stdio"]
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    defer { if process.isRunning { process.terminate() } }
    var buffered = Data()
    func claim(_ code: String) throws -> JSONValue? {
      input.fileHandleForWriting.write(
        Data("{\"op\":\"claim\",\"code\":\"\(code)\",\"profile\":\"crm:9\"}\n".utf8))
      while !buffered.contains(0x0A) {
        let chunk = output.fileHandleForReading.availableData
        if chunk.isEmpty { throw TestFailure("serve ended") }
        buffered += chunk
      }
      let end = buffered.firstIndex(of: 0x0A)!
      let line = String(decoding: buffered[..<end], as: UTF8.self)
      buffered = Data(buffered[(end + 1)...])
      return decode(line)
    }
    let issued = home.run(
      "issue", "--campaign", "scratch", "--channel", "card", "--count", "100", "--first", "301",
      "--format", "csv", "--columns", "serial,code")
    let codes = issued.stdout.split(separator: "\r\n").dropFirst().map {
      String($0.replacingOccurrences(of: "\"", with: "").split(separator: ",")[1])
    }
    #expect(try claim(codes[0])?["prize"] == .null)
    let added = home.run(
      "prizes", "add", "--campaign", "scratch", "--channel", "card", "--serials", "302-400",
      "--tier", "all:99")
    #expect(added.status == 0, "\(added.stderr)")
    #expect(try claim(codes[1])?["prize"]?.string == "all")
    input.fileHandleForWriting.closeFile()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
  }

  @Test(
    "the HTTP front's claim answers the prize, the same on a retry; its verify and history do not",
    .enabled(if: curlPath != nil, "curl is not installed"))
  func http() throws {
    let prizes = try PrizeHome()
    let home = prizes.home
    defer { home.remove() }
    let winners = try prizes.winners()
    let winner = winners.keys.sorted()[0]
    let loser = try #require((1...300).first { winners[$0] == nil })
    let web = try addToken(home, "web", "web")
    let till = try addToken(home, "till", "till", store: "S1")
    let server = try RunningHTTPServer(home)
    defer { _ = server.stop() }
    for _ in 1...2 {
      let won = try call(
        server, "POST", "/v1/codes/\(prizes.codes[winner]!)/claim", token: web,
        body: #"{"profile":"crm:7"}"#)
      #expect(
        won.json?["status"]?.string == "claimed" && won.json?["prize"]?.string == winners[winner])
    }
    let lost = try call(
      server, "POST", "/v1/codes/\(prizes.codes[loser]!)/claim", token: web,
      body: #"{"profile":"crm:7"}"#)
    #expect(lost.json?["status"]?.string == "claimed" && lost.json?["prize"] == .null)
    for serial in [winner, loser] {
      for path in [
        "/v1/codes/\(prizes.codes[serial]!)", "/v1/codes/\(prizes.codes[serial]!)/history",
      ] {
        let answer = try call(server, "GET", path, token: till)
        #expect(answer.status == 200 && !answer.body.contains("prize"), "\(path) \(answer.body)")
      }
    }
  }

  /// An answer with what differs between two codes by nature taken out: the code, the serial,
  /// and times.
  func normalized(_ text: String, code: String, serial: Int) -> String {
    text.replacingOccurrences(of: code, with: "CODE")
      .replacingOccurrences(of: "serial \(serial)", with: "serial N")
      .replacingOccurrences(
        of: #""serial" ?: ?\#(serial)\b"#, with: "\"serial\":N", options: .regularExpression
      )
      .replacingOccurrences(
        of: #"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"#, with: "TIME", options: .regularExpression)
  }

  @Test(
    "verify, redeem and history answer a winner exactly as another code, in text and JSON, before and after claims"
  )
  func noReveal() throws {
    let prizes = try PrizeHome()
    let home = prizes.home
    defer { home.remove() }
    let winners = try prizes.winners()
    let pairs = [
      (winners.keys.sorted()[0], (1...300).first { winners[$0] == nil }!),
      (winners.keys.sorted()[1], (1...300).last { winners[$0] == nil }!),
    ]
    // The second pair is claimed first (a registered card at the till).
    for serial in [pairs[1].0, pairs[1].1] {
      #expect(home.run("claim", prizes.codes[serial]!, "--profile", "crm:p\(serial)").status == 0)
    }
    for (winner, loser) in pairs {
      func answers(_ serial: Int) -> [String] {
        let code = prizes.codes[serial]!
        var all: [String] = []
        for arguments in [
          ["verify", code], ["verify", "--format", "json", code],
          ["verify", "--at", "store", "--format", "json", code],
          ["history", code], ["history", "--format", "json", code],
          ["redeem", code, "--store", "S1", "--format", "json"],
          ["redeem", code, "--store", "S1"],
          ["verify", "--format", "json", code], ["history", "--format", "json", code],
        ] {
          let outcome = home.run(arguments: arguments)
          all.append(
            "\(outcome.status) "
              + normalized(outcome.stdout + outcome.stderr, code: code, serial: serial)
              .replacingOccurrences(of: "crm:p\(serial)", with: "PROFILE"))
        }
        return all
      }
      let a = answers(winner)
      let b = answers(loser)
      #expect(a == b)
      #expect(
        !a.joined().contains("prize") && !a.joined().contains("gift")
          && !a.joined().contains("coffee"))
    }
    // The print file says nothing either: the same columns and sizes for every row.
    let file = home.run(
      "issue", "--campaign", "scratch", "--channel", "card", "--count", "300", "--first", "1",
      "--format", "json")
    #expect(!file.stdout.contains("prize") && !file.stdout.contains("gift"))
  }

  @Test(
    "reveal is refused until the campaign ends; then an independent Python script recomputes the winners and the commitment",
    .enabled(if: python3Path != nil, "python3 is not installed (.ci/run installs it)"))
  func reveal() throws {
    let prizes = try PrizeHome()
    let home = prizes.home
    defer { home.remove() }
    let winners = try prizes.winners()
    for serial in winners.keys.sorted().prefix(4) {
      #expect(home.run("claim", prizes.codes[serial]!, "--profile", "crm:w\(serial)").status == 0)
    }
    let before = home.snapshot()
    let early = home.run("prizes", "reveal", "--campaign", "scratch")
    #expect(early.status == 1 && early.stdout.isEmpty && early.stderrLines.count == 1)
    #expect(early.stderr.hasPrefix("error: campaign 'scratch' has no end date"))
    #expect(home.snapshot() == before)
    #expect(home.run("campaign", "end", "scratch", "--ends", "2030-01-31").status == 0)
    #expect(home.run("prizes", "reveal", "--campaign", "scratch").status == 1)
    #expect(home.run("campaign", "end", "scratch", "--ends", "2020-01-31").status == 0)
    let revealed = home.run("prizes", "reveal", "--campaign", "scratch", "--format", "json")
    #expect(revealed.status == 0, "\(revealed.stderr)")
    let file = home.path + "/reveal.json"
    try revealed.stdout.write(toFile: file, atomically: true, encoding: .utf8)
    let script = prizesCheckScript
    let checked = runBinary([script, "reveal", file], executable: python3Path!)
    #expect(checked.status == 0, "\(checked.stderr)")
    let answer = try #require(decode(checked.stdout))
    #expect(answer["commitments_ok"] == .bool(true))
    let recomputed = answer["runs"]?.arrayValue?.first?["winners"]?.arrayValue ?? []
    var pairs: [Int: String] = [:]
    for pair in recomputed {
      if case .number(let serial) = pair.arrayValue?[0], let prize = pair.arrayValue?[1].string {
        pairs[Int(serial)] = prize
      }
    }
    #expect(pairs == winners)
    #expect(decode(revealed.stdout)?.arrayValue?.first?["commitment"]?.string == prizes.commitment)
    // The prizes the claims won are among the revealed winners.
    let won = home.run("prizes", "winners", "--campaign", "scratch", "--format", "jsonl")
    #expect(won.stdoutLines.count == 4)
    for line in won.stdoutLines {
      let row = try #require(decode(line))
      guard case .number(let serial) = row["serial"] else { throw TestFailure("no serial") }
      #expect(winners[Int(serial)] == row["prize"]?.string)
    }
    // A tampered seed no longer matches the commitment.
    let tampered = revealed.stdout.replacingOccurrences(
      of: #""seed" : "0"#, with: #""seed" : "1"#)
    let other =
      tampered == revealed.stdout
      ? revealed.stdout.replacingOccurrences(of: #""seed" : ""#, with: #""seed" : "0"#)
        .replacingOccurrences(of: #""seed" : "00"#, with: #""seed" : "1"#) : tampered
    try other.write(toFile: file, atomically: true, encoding: .utf8)
    let bad = runBinary([script, "reveal", file], executable: python3Path!)
    #expect(decode(bad.stdout)?["commitments_ok"] == .bool(false) || bad.status != 0)
  }

  @Test(
    "bad prize allocations and hostile strings: one error line, a documented status, nothing written"
  )
  func badInput() throws {
    let prizes = try PrizeHome()
    let home = prizes.home
    defer { home.remove() }
    let before = home.snapshot()
    func refused(_ status: Int32, _ arguments: [String]) {
      let outcome = home.run(arguments: ["prizes", "add"] + arguments)
      #expect(outcome.status == status, "\(arguments) \(outcome.stderr)")
      #expect(
        outcome.stderrLines.count == 1 && outcome.stderr.hasPrefix("error: "), "\(outcome.stderr)")
      #expect(outcome.stdout.isEmpty)
      #expect(!outcome.stderr.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
    }
    let base = ["--campaign", "scratch", "--channel", "card"]
    refused(73, base + ["--serials", "300-400", "--tier", "gift:1"])
    refused(64, base + ["--serials", "301-305", "--tier", "gift:5", "--tier", "coffee:1"])
    refused(64, base + ["--serials", "901-1001", "--tier", "gift:1"])
    refused(64, base + ["--serials", "301-400", "--tier", "gift:1", "--tier", "gift:2"])
    refused(64, base + ["--serials", "301-400", "--tier", "gift:0"])
    refused(64, base + ["--serials", "301-400"])
    refused(66, ["--campaign", "nope", "--channel", "card", "--serials", "1-2", "--tier", "a:1"])
    refused(
      66, ["--campaign", "scratch", "--channel", "nope", "--serials", "1-2", "--tier", "a:1"])
    let naughty = try TestData.naughtyStrings().filter { !$0.contains("\0") }
    for text in naughty {
      // A hostile string that happens to be a valid value (a tier name such as "null") is
      // left out: it would be accepted, as it should.
      var cases: [[String]] = [base + ["--serials", "301-400", "--tier=\(text)"]]
      if PrizeName(text) == nil {
        cases.append(base + ["--serials", "301-400", "--tier=\(text):3"])
      }
      if text.range(of: #"^\d+(-\d+)?$"#, options: .regularExpression) == nil {
        cases.append(base + ["--serials=\(text)", "--tier", "gift:1"])
      }
      cases.append(
        ["--campaign", "scratch", "--channel=\(text)", "--serials", "301-400", "--tier", "gift:1"])
      for arguments in cases {
        let outcome = home.run(arguments: ["prizes", "add"] + arguments)
        #expect([64, 66].contains(outcome.status), "\(text.debugDescription) \(outcome.stderr)")
        #expect(outcome.stderrLines.count == 1, "\(text.debugDescription) \(outcome.stderr)")
        #expect(
          !outcome.stderr.dropLast().unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
        )
      }
    }
    #expect(home.snapshot() == before)
    // A run with a claimed code: its prize could never be awarded.
    let late = home.run(
      "issue", "--campaign", "scratch", "--channel", "card", "--count", "1", "--first", "350")
    #expect(home.run("claim", late.stdoutLines[0], "--profile", "crm:early").status == 0)
    let snapshot = home.snapshot()
    refused(73, base + ["--serials", "301-400", "--tier", "gift:1"])
    #expect(home.snapshot() == snapshot)
    // A seed file others can read stops claims and show alike, like a key file (78).
    let seed = home.path + "/Prizes/scratch/card.1-300.seed"
    chmod(seed, 0o644)
    let claim = home.run("claim", prizes.codes[1]!, "--profile", "crm:x")
    #expect(claim.status == 78 && claim.stderrLines.count == 1)
  }

  @Test("16 processes race claims for the prize codes: each prize is awarded exactly once")
  func race() throws {
    let prizes = try PrizeHome(gift: 5, coffee: 20)
    defer { prizes.home.remove() }
    try Self.race(prizes)
  }

  /// 16 `serve` processes claim every code of the run, each for its own profile in its own order.
  static func race(_ prizes: PrizeHome) throws {
    let winners = try prizes.winners()
    // Every code of the run, and each process claims them all for its own profile.
    let serials = Array(1...300)
    let awards = Mutex([Int: [String]]())
    let claims = Mutex([Int: Int]())
    let failures = Mutex([String]())
    DispatchQueue.concurrentPerform(iterations: 16) { worker in
      var random = SeededGenerator(seed: UInt64(worker + 1))
      let lines = serials.shuffled(using: &random).map {
        "{\"op\":\"claim\",\"code\":\"\(prizes.codes[$0]!)\",\"profile\":\"crm:w\(worker)\"}\n"
      }
      let outcome = prizes.run(["serve", "--stdio"], stdin: Data(lines.joined().utf8))
      for answer in outcome.stdoutLines.compactMap(decode) {
        guard case .number(let serial) = answer["serial"] else { continue }
        switch answer["status"]?.string {
        case "claimed":
          claims.withLock { $0[Int(serial), default: 0] += 1 }
          if let prize = answer["prize"]?.string {
            awards.withLock { $0[Int(serial), default: []].append(prize) }
          }
        case "claimed-by-other":
          if answer["prize"] != nil { failures.withLock { $0.append("prize on claimed-by-other") } }
        default:
          failures.withLock { $0.append(answer["status"]?.string ?? "?") }
        }
      }
      if outcome.stdoutLines.count != serials.count {
        failures.withLock { $0.append("\(outcome.stdoutLines.count) answers: \(outcome.stderr)") }
      }
    }
    #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0.prefix(3) })")
    #expect(claims.withLock { $0 } == Dictionary(uniqueKeysWithValues: serials.map { ($0, 1) }))
    #expect(awards.withLock { $0 } == winners.mapValues { [$0] })
    let show = prizes.run(["prizes", "show", "--campaign", "scratch"])
    #expect(show.stdout.contains("gift    5          5    0"), "\(show.stdout)")
    let export = prizes.run(["prizes", "winners", "--campaign", "scratch", "--format", "jsonl"])
    #expect(export.stdoutLines.count == 25)
    #expect(prizes.run(["registry", "check"]).status == 0)
  }
}

/// The independent Python check of prizes and draws, `Tests/Scripts/prizes_check.py`.
let prizesCheckScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent().appendingPathComponent("Scripts/prizes_check.py").path

extension JSONValue {
  /// The elements of an array value.
  var arrayValue: [JSONValue]? {
    if case .array(let elements) = self { return elements }
    return nil
  }

  /// The whole numbers of an array value.
  var integers: [Int] {
    (arrayValue ?? []).compactMap {
      if case .number(let n) = $0 { return Int(n) } else { return nil }
    }
  }
}
