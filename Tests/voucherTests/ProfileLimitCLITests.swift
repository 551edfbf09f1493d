import Foundation
import Synchronization
import Testing
import VoucherTestSupport

/// Runs each of `runs` (a `voucher` command) at once, each on its own thread, so that the
/// processes really race (a thread pool would run two at a time on two cores); answers each run's
/// outcome, in the order of `runs`.
func runTogether(_ runs: [@Sendable () -> Outcome]) -> [Outcome] {
  let outcomes = Mutex([Int: Outcome]())
  let group = DispatchGroup()
  for (index, run) in runs.enumerated() {
    group.enter()
    Thread {
      let outcome = run()
      outcomes.withLock { $0[index] = outcome }
      group.leave()
    }.start()
  }
  group.wait()
  return outcomes.withLock { found in runs.indices.map { found[$0]! } }
}

@Suite("Per-profile limits through the command line, serve and HTTP")
struct ProfileLimitCLITests {
  /// A home with a campaign `once` of the given limit options, and `count` codes of it.
  func limited(_ home: Home, _ options: [String], count: Int, tz: [String] = []) throws -> [String]
  {
    try #require(
      home.run(
        arguments: tz + ["campaign", "add", "once", "--channels", "flyer", "--capacity", "1000"]
          + options
      ).status == 0)
    return home.run("issue", "--campaign", "once", "--channel", "flyer", "--count", "\(count)")
      .stdoutLines
  }

  /// The redeemed and profile-limit answers of 16 racing redemptions; any other is a failure.
  func expectOneRedeemed(_ outcomes: [Outcome]) {
    let redeemed = outcomes.filter { $0.status == 0 && $0.stdout.contains("  redeemed  ") }
    let limited = outcomes.filter { $0.status == 2 && $0.stdout.contains("  profile-limit  ") }
    #expect(redeemed.count == 1, "\(outcomes.map { "\($0.status) \($0.stdout) \($0.stderr)" })")
    #expect(limited.count == 15, "\(outcomes.map { "\($0.status) \($0.stdout) \($0.stderr)" })")
  }

  @Test(
    "16 processes redeem different codes of a --per-profile 1 campaign for the same profile: one redeemed, 15 profile-limit (exit 2)"
  )
  func sixteenProcesses() throws {
    let home = try Home()
    defer { home.remove() }
    let codes = try limited(home, ["--per-profile", "1"], count: 16)
    try #require(codes.count == 16)
    _ = home.run("registry", "check")
    expectOneRedeemed(
      runTogether(
        codes.enumerated().map { worker, code in
          { home.run("redeem", code, "--store", "S\(worker)", "--profile", "crm:4711") }
        }))
    let check = home.run("registry", "check")
    #expect(
      check.status == 0 && check.stdout.hasPrefix("registry ok: 1 records"), "\(check.stdout)")
  }

  #if PostgreSQL
    @Test(
      "16 processes against one PostgreSQL registry redeem different codes of a --per-profile 1 campaign for one profile: one redeemed, 15 profile-limit"
    )
    func sixteenProcessesPostgres() throws {
      let pg = try PostgresHome(server: try postgresServer())
      defer { pg.remove() }
      try #require(
        pg.run("campaign", "add", "once", "--channels", "flyer", "--per-profile", "1").status == 0)
      let codes = pg.run("issue", "--campaign", "once", "--channel", "flyer", "--count", "16")
        .stdoutLines
      try #require(codes.count == 16)
      expectOneRedeemed(
        runTogether(
          codes.enumerated().map { worker, code in
            { pg.run("redeem", code, "--store", "S\(worker)", "--profile", "crm:4711") }
          }))
    }
  #endif

  @Test(
    "answers: profile-limit in text and JSON with until (null for the campaign, the period's end in the --tz zone), inherited from a claim, claims per profile, a void gives back, retries replay, campaign show"
  )
  func answers() throws {
    let home = try Home()
    defer { home.remove() }
    let codes = try limited(
      home, ["--per-profile", "1", "--claims-per-profile", "1"], count: 6)
    let show = home.run("campaign", "show", "once")
    #expect(
      show.stdout.contains(
        "limits      1 redemption per profile for the whole campaign; 1 claim per profile"),
      "\(show.stdout)")
    let shown = try #require(
      decode(home.run("campaign", "show", "once", "--format", "json").stdout))
    #expect(shown["campaign"]?["limits"]?["redemptions"] == .number(1))
    #expect(shown["campaign"]?["limits"]?["period"]?.string == "campaign")

    #expect(home.run("claim", codes[0], "--profile", "crm:1").status == 0)
    let claimedTwice = home.run("claim", codes[1], "--profile", "crm:1")
    #expect(claimedTwice.status == 2 && claimedTwice.stdout.contains("  profile-limit  "))
    // The claimed code redeemed without a profile counts for crm:1.
    #expect(home.run("redeem", codes[0], "--store", "S1", "--request", "r-1").status == 0)
    let refused = home.run(
      "redeem", codes[1], "--store", "S1", "--profile", "crm:1", "--format", "json")
    #expect(refused.status == 2)
    let answer = try #require(decode(refused.stdout))
    #expect(answer["status"]?.string == "profile-limit")
    #expect(answer["until"] == .null)
    #expect(refused.stderr.isEmpty)
    // A retry of the first redemption replays it (exit 0), not a refusal.
    let retry = home.run(
      "redeem", codes[0], "--store", "S1", "--request", "r-1", "--format", "json")
    #expect(retry.status == 0 && decode(retry.stdout)?["replayed"] == .bool(true))
    // A void gives the use back.
    #expect(home.run("void", codes[0]).status == 0)
    #expect(home.run("redeem", codes[1], "--store", "S1", "--profile", "crm:1").status == 0)
    // A stream with a profile-limit and another refusal exits 1; with only profile-limits, 2.
    let mixed = home.run(
      "redeem", "-", "--store", "S1", "--profile", "crm:1",
      stdin: Data("\(codes[2])\nNOT-A-CODE\n".utf8))
    #expect(mixed.status == 1 && mixed.stdout.contains("  profile-limit  "))
    let onlyLimited = home.run(
      "redeem", "-", "--store", "S1", "--profile", "crm:1",
      stdin: Data("\(codes[2])\n\(codes[3])\n".utf8))
    #expect(onlyLimited.status == 2)
  }

  @Test("a day's limit names the day's end in the zone the campaign was added with")
  func dayInZone() throws {
    let home = try Home()
    defer { home.remove() }
    let codes = try limited(
      home, ["--per-profile", "1", "--per-profile-period", "day"], count: 2,
      tz: ["--tz", "Europe/Amsterdam"])
    #expect(
      home.run("campaign", "show", "once").stdout.contains(
        "1 redemption per profile per day (Europe/Amsterdam)"))
    #expect(home.run("redeem", codes[0], "--store", "S1", "--profile", "crm:1").status == 0)
    let refused = try #require(
      decode(
        home.run(
          "--tz", "Europe/Amsterdam", "redeem", codes[1], "--store", "S1", "--profile", "crm:1",
          "--format", "json"
        ).stdout))
    let until = try #require(refused["until"]?.string)
    // Local midnight: "T00:00:00+01:00" or "+02:00", whatever today is.
    #expect(until.hasSuffix("T00:00:00+01:00") || until.hasSuffix("T00:00:00+02:00"), "\(until)")
  }

  @Test(
    "bad limits: 0, -1, abc, 1e3, an unknown period, a period without --per-profile: one error line, exit 64, files as they were"
  )
  func badLimits() throws {
    let home = try Home()
    defer { home.remove() }
    let before = home.snapshot()
    for options in [
      ["--per-profile", "0"], ["--per-profile", "-1"], ["--per-profile", "abc"],
      ["--per-profile", "1e3"], ["--per-profile", "1000001"], ["--claims-per-profile", "0"],
      ["--per-profile", "1", "--per-profile-period", "year"],
      ["--per-profile-period", "day"], ["--per-profile", ""],
    ] {
      let outcome = home.run(
        arguments: ["campaign", "add", "bad", "--channels", "flyer"] + options)
      #expect(outcome.status == 64, "\(options)")
      #expect(
        outcome.stderr.hasPrefix("error: ") && outcome.stderr.split(separator: "\n").count == 1,
        "\(options): \(outcome.stderr)")
    }
    // Hostile values are named escaped, on one line.
    // (A plain number in range would add the campaign: those are left out.)
    for naughty in try TestData.naughtyStrings().prefix(200)
    where !naughty.contains("\0") && Int(naughty).map({ (1...1_000_000).contains($0) }) != true {
      let outcome = home.run(
        arguments: ["campaign", "add", "bad", "--channels", "flyer", "--per-profile", naughty])
      #expect(outcome.status == 64, "\(naughty)")
      #expect(outcome.stderr.split(separator: "\n").count == 1, "\(naughty): \(outcome.stderr)")
      #expect(!outcome.stderr.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
    }
    #expect(home.snapshot() == before)
    let help = home.run("help", "campaign", "add")
    for flag in ["--per-profile", "--per-profile-period", "--claims-per-profile"] {
      #expect(help.stdout.contains(flag), "\(flag)")
    }
  }

  @Test(
    "forget: the profile's past redemptions no longer count; the same id given again starts a new count"
  )
  func forgetRestarts() throws {
    let home = try Home()
    defer { home.remove() }
    let codes = try limited(home, ["--per-profile", "1"], count: 3)
    #expect(home.run("redeem", codes[0], "--store", "S1", "--profile", "crm:1").status == 0)
    #expect(home.run("redeem", codes[1], "--store", "S1", "--profile", "crm:1").status == 2)
    #expect(home.run("forget", "--profile", "crm:1").status == 0)
    #expect(home.run("redeem", codes[1], "--store", "S1", "--profile", "crm:1").status == 0)
    #expect(home.run("redeem", codes[2], "--store", "S1", "--profile", "crm:1").status == 2)
  }

  @Test("serve and HTTP answer profile-limit with until, as the CLI does (HTTP 200)")
  func serveAndHTTP() throws {
    let home = try Home()
    defer { home.remove() }
    let codes = try limited(home, ["--per-profile", "1"], count: 4)
    let lines = [
      #"{"op":"redeem","code":"\#(codes[0])","store":"S1","profile":"crm:1","id":1}"#,
      #"{"op":"redeem","code":"\#(codes[1])","store":"S1","profile":"crm:1","id":2}"#,
    ]
    let served = home.run(
      "serve", "--stdio", stdin: Data((lines.joined(separator: "\n") + "\n").utf8))
    let answers = served.stdoutLines.compactMap(decode)
    #expect(
      answers.map { $0["status"]?.string } == ["redeemed", "profile-limit"], "\(served.stdout)")
    #expect(answers.last?["until"] == .null)
    #expect(served.stdoutLines.last?.contains(#""until":null"#) == true)
    guard curlPath != nil else { return }
    let till = try addToken(home, "till-s1", "till", store: "S1")
    let server = try RunningHTTPServer(home)
    defer { server.stop() }
    let answer = try call(
      server, "POST", "/v1/codes/\(codes[2])/redeem", token: till, body: #"{"profile":"crm:1"}"#)
    #expect(
      answer.status == 200 && answer.json?["status"]?.string == "profile-limit", "\(answer.body)")
    #expect(answer.json?["until"] == .null)
  }
}
