#if PostgreSQL
  import Foundation
  import Testing
  import VoucherTestSupport

  /// The test run's PostgreSQL server, or a skip naming why there is none.
  func postgresServer() throws -> PostgresServer {
    switch PostgresServer.shared {
    case .success(let server): return server
    case .failure(let reason): try Test.cancel("no PostgreSQL server: \(reason)")
    }
  }

  /// A keyed home whose commands go to a PostgreSQL registry (through `VOUCHER_REGISTRY`, or
  /// `--registry` when `flag`), created with `voucher registry init`.
  struct PostgresHome {
    let home: Home
    let uri: String
    var flag = false

    init(server: PostgresServer, initialize: Bool = true) throws {
      home = try Home()
      uri = try server.freshDatabase("cli")
      if initialize { try #require(run("registry", "init").status == 0) }
    }

    @discardableResult
    func run(_ arguments: String..., stdin: Data? = nil) -> Outcome {
      run(arguments: arguments, stdin: stdin)
    }

    @discardableResult
    func run(arguments: [String], stdin: Data? = nil, environment: [String: String] = [:])
      -> Outcome
    {
      if flag {
        return home.run(arguments: ["--registry", uri] + arguments, stdin: stdin)
      }
      return runBinary(
        ["--home", home.path] + arguments, stdin: stdin,
        environment: environment.merging(["VOUCHER_REGISTRY": uri]) { $1 }, directory: home.path)
    }

    func issue(count: Int, channel: String = "flyer") -> [String] {
      run("issue", "--campaign", "summer", "--channel", channel, "--count", "\(count)").stdoutLines
    }

    func remove() { home.remove() }

    /// The database's name.
    var database: String { URL(string: uri)!.lastPathComponent }
  }

  @Suite("A PostgreSQL registry through the command line")
  struct PostgresCLITests {
    @Test(
      "every command works on it, and report and export say what the file registry says for the same history"
    )
    func everyCommand() throws {
      let server = try postgresServer()
      var pg = try PostgresHome(server: server)
      defer { pg.remove() }
      let codes = pg.issue(count: 6)
      try #require(codes.count == 6)
      // The same operations on the file registry of the same home, then on PostgreSQL.
      let script: [[String]] = [
        ["redeem", codes[0], "--store", "S12", "--terminal", "T3", "--request", "r-1"],
        ["redeem", codes[0], "--store", "S99"],
        ["redeem", codes[0], "--store", "S12", "--terminal", "T3", "--request", "r-1"],
        ["void", codes[1]],
        ["void", codes[0], "--reason", "customer returned the cake"],
        ["redeem", codes[0], "--online"],
        ["claim", codes[2], "--profile", "crm:4711"],
        ["claim", codes[2], "--profile", "crm:4712"],
        ["redeem", codes[2], "--store", "S1"],
        [
          "block", "--campaign", "summer", "--channel", "flyer", "--serials", "4-5", "--reason",
          "box lost",
        ],
        ["redeem", codes[3], "--store", "S1"],
        ["unblock", "--campaign", "summer", "--channel", "flyer", "--serials", "4"],
        ["redeem", codes[3], "--store", "S1", "--profile", "crm:ada"],
        ["redeem", codes[4], "--store", "S2"],
        ["verify", codes[0], codes[4], codes[5]],
      ]
      // The codes were issued with the PostgreSQL registry chosen: the home's file registry is
      // made on purpose.
      try #require(pg.home.run("registry", "init").status == 0)
      var fileAnswers: [(Int32, String)] = []
      for line in script {
        let outcome = pg.home.run(arguments: line)
        fileAnswers.append((outcome.status, outcome.stdout))
      }
      for (line, file) in zip(script, fileAnswers) {
        let outcome = pg.run(arguments: line)
        #expect(outcome.status == file.0, "\(line): \(outcome.stderr)")
        #expect(
          Self.timeless(outcome.stdout) == Self.timeless(file.1), "\(line)")
      }
      // History, report and export as on files (event ids and times aside).
      for arguments in [
        ["history", codes[0], "--format", "json"], ["history", codes[3]],
        ["report", "--format", "json"], ["report", "--by", "store", "--format", "csv"],
        ["export", "--format", "jsonl"], ["export"],
      ] {
        let onFiles = pg.home.run(arguments: arguments)
        let onPostgres = pg.run(arguments: arguments)
        #expect(onPostgres.status == 0 && onFiles.status == 0, "\(arguments): \(onPostgres.stderr)")
        #expect(
          Self.timeless(onPostgres.stdout) == Self.timeless(onFiles.stdout), "\(arguments)")
      }
      // --registry does what VOUCHER_REGISTRY does.
      pg.flag = true
      let check = pg.run("registry", "check")
      #expect(
        check.status == 0 && check.stdout == pg.home.run("registry", "check").stdout,
        "\(check.stderr)")
      // forget: the profile leaves every event and export; counts stay. (The home's file
      // registry named it too: forget checks the home, so it is erased there first.)
      #expect(pg.home.run("forget", "--profile", "crm:ada").status == 0)
      let forget = pg.run("forget", "--profile", "crm:ada")
      #expect(forget.status == 0, "\(forget.stderr)")
      #expect(!pg.run("export", "--format", "jsonl").stdout.contains("crm:ada"))
      #expect(pg.run("verify", codes[3]).stdout.contains("  used-up  "))
      let rows = try server.psql(
        pg.database,
        "SELECT count(*) FROM voucher_events WHERE profile = 'crm:ada' OR profile_erased")
      #expect(rows.trimmingCharacters(in: .whitespacesAndNewlines) == "1")
      // serve, over stdio.
      let served = pg.run(
        "serve", "--stdio",
        stdin: Data(
          """
          {"op":"redeem","code":"\(codes[5])","store":"S7","request":"s-1"}
          {"op":"redeem","code":"\(codes[5])","store":"S7","request":"s-1"}
          {"op":"redeem","code":"\(codes[5])","store":"S8"}
          {"op":"verify","code":"\(codes[5])"}

          """.utf8))
      let statuses = served.stdoutLines.compactMap {
        try? JSONDecoder().decode(JSONValue.self, from: Data($0.utf8))
      }.map { $0["status"]?.string ?? "?" }
      #expect(
        statuses == ["redeemed", "redeemed", "used-up", "used-up"],
        "\(served.stdout) \(served.stderr)")
      // migrate: at the current version already; rebuild is the file registry's own.
      let migrate = pg.run("registry", "migrate")
      #expect(migrate.status == 0 && migrate.stdout.contains(" already"))
      #expect(pg.run("registry", "rebuild").status == 64)
    }

    /// Output with times and event ids blanked: the two registries record at other moments and
    /// number events their own way.
    static func timeless(_ text: String) -> String {
      let text = text.replacingOccurrences(
        of: #"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"#, with: "_", options: .regularExpression
      ).replacingOccurrences(
        of: #""(id|undoes)" ?: ?\d+"#, with: "_", options: .regularExpression
      ).replacingOccurrences(of: "\r", with: "")
      // CSV export rows end with the id, the id undone and the prize.
      return text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
        guard line.range(of: #",\d+,\d*,("[^"]*")?$"#, options: .regularExpression) != nil
        else { return String(line) }
        var cells = line.split(separator: ",", omittingEmptySubsequences: false)
        cells.removeSubrange((cells.count - 3)..<(cells.count - 1))
        return cells.joined(
          separator: ",")
      }.joined(separator: "\n")
    }

    @Test(
      "registry copy: a file registry's whole history, killed midway and run again, then again: the same events, each once"
    )
    func copy() throws {
      let server = try postgresServer()
      let pg = try PostgresHome(server: server)
      defer { pg.remove() }
      let home = pg.home
      try #require(home.run("registry", "init").status == 0)
      let codes = home.run("issue", "--campaign", "summer", "--channel", "flyer", "--count", "6000")
        .stdoutLines
      try #require(codes.count == 6000)
      // On the file registry: every code redeemed, every 7th voided and redeemed again.
      var lines = codes.map {
        "{\"op\":\"redeem\",\"code\":\"\($0)\",\"store\":\"S1\",\"profile\":\"crm:1\"}\n"
      }
      for code in codes.enumerated().filter({ $0.offset % 7 == 0 }).map(\.element) {
        lines.append("{\"op\":\"void\",\"code\":\"\(code)\",\"reason\":\"returned\"}\n")
        lines.append("{\"op\":\"redeem\",\"code\":\"\(code)\",\"store\":\"S2\"}\n")
      }
      #expect(home.run("serve", "--stdio", stdin: Data(lines.joined().utf8)).status == 0)
      #expect(
        home.run("block", "--campaign", "summer", "--channel", "receipt", "--serials", "1-9").status
          == 0)
      // Killed while copying, then run to the end, then run again.
      // The kill comes once the first batch is in (and the copy not yet done).
      let children = Children()
      let pid = try #require(
        children.spawn(voucherBinary, ["--home", home.path, "registry", "copy", "--to", pg.uri]))
      var imported = 0
      while imported == 0 && children.isRunning(pid) {
        usleep(20_000)
        imported =
          Int(
            try server.psql(pg.database, "SELECT count(*) FROM voucher_imports").trimmingCharacters(
              in: .whitespacesAndNewlines)) ?? 0
      }
      kill(pid, SIGKILL)
      #expect(children.wait(pid).signaled)
      let second = home.run("registry", "copy", "--to", pg.uri)
      #expect(second.status == 0 && second.stdout.hasPrefix("copied "), "\(second.stderr)")
      #expect(imported > 0 && !second.stdout.contains("(0 were copied before)"), "\(second.stdout)")
      let third = home.run("registry", "copy", "--to", pg.uri)
      #expect(third.status == 0 && third.stdout.hasPrefix("copied 0 events"), "\(third.stdout)")
      // The same history, times included; only the event ids are the database's own.
      let fileExport = home.run("export", "--format", "jsonl")
      let copied = pg.run("export", "--format", "jsonl")
      #expect(fileExport.stdoutLines.count == 6000 + 2 * 858 + 1)
      #expect(Self.idless(copied.stdout) == Self.idless(fileExport.stdout))
      #expect(pg.run("registry", "check").status == 0)
      #expect(pg.run("redeem", codes[1], "--store", "S3").status == 1)
      #expect(pg.run("redeem", codes[0], "--store", "S3").status == 1)
    }

    /// JSON Lines with event ids blanked.
    static func idless(_ text: String) -> String {
      text.replacingOccurrences(
        of: #""(id|undoes)" ?: ?\d+"#, with: "_", options: .regularExpression)
    }

    @Test(
      "a chain: campaigns, end dates, key states and blocks set at the office reach a till that has only the keys; no secret in the database"
    )
    func chain() throws {
      let server = try postgresServer()
      let office = try PostgresHome(server: server)
      defer { office.remove() }
      let codes = office.issue(count: 3)
      try #require(codes.count == 3)
      // A new store machine: the key files (copied securely) and the registry URI, nothing else.
      let till = try Home(keyed: false)
      defer { till.remove() }
      try FileManager.default.copyItem(
        atPath: office.home.path + "/Keys", toPath: till.path + "/Keys")
      let atTill = { (arguments: [String]) in
        runBinary(
          ["--home", till.path] + arguments, environment: ["VOUCHER_REGISTRY": office.uri],
          directory: till.path)
      }
      #expect(atTill(["verify", codes[0]]).stdout.contains("  valid  "))
      #expect(atTill(["campaign", "list"]).stdout.contains("summer"))
      #expect(atTill(["redeem", codes[0], "--store", "S2"]).status == 0)
      #expect(office.run("redeem", codes[0], "--store", "S1").status == 1)
      // The office cuts the campaign short: the till sees it expired; then extends it again.
      #expect(office.run("campaign", "end", "summer", "--ends", "2020-01-31").status == 0)
      let expired = atTill(["verify", codes[1]])
      #expect(expired.status == 1 && expired.stdout.contains("expired"), "\(expired.stdout)")
      #expect(office.run("campaign", "end", "summer", "--no-end").status == 0)
      #expect(atTill(["verify", codes[1]]).stdout.contains("  valid  "))
      // A batch blocked at the office is blocked at the till.
      #expect(
        office.run("block", "--campaign", "summer", "--channel", "flyer", "--serials", "2").status
          == 0)
      #expect(atTill(["redeem", codes[1], "--store", "S2"]).stdout.contains("  blocked  "))
      // A key revoked at the office is revoked at the till.
      #expect(office.run("keys", "revoke", "0").status == 0)
      let revoked = atTill(["verify", codes[2]])
      #expect(revoked.status == 1 && revoked.stdout.contains("revoked"), "\(revoked.stdout)")
      #expect(atTill(["keys", "list"]).stdout.contains("revoked"))
      // No key secret anywhere in the database.
      let keyFile = try String(
        contentsOfFile: office.home.path + "/Keys/slot-00.key", encoding: .utf8)
      let secret = try #require(
        keyFile.split(separator: "\n").first { $0.hasPrefix("secret: ") }?.dropFirst(8))
      let dump = try PostgresServer.run(
        server.bin + "/pg_dump", ["-h", server.folder, "-U", "postgres", office.database])
      #expect(dump.status == 0 && dump.output.contains("voucher_key_states"))
      #expect(!dump.output.contains(String(secret)))
    }

    @Test(
      "no registry yet, a password in the URI, a server away: clear errors, documented statuses")
    func refusals() throws {
      let server = try postgresServer()
      let pg = try PostgresHome(server: server, initialize: false)
      defer { pg.remove() }
      let code = pg.issue(count: 1)
      #expect(code.isEmpty)
      let missing = pg.run("registry", "check")
      #expect(missing.status == 66 && missing.stderr.contains("holds no registry yet"))
      #expect(missing.stderr.contains("voucher registry init"))
      #expect(pg.run("registry", "init").status == 0)
      let twice = pg.run("registry", "init")
      #expect(twice.status == 73, "\(twice.stderr)")
      // A password on the command line is refused and never echoed.
      let secret = "s3cr3t-Pa55"
      let withPassword = pg.home.run(
        "--registry", "postgresql://postgres:\(secret)@/db?host=\(server.folder)", "registry",
        "check")
      #expect(withPassword.status == 64 && withPassword.stderr.contains("~/.pgpass"))
      #expect(!withPassword.stderr.contains(secret) && !withPassword.stdout.contains(secret))
      let keyword = pg.home.run("--registry", "dbname=x password=\(secret)", "registry", "check")
      #expect(keyword.status == 64 && !keyword.stderr.contains(secret))
      let garbage = pg.home.run("--registry", "postgresql://[::1", "verify", "X")
      #expect(garbage.status == 64 && garbage.stderrLines.count == 1)
      // A server that is not there: busy (75) once the timeout passed.
      let away = runBinary(
        [
          "--home", pg.home.path, "--registry",
          "postgresql:///db?host=/nonexistent-\(UUID().uuidString)",
          "registry", "check",
        ],
        environment: ["VOUCHER_LOCK_TIMEOUT": "0.5"])
      #expect(away.status == 75 && away.stderr.contains("cannot reach"), "\(away.stderr)")
      #expect(pg.home.run("registry", "migrate").status == 64)
    }
  }
#else
  import Foundation
  import Testing

  @Suite("A build without the PostgreSQL trait")
  struct PostgresCLITests {
    @Test("a --registry URI or VOUCHER_REGISTRY is refused with exit 69, files untouched")
    func refused() throws {
      let home = try Home()
      defer { home.remove() }
      let before = home.snapshot()
      for outcome in [
        home.run("--registry", "postgresql:///voucher?host=/tmp", "registry", "check"),
        home.run("registry", "check", environment: ["VOUCHER_REGISTRY": "postgresql:///voucher"]),
      ] {
        #expect(outcome.status == 69)
        #expect(outcome.stderrLines.count == 1 && outcome.stderr.contains("no PostgreSQL support"))
      }
      #expect(home.snapshot() == before)
    }
  }
#endif

#if PostgreSQL
  @Suite("Prizes on a PostgreSQL registry")
  struct PostgresPrizeTests {
    @Test("16 serve processes race claims for the prize codes through one PostgreSQL: each prize awarded exactly once")
    func race() throws {
      let server: PostgresServer
      switch PostgresServer.shared {
      case .success(let shared): server = shared
      case .failure(let reason): try Test.cancel("no PostgreSQL server: \(reason)")
      }
      let prizes = try PrizeHome(gift: 5, coffee: 20, registry: try server.freshDatabase("prizes"))
      defer { prizes.home.remove() }
      try PrizesCLITests.race(prizes)
    }
  }
#endif
