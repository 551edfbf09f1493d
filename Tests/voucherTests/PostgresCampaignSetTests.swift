#if PostgreSQL
  import Foundation
  import Testing
  import VoucherTestSupport

  #if canImport(Glibc)
    import Glibc
  #endif

  @Suite("campaign set with a PostgreSQL registry")
  struct PostgresCampaignSetTests {
    @Test(
      "a change made at one till is every till's, with its history; one that would strand codes is refused from the chain's events"
    )
    func chainChanges() throws {
      let server = try postgresServer()
      let office = try PostgresHome(server: server)
      defer { office.remove() }
      let codes = office.issue(count: 2)
      try #require(codes.count == 2)
      let till = try Home(keyed: false)
      defer { till.remove() }
      try FileManager.default.copyItem(
        atPath: office.home.path + "/Keys", toPath: till.path + "/Keys")
      let atTill = { (arguments: [String]) in
        runBinary(
          ["--home", till.path] + arguments, environment: ["VOUCHER_REGISTRY": office.uri],
          directory: till.path)
      }
      let set = office.run("campaign", "set", "summer", "--title", "Winter tea", "--uses", "2")
      #expect(set.status == 0, "\(set.stderr)")
      #expect(atTill(["verify", codes[0]]).stdout.contains("Winter tea; 2 uses left"))
      #expect(atTill(["redeem", codes[0], "--store", "S2"]).status == 0)
      #expect(atTill(["redeem", codes[0], "--store", "S2"]).status == 0)
      // The till, which has no campaign file, changes the chain's campaign: the office sees it.
      let cut = atTill([
        "campaign", "set", "summer", "--ends", "2020-01-31", "--starts", "2019-01-01",
      ])
      #expect(cut.status == 0, "\(cut.stderr)")
      #expect(!FileManager.default.fileExists(atPath: till.path + "/Campaigns/summer.campaign"))
      let expired = office.run("verify", codes[1])
      #expect(expired.status == 1 && expired.stdout.contains("expired"), "\(expired.stdout)")
      let shown = office.run("campaign", "show", "summer").stdout
      #expect(shown.contains("title \"Winter tea\" (was \"Summer coffee\") by campaign set"))
      #expect(shown.contains("ends 2020-01-31 (was no end) by campaign set"), "\(shown)")
      let changes = { (text: String) in text.components(separatedBy: "changes\n").last ?? "" }
      #expect(changes(atTill(["campaign", "show", "summer"]).stdout) == changes(shown))
      // The office's own file holds its own change (the chain's row holds the till's too).
      let file = try String(
        contentsOfFile: office.home.path + "/Campaigns/summer.campaign", encoding: .utf8)
      #expect(
        file.contains("\"title\" : \"Winter tea\"") && file.contains("\"by\" : \"campaign set\""))
      // Refusals read the chain's events: two uses were redeemed at the till.
      let before = office.home.snapshot()
      let fewer = office.run("campaign", "set", "summer", "--uses", "1")
      #expect(fewer.status == 65 && fewer.stderrLines.count == 1, "\(fewer.stderr)")
      #expect(fewer.stderr.contains("--uses cannot be fewer than 2"))
      let later = atTill(["campaign", "set", "summer", "--starts", "2099-01-01", "--no-end"])
      #expect(later.status == 65 && later.stderr.contains("first redemption"), "\(later.stderr)")
      #expect(office.home.snapshot() == before)
      #expect(!office.run("campaign", "show", "summer").stdout.contains("2099"))
    }

    @Test("a running serve at a till sees an end moved at the office, without a restart")
    func serveSeesChainChange() throws {
      let server = try postgresServer()
      let office = try PostgresHome(server: server)
      defer { office.remove() }
      let code = try #require(office.issue(count: 1).first)
      let till = try Home(keyed: false)
      defer { till.remove() }
      try FileManager.default.copyItem(
        atPath: office.home.path + "/Keys", toPath: till.path + "/Keys")
      let socket = till.path + "/till.sock"
      let process = Process()
      process.executableURL = URL(fileURLWithPath: voucherBinary)
      process.arguments = ["--home", till.path, "serve", "--socket", socket]
      process.environment = ProcessInfo.processInfo.environment.merging([
        "VOUCHER_REGISTRY": office.uri
      ]) { $1 }
      process.standardOutput = FileHandle.nullDevice
      process.standardError = FileHandle.nullDevice
      try process.run()
      defer {
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
      }
      let deadline = Date().addingTimeInterval(10)
      while !FileManager.default.fileExists(atPath: socket), Date() < deadline { usleep(10_000) }
      let client = try SocketClient(path: socket)
      defer { client.close() }
      func status() -> String? {
        client.send(request(["id": 1, "op": "verify", "code": code]))
        return client.lines(1).first.flatMap(decode)?["status"]?.string
      }
      #expect(status() == "valid")
      #expect(office.run("campaign", "set", "summer", "--ends", "2020-01-31").status == 0)
      // The chain's table is looked at every 0.25 s: the change holds within that.
      usleep(300_000)
      #expect(status() == "expired")
      #expect(office.run("campaign", "set", "summer", "--no-end").status == 0)
      usleep(300_000)
      #expect(status() == "valid")
    }
  }
#endif
