import Foundation
import Testing
import VoucherTestSupport

#if canImport(Glibc)
  import Glibc
#endif

@Suite("voucher registry commands, end to end")
struct RegistryCLITests {
  /// Codes of a fresh campaign.
  func issue(_ home: Home, campaign: String = "summer", channel: String = "flyer", count: Int)
    -> [String]
  {
    home.run("issue", "--campaign", campaign, "--channel", channel, "--count", "\(count)")
      .stdoutLines
  }

  @Test("redeem, used-up, void, claim, block, history: answers and exit statuses")
  func answers() throws {
    let home = try Home()
    defer { home.remove() }
    let codes = issue(home, count: 5)
    let first = home.run(
      "redeem", codes[0], "--store", "S12", "--terminal", "T3", "--request", "r-1", "--format",
      "json")
    #expect(first.status == 0)
    let receipt = try JSONDecoder().decode(JSONValue.self, from: Data(first.stdout.utf8))
    #expect(
      receipt["status"]?.string == "redeemed" && receipt["store"]?.string == "S12"
        && receipt["usesLeft"] == .number(0))
    let again = home.run("redeem", codes[0], "--store", "S99")
    #expect(
      again.status == 1 && again.stdout.contains("  used-up  ")
        && again.stdout.contains("in store S12 (terminal T3)"))
    let retry = home.run(
      "redeem", codes[0], "--store", "S12", "--request", "r-1", "--format", "json")
    let replayed = try JSONDecoder().decode(JSONValue.self, from: Data(retry.stdout.utf8))
    #expect(
      retry.status == 0 && replayed["replayed"] == .bool(true)
        && replayed["time"] == receipt["time"])
    #expect(home.run("verify", codes[0]).stdout.contains("  used-up  "))
    #expect(
      home.run("verify", codes[1]).stdout.contains("  valid  ")
        && home.run("verify", codes[1]).stdout.contains("1 use left"))
    #expect(home.run("void", codes[1]).status == 1)
    #expect(home.run("void", codes[0], "--reason", "customer returned the cake").status == 0)
    #expect(home.run("redeem", codes[0], "--online").status == 0)
    #expect(home.run("claim", codes[2], "--profile", "crm:4711").status == 0)
    let other = home.run("claim", codes[2], "--profile", "crm:4712")
    #expect(other.status == 1 && other.stdout.contains("claimed-by-other"))
    let inherited = home.run("redeem", codes[2], "--store", "S1", "--format", "json")
    #expect(
      try JSONDecoder().decode(JSONValue.self, from: Data(inherited.stdout.utf8))["profile"]?.string
        == "crm:4711")
    #expect(
      home.run(
        "block", "--campaign", "summer", "--channel", "flyer", "--serials", "4-5", "--reason",
        "box lost"
      ).status == 0)
    let blocked = home.run("redeem", codes[3], "--store", "S1")
    #expect(
      blocked.status == 1 && blocked.stdout.contains("  blocked  ")
        && blocked.stdout.contains("box lost"))
    #expect(
      home.run("unblock", "--campaign", "summer", "--channel", "flyer", "--serials", "4").status
        == 0)
    #expect(home.run("redeem", codes[3], "--store", "S1").status == 0)
    let history = home.run("history", codes[0], "--format", "json")
    let events = try JSONDecoder().decode([JSONValue].self, from: Data(history.stdout.utf8)).map {
      $0["event"]?.string
    }
    #expect(events == ["redeemed", "voided", "redeemed"])
    let check = home.run("registry", "check")
    #expect(check.status == 0 && check.stdout.hasPrefix("registry ok"))
  }

  @Test(
    "venue rules, profile rules and bad fields: clear errors, documented statuses, no file changed")
  func rules() throws {
    let home = try Home()
    defer { home.remove() }
    #expect(
      home.run(
        "campaign", "add", "shop", "--channels", "flyer", "--redeem-at", "store", "--capacity", "10"
      ).status == 0)
    let code = issue(home, campaign: "shop", count: 1)[0]
    let online = home.run("redeem", code, "--online")
    #expect(online.status == 1 && online.stdout.contains("wrong-venue"))
    _ = home.run("redeem", issue(home, count: 1)[0], "--store", "S1")
    let cases: [([String], Int32)] = [
      (["redeem", code], 64),
      (["redeem", code, "--store", "S1", "--online"], 64),
      (["redeem", code, "--store", "S 1"], 64),
      (["redeem", code, "--store", "S1", "--profile", "jane@example.com"], 64),
      (["redeem", code, "--store", "S1", "--profile", "+49 151 1234567"], 64),
      (["redeem", code, "--store", "S1", "--terminal", String(repeating: "t", count: 65)], 64),
      (["redeem", "-", "--store", "S1", "--request", "r1"], 64),
      (["void", code, "--reason", "line\nbreak"], 64),
      (["claim", code], 64),
      (["block", "--campaign", "shop", "--channel", "flyer", "--serials", "5-2"], 64),
      (["block", "--campaign", "shop", "--channel", "flyer", "--serials", "1-11"], 65),
      (["block", "--campaign", "nope", "--channel", "flyer", "--serials", "1-2"], 66),
      (["registry", "frobnicate"], 64),
    ]
    for (arguments, status) in cases {
      let before = home.snapshot()
      let outcome = home.run(arguments: arguments)
      #expect(outcome.status == status, "\(arguments): \(outcome.stderr)")
      #expect(
        outcome.stderrLines.count == 1 && outcome.stderr.hasPrefix("error: "),
        "\(arguments): \(outcome.stderr)")
      #expect(home.snapshot() == before, "\(arguments) changed a file")
    }
    let email = home.run("redeem", code, "--store", "S1", "--profile", "jane@example.com")
    #expect(email.stderr.contains("e-mail"))
  }

  @Test(
    "16 processes redeem the same 1,000 codes in random orders: exactly 1,000 redeemed, the rest used-up"
  )
  func race() throws {
    let home = try Home()
    defer { home.remove() }
    let codes = issue(home, count: 1_000)
    #expect(codes.count == 1_000)
    let processes = (0..<16).map { worker -> (Process, URL) in
      var random = SeededGenerator(seed: UInt64(worker + 1))
      let input = Data((codes.shuffled(using: &random).joined(separator: "\n") + "\n").utf8)
      let output = FileManager.default.temporaryDirectory.appendingPathComponent(
        "race-\(UUID().uuidString)")
      let process = Process()
      process.executableURL = URL(fileURLWithPath: voucherBinary)
      process.arguments = ["--home", home.path, "redeem", "-", "--store", "S\(worker)"]
      let stdin = Pipe()
      process.standardInput = stdin
      _ = FileManager.default.createFile(atPath: output.path, contents: nil)
      process.standardOutput = try! FileHandle(forWritingTo: output)
      process.standardError = FileHandle.nullDevice
      try! process.run()
      stdin.fileHandleForWriting.write(input)
      try? stdin.fileHandleForWriting.close()
      return (process, output)
    }
    var redeemed: [String: Int] = [:]
    var usedUp = 0
    for (process, output) in processes {
      process.waitUntilExit()
      let lines = try String(contentsOf: output, encoding: .utf8).split(separator: "\n")
      #expect(lines.count == 1_000)
      for line in lines {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        if fields[1] == "redeemed" {
          redeemed[String(fields[0]), default: 0] += 1
        } else if fields[1] == "used-up" {
          usedUp += 1
        }
      }
      try? FileManager.default.removeItem(at: output)
    }
    #expect(redeemed.count == 1_000 && redeemed.values.allSatisfy { $0 == 1 })
    #expect(usedUp == 15_000)
    #expect(home.run("registry", "check").status == 0)
  }

  @Test(
    "kill -9 at random moments, 100 times: every acknowledged redemption survives, none twice, check passes"
  )
  func killLoop() throws {
    let home = try Home()
    defer { home.remove() }
    // Each round redeems 300 fresh codes (each one synced: the process is surely still running
    // when the kill comes), plus 20 already-used ones; rounds go on until 100 processes were
    // killed while running.
    // A soak (VOUCHER_SOAK_SECONDS) goes on for that long instead.
    let perRound = 300
    var codes = issue(home, count: perRound * 150)
    var acknowledged = Set<String>()
    var random = SeededGenerator(seed: Soak.seed(default: 99))
    var kills = 0
    var round = 0
    let started = Date()
    let soak = Soak.seconds
    while (kills < 100 && round < 150)
      || (soak.map { Date().timeIntervalSince(started) < $0 } ?? false)
    {
      defer { round += 1 }
      if codes.count < (round + 1) * perRound { codes += issue(home, count: perRound * 50) }
      let fresh = codes[(round * perRound)..<((round + 1) * perRound)]
      let batch =
        (Array(fresh) + codes.prefix(round * perRound).shuffled(using: &random).prefix(20))
        .shuffled(using: &random)
      let output = FileManager.default.temporaryDirectory.appendingPathComponent(
        "kill-\(UUID().uuidString)")
      _ = FileManager.default.createFile(atPath: output.path, contents: nil)
      let process = Process()
      process.executableURL = URL(fileURLWithPath: voucherBinary)
      process.arguments = ["--home", home.path, "redeem", "-", "--store", "K\(round)"]
      let stdin = Pipe()
      process.standardInput = stdin
      process.standardOutput = try FileHandle(forWritingTo: output)
      process.standardError = FileHandle.nullDevice
      try process.run()
      stdin.fileHandleForWriting.write(Data((batch.joined(separator: "\n") + "\n").utf8))
      try? stdin.fileHandleForWriting.close()
      usleep(UInt32.random(in: 2_000...30_000, using: &random))
      if process.isRunning {
        kill(process.processIdentifier, SIGKILL)
        kills += 1
      }
      process.waitUntilExit()
      // Only whole lines were acknowledged.
      let text = try String(contentsOf: output, encoding: .utf8)
      for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        if fields.count > 1 && fields[1] == "redeemed" { acknowledged.insert(String(fields[0])) }
      }
      try? FileManager.default.removeItem(at: output)
    }
    #expect(kills >= 100, "only \(kills) of \(round) processes were still running when killed")
    print("CLI kill loop: \(kills) kills in \(round) rounds, \(acknowledged.count) acknowledged")
    let check = home.run("registry", "check")
    #expect(check.status == 0, "\(check.stderr)")
    // Every acknowledged code is redeemed exactly once, by its history.
    let all = Array(acknowledged)
    var rows: [JSONValue] = []
    for start in stride(from: 0, to: all.count, by: 2000) {
      let chunk = Array(all[start..<min(start + 2000, all.count)])
      let verified = home.run(arguments: ["verify", "--format", "json"] + chunk)
      rows += try JSONDecoder().decode([JSONValue].self, from: Data(verified.stdout.utf8))
    }
    #expect(
      rows.count == acknowledged.count && rows.allSatisfy { $0["status"]?.string == "used-up" })
    for code in acknowledged.prefix(200) {
      let events = try JSONDecoder().decode(
        [JSONValue].self, from: Data(home.run("history", code, "--format", "json").stdout.utf8))
      #expect(events.filter { $0["event"]?.string == "redeemed" }.count == 1, "\(code)")
    }
  }

  @Test(
    "a torn tail is repaired by the next redeem; a flipped byte in the middle makes redeem and check exit 65 naming the offset"
  )
  func damage() throws {
    let home = try Home()
    defer { home.remove() }
    let codes = issue(home, count: 4)
    for code in codes.prefix(3) { #expect(home.run("redeem", code, "--store", "S1").status == 0) }
    let journal = URL(fileURLWithPath: home.path + "/Registry/journal")
    var bytes = Array(try Data(contentsOf: journal))
    // The journal is allocated ahead: its data ends at the last byte of the last redeem record.
    let dataEnd = bytes.lastIndex { $0 != 0 }! + 1
    bytes.replaceSubrange(dataEnd..<(dataEnd + 3), with: [0xA5, 1, 200])
    try Data(bytes).write(to: journal)
    let warned = home.run("registry", "check")
    #expect(
      warned.status == 0
        && warned.stderr.hasPrefix(
          "warning: the journal has a torn tail at byte offset \(dataEnd) (3 bytes"),
      "\(warned.stderr)")
    // Said once, by the check (with its length), not again by the recovery that found it.
    #expect(warned.stderrLines.count == 1, "\(warned.stderr)")
    let repaired = home.run("redeem", codes[3], "--store", "S1")
    #expect(
      repaired.status == 0
        && repaired.stderr.contains(
          "warning: repaired a torn tail of the journal at byte offset \(dataEnd)"),
      "\(repaired.stderr)")
    bytes = Array(try Data(contentsOf: journal))
    // The first commit's frame header (12 bytes) follows the journal header (32); its record,
    // codes[0]'s redemption, starts at 44.
    let middle = 44 + 20
    bytes[middle] ^= 0x01
    try Data(bytes).write(to: journal)
    let check = home.run("registry", "check")
    #expect(
      check.status == 65 && check.stderr.contains("journal is damaged at byte offset 44"),
      "\(check.stderr)")
    let redeem = home.run("redeem", codes[0], "--store", "S2")
    #expect(
      redeem.status == 65 && redeem.stderr.contains("damaged at byte offset 44"), "\(redeem.stderr)"
    )
    #expect(!redeem.stdout.contains("redeemed"))
  }

  @Test(
    "VOUCHER_LOCK_TIMEOUT must be seconds from 0 to 3600: anything else is a usage error before anything happens"
  )
  func lockTimeoutSetting() throws {
    let home = try Home()
    defer { home.remove() }
    let codes = issue(home, count: 3)
    let before = home.snapshot()
    for value in [
      "abc", "-1", "1e3", "nan", "inf", "3601", " 5", "5s", "0x10", "1.", ".5", "1,5", "１０",
    ] {
      for arguments in [
        ["redeem", codes[0], "--store", "S1"], ["verify", codes[0]], ["keys", "list"],
      ] {
        let outcome = runBinary(
          ["--home", home.path] + arguments, environment: ["VOUCHER_LOCK_TIMEOUT": value])
        #expect(outcome.status == 64, "\(value.debugDescription) \(arguments): \(outcome.stderr)")
        #expect(
          outcome.stderrLines.count == 1
            && outcome.stderr.hasPrefix("error: VOUCHER_LOCK_TIMEOUT must be a number of seconds"),
          "\(value.debugDescription): \(outcome.stderr)")
        #expect(outcome.stdout.isEmpty)
        #expect(home.snapshot() == before, "\(value.debugDescription) changed a file")
      }
    }
    for (index, value) in ["0", "0.5", "10", "3600", ""].enumerated() {
      let outcome = runBinary(
        ["--home", home.path, "redeem", codes[index % 3], "--store", "S1"],
        environment: ["VOUCHER_LOCK_TIMEOUT": value])
      #expect(outcome.status == (index < 3 ? 0 : 1), "\(value.debugDescription): \(outcome.stderr)")
    }
  }

  @Test(
    "a block whose record is durable is reported done and in effect, even when its block list cannot be written; a refused one is not in effect"
  )
  func blockAnswerMatchesEffect() throws {
    let home = try Home()
    defer { home.remove() }
    let codes = issue(home, count: 6)
    #expect(home.run("redeem", codes[0], "--store", "S1").status == 0)
    // The block list is rewritten through blocks.new: a folder there makes that fail after the
    // block's record is synced to the journal.
    let stuck = home.path + "/Registry/blocks.new"
    try FileManager.default.createDirectory(atPath: stuck, withIntermediateDirectories: false)
    let block = ["block", "--campaign", "summer", "--channel", "flyer", "--serials", "2-3"]
    let blocked = home.run(arguments: block)
    #expect(
      blocked.status == 0 && blocked.stdout.hasPrefix("blocked serials 2 to 3"),
      "\(blocked.status) \(blocked.stdout) \(blocked.stderr)")
    #expect(
      blocked.stderrLines.count == 1
        && blocked.stderr.hasPrefix("warning: the block is recorded in the journal and in effect"),
      "\(blocked.stderr)")
    // Until the block list can be written, a reader replaying the block refuses to answer
    // rather than answer without it.
    let meanwhile = home.run("verify", codes[1])
    #expect(meanwhile.status != 0 && !meanwhile.stdout.contains("  valid  "), "\(meanwhile.stdout)")
    try FileManager.default.removeItem(atPath: stuck)
    for code in codes[1...2] {
      let verified = home.run("verify", code)
      #expect(verified.status == 1 && verified.stdout.contains("  blocked  "), "\(verified.stdout)")
    }
    #expect(home.run("registry", "check").status == 0)
    // A block refused before its record reaches the journal (a fenced registry): not in effect.
    try "a test fenced it\n".write(
      toFile: home.path + "/Registry/FENCED", atomically: true, encoding: .utf8)
    let fenced = home.run(
      "block", "--campaign", "summer", "--channel", "flyer", "--serials", "4-5")
    #expect(fenced.status == 74 && fenced.stderrLines.count == 1, "\(fenced.stderr)")
    #expect(home.run("registry", "check").status == 0)
    #expect(home.run("verify", codes[3]).stdout.contains("  valid  "))
  }

  @Test(
    "streams answer in JSON Lines: redeem - and verify - print one compact document per line; one code's answer stays one document"
  )
  func jsonLinesForStreams() throws {
    let home = try Home()
    defer { home.remove() }
    let codes = issue(home, count: 3)
    let input = Data(
      [codes[0], codes[0], "not a code", codes[1]].joined(separator: "\n").utf8 + [0x0A])
    for arguments in [
      ["redeem", "-", "--store", "S1", "--format", "json"], ["verify", "-", "--format", "json"],
    ] {
      let outcome = home.run(arguments: arguments, stdin: input)
      #expect(outcome.status == 1, "\(arguments): \(outcome.stderr)")
      #expect(outcome.stdoutLines.count == 4, "\(arguments): \(outcome.stdout)")
      let answers = outcome.stdoutLines.compactMap {
        try? JSONDecoder().decode(JSONValue.self, from: Data($0.utf8))
      }
      #expect(answers.count == 4, "\(arguments): not one JSON document per line: \(outcome.stdout)")
      let statuses = answers.map { $0["status"]?.string ?? "" }
      #expect(
        statuses
          == (arguments[0] == "redeem"
            ? ["redeemed", "used-up", "malformed", "redeemed"]
            : ["used-up", "used-up", "malformed", "used-up"]),
        "\(arguments): \(statuses)")
    }
    // Codes given as arguments: one JSON array; one redemption: one JSON object.
    let listed = home.run("verify", "--format", "json", codes[0], codes[2])
    let array = try JSONDecoder().decode([JSONValue].self, from: Data(listed.stdout.utf8))
    #expect(array.map { $0["status"]?.string } == ["used-up", "valid"])
    let one = home.run("redeem", codes[2], "--store", "S1", "--format", "json")
    let object = try JSONDecoder().decode(JSONValue.self, from: Data(one.stdout.utf8))
    #expect(object["status"]?.string == "redeemed")
  }

  @Test(
    "redeem - and verify -: lines that arrived together share one sync or one lock (strace counts them), each answered in order; a code twice in a group is used up the second time",
    .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/strace"), "strace is not installed")
  )
  func streamGroups() throws {
    let home = try Home()
    defer { home.remove() }
    let codes = issue(home, count: 300)
    #expect(home.run("redeem", codes[0], "--store", "S1").status == 0)
    // All 301 lines are there before voucher starts: a handful of groups at most, where a sync
    // per line made 300.
    let lines = codes + [codes[7], "not-a-code"]
    let trace = home.path + "/strace.txt"
    let outcome = runBinary(
      ["-f", "-e", "trace=fdatasync,fsync", "-o", trace, voucherBinary, "--home", home.path,
       "redeem", "-", "--store", "S2", "--format", "json"],
      stdin: Data((lines.joined(separator: "\n") + "\n").utf8), executable: "/usr/bin/strace")
    #expect(outcome.status == 1, "\(outcome.stderr)")
    let answers = outcome.stdoutLines.compactMap(decode)
    try #require(answers.count == lines.count, "\(outcome.stdout)")
    #expect(answers.map { $0["input"]?.string } == lines.map { Optional($0) })
    #expect(answers[0]["status"]?.string == "used-up")
    #expect(answers[1..<300].allSatisfy { $0["status"]?.string == "redeemed" })
    #expect(answers[300]["status"]?.string == "used-up" && answers[301]["status"]?.string == "malformed")
    let syncs = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n")
      .filter { $0.contains("sync(") }.count
    #expect(syncs >= 1 && syncs <= 10, "\(syncs) syncs for \(lines.count) lines")
    // Every redemption answered is there for the next process, and `verify -` looks the
    // lines up together too: a lock per group, where it took two per line.
    let locks = home.path + "/strace-verify.txt"
    let verify = runBinary(
      ["-f", "-e", "trace=flock", "-o", locks, voucherBinary, "--home", home.path, "verify", "-"],
      stdin: Data(codes.joined(separator: "\n").utf8), executable: "/usr/bin/strace")
    #expect(
      verify.stdoutLines.count == 300
        && verify.stdoutLines.allSatisfy { $0.contains("  used-up  ") }, "\(verify.stderr)")
    let flocks = try String(contentsOfFile: locks, encoding: .utf8).split(separator: "\n")
      .filter { $0.contains("flock(") }.count
    #expect(flocks >= 1 && flocks <= 20, "\(flocks) flock calls for 300 lines")
  }

  @Test("a stopped lock holder makes redeem answer busy with exit 75 after the timeout")
  func busy() throws {
    let home = try Home()
    defer { home.remove() }
    let codes = issue(home, count: 2)
    #expect(home.run("redeem", codes[0], "--store", "S1").status == 0)
    let holder = open(home.path + "/Registry/lock", O_RDWR)
    defer { close(holder) }
    flock(holder, LOCK_EX)
    let outcome = home.run(
      "redeem", codes[1], "--store", "S1", environment: ["VOUCHER_LOCK_TIMEOUT": "0.3"])
    #expect(outcome.status == 75 && outcome.stderr.hasPrefix("error: the registry is busy"))
    flock(holder, LOCK_UN)
    #expect(home.run("redeem", codes[1], "--store", "S1").status == 0)
  }

  @Test(
    "an index file that lost its latest writes while state kept them (no reboot): verify and redeem still see every redemption"
  )
  func staleIndex() throws {
    let home = try Home()
    defer { home.remove() }
    let codes = issue(home, count: 3)
    let index = home.path + "/Registry/index/summer.idx"
    #expect(home.run("redeem", codes[0], "--store", "S1").status == 0)
    let old = try Data(contentsOf: URL(fileURLWithPath: index))
    #expect(home.run("redeem", codes[1], "--store", "S1").status == 0)
    try old.write(to: URL(fileURLWithPath: index))
    let verify = home.run("verify", codes[1])
    #expect(verify.status == 1 && verify.stdout.contains("  used-up  "), "\(verify.stdout)")
    try old.write(to: URL(fileURLWithPath: index))
    let again = home.run("redeem", codes[1], "--store", "S2")
    #expect(
      again.status == 1 && again.stdout.contains("  used-up  ")
        && again.stdout.contains("in store S1"), "\(again.stdout)")
    try old.write(to: URL(fileURLWithPath: index))
    #expect(home.run("registry", "check").status == 0)
    let history = home.run("history", codes[1], "--format", "json")
    #expect(
      try JSONDecoder().decode([JSONValue].self, from: Data(history.stdout.utf8)).count == 1)
  }

  @Test(
    "a missing or empty Registry folder in a home that issued codes is refused, never made anew; 'registry init' makes one on purpose"
  )
  func vanishedRegistry() throws {
    let home = try Home()
    defer { home.remove() }
    // The first issue of a home creates its registry.
    #expect(!FileManager.default.fileExists(atPath: home.path + "/Registry"))
    let codes = issue(home, count: 2)
    #expect(FileManager.default.fileExists(atPath: home.path + "/Registry/journal"))
    #expect(home.run("redeem", codes[0], "--store", "S1").status == 0)
    // The registry's disk did not mount: an empty folder where it was, or none at all.
    try FileManager.default.moveItem(
      atPath: home.path + "/Registry", toPath: home.path + "/Registry.disk")
    for empty in [false, true] {
      if empty {
        try FileManager.default.createDirectory(
          atPath: home.path + "/Registry", withIntermediateDirectories: false)
      }
      let before = home.snapshot()
      for arguments in [
        ["redeem", codes[0], "--store", "S2"], ["verify", codes[0]], ["history", codes[0]],
        ["claim", codes[1], "--profile", "crm:1"], ["void", codes[0]], ["registry", "check"],
        ["block", "--campaign", "summer", "--channel", "flyer", "--serials", "2"],
        ["report", "--campaign", "summer"], ["export", "--campaign", "summer"],
        ["issue", "--campaign", "summer", "--channel", "flyer", "--count", "1"],
      ] {
        let outcome = home.run(arguments: arguments)
        #expect(outcome.status == 66, "\(arguments): \(outcome.status) \(outcome.stderr)")
        #expect(
          outcome.stderrLines.count == 1 && outcome.stderr.hasPrefix("error: no registry at ")
            && outcome.stderr.contains("'voucher registry init'"), "\(outcome.stderr)")
        #expect(!outcome.stdout.contains("redeemed") && !outcome.stdout.contains("valid"))
      }
      #expect(home.snapshot() == before, "empty: \(empty)")
    }
    // Put back, everything is as it was.
    try FileManager.default.removeItem(atPath: home.path + "/Registry")
    try FileManager.default.moveItem(
      atPath: home.path + "/Registry.disk", toPath: home.path + "/Registry")
    #expect(home.run("redeem", codes[0], "--store", "S2").stdout.contains("  used-up  "))
    // Started again on purpose: an explicit init, once.
    try FileManager.default.removeItem(atPath: home.path + "/Registry")
    let created = home.run("registry", "init")
    #expect(created.status == 0 && created.stdout.hasPrefix("created an empty registry"))
    let twice = home.run("registry", "init")
    #expect(twice.status == 73 && twice.stderr.contains("already holds a registry"))
    #expect(home.run("redeem", codes[1], "--store", "S1").status == 0)
  }
}
