import Foundation
import Testing
import VoucherTestSupport

#if canImport(Glibc)
  import Glibc
#endif

@Suite("serve --http, end to end with curl", .enabled(if: curlPath != nil, "curl is not installed"))
struct HTTPTests {
  @Test(
    "every route with every scope: till (store-bound), web, crm; 401 without a valid token, 403 outside its scope"
  )
  func routesAndScopes() throws {
    let home = try Home()
    defer { home.remove() }
    let codes = home.run("issue", "--campaign", "summer", "--channel", "flyer", "--count", "20")
      .stdoutLines
    let till = try addToken(home, "till-s12", "till", store: "S12")
    let web = try addToken(home, "webshop", "web")
    let crm = try addToken(home, "crm", "crm")
    let server = try RunningHTTPServer(home)

    // No token: health and the document only.
    #expect(try call(server, "GET", "/v1/health").json?["status"]?.string == "ok")
    let document = try call(server, "GET", "/v1/openapi.json")
    #expect(document.status == 200 && document.json?["openapi"]?.string == "3.1.0")
    for token in [nil, "vt_wrong", "", till + "x"] {
      let answer = try call(server, "GET", "/v1/codes/\(codes[0])", token: token)
      #expect(answer.status == 401, "\(String(describing: token))")
      #expect(answer.header("Content-Type") == "application/problem+json")
      #expect(answer.json?["detail"] == nil, "401 says nothing more: \(answer.body)")
      #expect(answer.header("WWW-Authenticate")?.hasPrefix("Bearer") == true)
    }

    // Verify: till and web; not crm. The fields are the CLI's.
    let verified = try call(server, "GET", "/v1/codes/\(codes[0])", token: till)
    let cli = try #require(
      firstItem(decode(home.run("verify", codes[0], "--format", "json").stdout)))
    #expect(verified.status == 200 && verified.json?["status"]?.string == "valid")
    #expect(verified.header("Content-Type") == "application/json")
    for field in ["code", "campaign", "channel", "serial", "title", "status", "usesLeft"] {
      #expect(verified.json?[field] == cli[field] && cli[field] != nil, "\(field)")
    }
    #expect(try call(server, "GET", "/v1/codes/\(codes[0])?at=online", token: web).status == 200)
    #expect(try call(server, "GET", "/v1/codes/\(codes[0])", token: crm).status == 403)

    // Redeem: a till in its own store only; a web token online only.
    let redeemed = try call(
      server, "POST", "/v1/codes/\(codes[0])/redeem", token: till, body: #"{"terminal":"T3"}"#)
    #expect(redeemed.status == 200 && redeemed.json?["status"]?.string == "redeemed")
    #expect(redeemed.json?["store"]?.string == "S12" && redeemed.json?["terminal"]?.string == "T3")
    let again = try call(server, "POST", "/v1/codes/\(codes[0])/redeem", token: till, body: "{}")
    #expect(again.status == 200 && again.json?["status"]?.string == "used-up")
    #expect(
      try call(
        server, "POST", "/v1/codes/\(codes[1])/redeem", token: till, body: #"{"store":"S13"}"#
      )
      .status == 403)
    #expect(
      try call(
        server, "POST", "/v1/codes/\(codes[1])/redeem", token: till, body: #"{"online":true}"#
      )
      .status == 403)
    let online = try call(server, "POST", "/v1/codes/\(codes[1])/redeem", token: web, body: "{}")
    #expect(
      online.json?["status"]?.string == "redeemed" && online.json?["venue"]?.string == "online")
    #expect(
      try call(server, "POST", "/v1/codes/\(codes[2])/redeem", token: web, body: #"{"store":"S1"}"#)
        .status == 403)
    #expect(
      try call(server, "POST", "/v1/codes/\(codes[2])/redeem", token: crm, body: "{}").status == 403
    )

    // Void and history: tills only.
    let voided = try call(
      server, "POST", "/v1/codes/\(codes[0])/void", token: till, body: #"{"reason":"return"}"#)
    #expect(voided.json?["status"]?.string == "voided")
    #expect(
      try call(server, "POST", "/v1/codes/\(codes[0])/void", token: web, body: "{}").status == 403)
    // A till voids only its own store's redemptions: not another store's, not an online one.
    let otherTill = try addToken(home, "till-s13", "till", store: "S13")
    _ = try call(server, "POST", "/v1/codes/\(codes[7])/redeem", token: otherTill, body: "{}")
    let foreignVoid = try call(
      server, "POST", "/v1/codes/\(codes[7])/void", token: till, body: "{}")
    #expect(foreignVoid.status == 403, "\(foreignVoid.body)")
    #expect(
      try call(server, "POST", "/v1/codes/\(codes[1])/void", token: till, body: "{}").status == 403)
    let ownVoid = try call(
      server, "POST", "/v1/codes/\(codes[7])/void", token: otherTill, body: "{}")
    #expect(ownVoid.json?["status"]?.string == "voided")
    let history = try call(server, "GET", "/v1/codes/\(codes[0])/history", token: till)
    #expect(history.json?["status"]?.string == "history")
    if case .array(let events)? = history.json?["events"] {
      #expect(events.map { $0["event"]?.string } == ["redeemed", "voided"])
    } else {
      Issue.record("no events: \(history.body)")
    }
    #expect(try call(server, "GET", "/v1/codes/\(codes[0])/history", token: web).status == 403)

    // Claim: web only.
    let claimed = try call(
      server, "POST", "/v1/codes/\(codes[3])/claim", token: web, body: #"{"profile":"crm:42"}"#)
    #expect(claimed.json?["status"]?.string == "claimed")
    #expect(
      try call(
        server, "POST", "/v1/codes/\(codes[3])/claim", token: till, body: #"{"profile":"crm:1"}"#
      )
      .status == 403)

    // Report and events: crm only.
    let report = try call(server, "GET", "/v1/report?campaign=summer&by=store", token: crm)
    #expect(report.status == 200 && report.header("Content-Type") == "application/json")
    #expect(
      report.body
        == home.run("report", "--campaign", "summer", "--by", "store", "--format", "json").stdout)
    let weekly = try call(server, "GET", "/v1/report?by=week&format=csv", token: crm)
    #expect(
      weekly.status == 200
        && weekly.body == home.run("report", "--by", "week", "--format", "csv").stdout)
    for (format, type) in [("csv", "text/csv"), ("svg", "image/svg+xml"), ("html", "text/html")] {
      let answer = try call(server, "GET", "/v1/report?format=\(format)", token: crm)
      #expect(answer.status == 200 && answer.header("Content-Type")?.hasPrefix(type) == true)
    }
    #expect(try call(server, "GET", "/v1/report?format=pdf", token: crm).status == 400)
    #expect(try call(server, "GET", "/v1/report?since=yesterday", token: crm).status == 400)
    #expect(try call(server, "GET", "/v1/report?colour=red", token: crm).status == 400)
    #expect(try call(server, "GET", "/v1/report?campaign=winter", token: crm).status == 404)
    #expect(try call(server, "GET", "/v1/report?campaign=Bad%20Id", token: crm).status == 400)
    #expect(try call(server, "GET", "/v1/report", token: till).status == 403)
    let events = try call(server, "GET", "/v1/events", token: crm)
    let lines = events.body.split(separator: "\n").compactMap { decode(String($0)) }
    #expect(
      events.status == 200
        && lines.map { $0["event"]?.string } == [
          "redeemed", "redeemed", "voided", "redeemed", "voided", "claimed",
        ])
    #expect(events.body == home.run("export", "--format", "jsonl").stdout)
    let cursor = try #require(events.header("Voucher-Cursor"))
    let first = try #require(lines.first?["id"])
    let page = try call(server, "GET", "/v1/events?limit=1", token: crm)
    #expect(
      page.body.split(separator: "\n").count == 1
        && page.header("Voucher-Cursor").map { JSONValue.number(Double($0)!) } == first)
    let rest = try call(
      server, "GET", "/v1/events?after=\(page.header("Voucher-Cursor")!)", token: crm)
    #expect(rest.body.split(separator: "\n").count == 5)
    #expect(try call(server, "GET", "/v1/events?after=\(cursor)", token: crm).body.isEmpty)
    #expect(try call(server, "GET", "/v1/events?after=-1", token: crm).status == 400)
    #expect(try call(server, "GET", "/v1/events", token: web).status == 403)

    // Long polling: a wait with nothing new ends after the wait; one that sees a new event ends
    // when it comes.
    let started = Date()
    let empty = try call(server, "GET", "/v1/events?after=\(cursor)&wait=1", token: crm)
    #expect(empty.status == 200 && empty.body.isEmpty && Date().timeIntervalSince(started) >= 0.9)
    let waiter = Process()
    waiter.executableURL = URL(fileURLWithPath: curlPath!)
    let polled = home.path + "/polled"
    waiter.arguments = [
      "-s", "-o", polled, "-H", "Authorization: Bearer \(crm)",
      server.url + "/v1/events?after=\(cursor)&wait=20",
    ]
    try waiter.run()
    usleep(300_000)
    let pollStart = Date()
    _ = try call(server, "POST", "/v1/codes/\(codes[5])/redeem", token: till, body: "{}")
    waiter.waitUntilExit()
    #expect(Date().timeIntervalSince(pollStart) < 5)
    let news = (try? String(contentsOfFile: polled, encoding: .utf8)) ?? ""
    #expect(news.split(separator: "\n").count == 1 && news.contains(codes[5]))

    // Routes that are none, and methods that are not theirs.
    #expect(try call(server, "GET", "/v2/health").status == 404)
    let wrongMethod = try call(server, "POST", "/v1/health", body: "{}")
    #expect(wrongMethod.status == 405 && wrongMethod.header("Allow") == "GET")
    #expect(try call(server, "DELETE", "/v1/codes/\(codes[0])", token: till).status == 405)

    // Bad requests: problem+json with the reason.
    let badBody = try call(server, "POST", "/v1/codes/\(codes[6])/redeem", token: till, body: "[1]")
    #expect(badBody.status == 400 && badBody.header("Content-Type") == "application/problem+json")
    #expect(
      badBody.json?["status"] == .number(400) && badBody.json?["title"]?.string == "Bad Request")
    let unknown = try call(
      server, "POST", "/v1/codes/\(codes[6])/redeem", token: till, body: #"{"op":"void"}"#)
    #expect(unknown.status == 400 && unknown.json?["detail"]?.string?.contains("'op'") == true)
    let email = try call(
      server, "POST", "/v1/codes/\(codes[6])/redeem", token: till,
      body: #"{"profile":"jane@example.com"}"#)
    #expect(email.status == 400 && email.json?["detail"]?.string?.contains("e-mail") == true)
    let form = try curl([
      "-X", "POST", server.url + "/v1/codes/\(codes[6])/redeem", "-H",
      "Authorization: Bearer \(till)",
      "-d", "store=S12",
    ])
    #expect(form.status == 415)
    #expect(try call(server, "GET", "/v1/codes/%ZZ", token: till).status == 400)
    #expect(try call(server, "GET", "/v1/codes/\(codes[6])?verbose=1", token: till).status == 400)
    #expect(home.run("verify", codes[6]).status == 0, "nothing was redeemed by a bad request")
    #expect(server.stop() == 0, "\(server.log)")
  }

  @Test(
    "'did you mean' for till tokens only; wrong codes are rate-limited per token and per address (429, Retry-After)"
  )
  func wrongCodes() throws {
    let home = try Home()
    defer { home.remove() }
    let code = home.run("issue", "--campaign", "summer", "--channel", "flyer", "--count", "1")
      .stdoutLines[0]
    let till = try addToken(home, "till", "till", store: "S1")
    let web = try addToken(home, "web", "web")
    let web2 = try addToken(home, "web2", "web")
    // One wrong code regained a minute: the buckets do not refill during the test, however
    // slowly it runs (under a sanitizer).
    let server = try RunningHTTPServer(home, ["--wrong-codes-per-minute", "1"])
    // A swapped pair of symbols: mistyped, with a suggestion for the till only.
    var chars = Array(code)
    let swap = chars[5] != chars[6] ? 5 : 6
    chars.swapAt(swap, swap + 1)
    let typo = String(chars)
    let forTill = try call(server, "GET", "/v1/codes/\(typo)", token: till)
    let forWeb = try call(server, "GET", "/v1/codes/\(typo)", token: web)
    let cli = try #require(firstItem(decode(home.run("verify", typo, "--format", "json").stdout)))
    try #require(forTill.json?["status"]?.string == "mistyped", "\(forTill.body)")
    #expect(
      forTill.json?["suggestion"] == cli["suggestion"] && forTill.json?["message"] == cli["message"]
    )
    #expect(forWeb.json?["status"]?.string == "mistyped")
    #expect(
      forWeb.json?["suggestion"] == nil && !forWeb.body.contains("did you mean"), "\(forWeb.body)")
    // Forged codes from one web token: 20 answered (the burst, counting the mistyped one), then
    // 429 with Retry-After.
    var statuses: [Int] = []
    for n in 0..<25 {
      let forged = "0" + String(String(n, radix: 32).uppercased().reversed()) + "AAAAAAAAAAAAA"
      statuses.append(try call(server, "GET", "/v1/codes/\(forged)", token: web).status)
    }
    #expect(statuses.prefix(18).allSatisfy { $0 == 200 }, "\(statuses)")
    #expect(statuses.suffix(3).allSatisfy { $0 == 429 }, "\(statuses)")
    let limited = try call(server, "GET", "/v1/codes/\(code)", token: web)
    #expect(limited.status == 429 && Int(limited.header("Retry-After") ?? "") ?? 0 >= 1)
    // The same address with another token is limited too (the per-address bucket).
    #expect(try call(server, "GET", "/v1/codes/\(code)", token: web2).status == 429)
    #expect(server.stop() == 0, "\(server.log)")
  }

  @Test(
    "a revoked token is refused by the running server at its next request; a new one works without a restart"
  )
  func revocation() throws {
    let home = try Home()
    defer { home.remove() }
    let code = home.run("issue", "--campaign", "summer", "--channel", "flyer", "--count", "1")
      .stdoutLines[0]
    let till = try addToken(home, "till", "till", store: "S1")
    let server = try RunningHTTPServer(home)
    #expect(try call(server, "GET", "/v1/codes/\(code)", token: till).status == 200)
    let mode =
      try FileManager.default.attributesOfItem(atPath: home.path + "/tokens")[.posixPermissions]
      as! NSNumber
    #expect(mode.intValue == 0o600)
    #expect(
      !((try? String(contentsOfFile: home.path + "/tokens", encoding: .utf8)) ?? "").contains(till))
    #expect(home.run("tokens", "revoke", "till").status == 0)
    #expect(try call(server, "GET", "/v1/codes/\(code)", token: till).status == 401)
    let next = try addToken(home, "till2", "till", store: "S1")
    #expect(try call(server, "GET", "/v1/codes/\(code)", token: next).status == 200)
    // A token file made readable by others leaves no token valid until it is mended.
    chmod(home.path + "/tokens", 0o644)
    #expect(try call(server, "GET", "/v1/codes/\(code)", token: next).status == 401)
    chmod(home.path + "/tokens", 0o600)
    #expect(try call(server, "GET", "/v1/codes/\(code)", token: next).status == 200)
    #expect(server.stop() == 0, "\(server.log)")
    #expect(server.log.contains("mode 644"))
    #expect(!server.log.contains(next) && !server.log.contains(till))
  }

  @Test(
    "a revocation reaches a keep-alive connection that used the token: its next request on the same connection is refused",
    .enabled(if: python3Path != nil, "python3 is not installed")
  )
  func revocationOnOneConnection() throws {
    let home = try Home()
    defer { home.remove() }
    let code = home.run("issue", "--campaign", "summer", "--channel", "flyer", "--count", "1")
      .stdoutLines[0]
    let till = try addToken(home, "till", "till", store: "S1")
    let server = try RunningHTTPServer(home)
    // One connection: two requests, the revocation, then two more (the connection's own port
    // printed each time shows that it stayed the same connection).
    let script = #"""
      import http.client, subprocess, sys
      port, token, code, voucher, home = sys.argv[1:6]
      conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=30)
      def get():
          conn.request("GET", "/v1/codes/" + code, headers={"Authorization": "Bearer " + token})
          response = conn.getresponse()
          response.read()
          print(response.status, conn.sock.getsockname()[1])
      get(); get()
      subprocess.run([voucher, "--home", home, "tokens", "revoke", "till"], check=True,
                     stdout=subprocess.DEVNULL)
      get(); get()
      """#
    let outcome = try python(
      script, [String(server.port), till, code, voucherBinary, home.path])
    let lines = outcome.stdoutLines.map { $0.split(separator: " ") }
    try #require(lines.count == 4, "\(outcome.stderr)")
    #expect(lines.map { $0[0] } == ["200", "200", "401", "401"])
    #expect(Set(lines.map { $0[1] }).count == 1, "the requests did not share one connection")
    #expect(server.stop() == 0, "\(server.log)")
  }

  @Test(
    "Idempotency-Key: the same key and body get the original answer, also after a restart; another body 422"
  )
  func idempotency() throws {
    let home = try Home()
    defer { home.remove() }
    let codes = home.run("issue", "--campaign", "summer", "--channel", "flyer", "--count", "2")
      .stdoutLines
    let till = try addToken(home, "till", "till", store: "S1")
    let other = try addToken(home, "till-b", "till", store: "S1")
    var server = try RunningHTTPServer(home)
    let body = #"{"terminal":"T1"}"#
    let key = "Idempotency-Key: sale-0001"
    let first = try call(
      server, "POST", "/v1/codes/\(codes[0])/redeem", token: till, body: body, headers: [key])
    #expect(first.json?["status"]?.string == "redeemed" && first.json?["replayed"] == .bool(false))
    let retry = try call(
      server, "POST", "/v1/codes/\(codes[0])/redeem", token: till, body: body, headers: [key])
    #expect(retry.json?["status"]?.string == "redeemed" && retry.json?["replayed"] == .bool(true))
    #expect(retry.json?["time"] == first.json?["time"])
    let changed = try call(
      server, "POST", "/v1/codes/\(codes[0])/redeem", token: till, body: #"{"terminal":"T2"}"#,
      headers: [key])
    #expect(changed.status == 422 && changed.header("Content-Type") == "application/problem+json")
    // Keys are the token's own: another till's same key is a new request (here: used-up).
    let foreign = try call(
      server, "POST", "/v1/codes/\(codes[0])/redeem", token: other, body: body, headers: [key])
    #expect(foreign.json?["status"]?.string == "used-up")
    #expect(
      try call(
        server, "POST", "/v1/codes/\(codes[1])/redeem", token: till, body: #"{"request":"r1"}"#,
        headers: [key]
      )
      .status == 400)
    #expect(
      try call(server, "GET", "/v1/codes/\(codes[1])", token: till, headers: [key]).status == 400)
    #expect(server.stop() == 0, "\(server.log)")
    server = try RunningHTTPServer(home)
    let afterRestart = try call(
      server, "POST", "/v1/codes/\(codes[0])/redeem", token: till, body: body, headers: [key])
    #expect(
      afterRestart.json?["status"]?.string == "redeemed"
        && afterRestart.json?["replayed"] == .bool(true))
    #expect(afterRestart.json?["time"] == first.json?["time"])
    #expect(
      try call(
        server, "POST", "/v1/codes/\(codes[0])/redeem", token: till, body: "{}", headers: [key]
      ).status == 422)
    #expect(server.stop() == 0, "\(server.log)")
  }
}

/// The first element of a JSON array.
func firstItem(_ value: JSONValue?) -> JSONValue? {
  if case .array(let items)? = value { return items.first }
  return nil
}

@Suite("serve --http: bad options and files")
struct HTTPOptionTests {
  @Test(
    "a bad address, an address in use, bad limits and a token file others can read: one error line, a documented status, no server"
  )
  func badOptions() throws {
    let home = try Home()
    defer { home.remove() }
    func refused(_ arguments: [String], _ status: Int32, _ words: String) {
      let outcome = home.run(arguments: ["serve"] + arguments, timeout: 20)
      #expect(outcome.status == status, "\(arguments): \(outcome.stderr)")
      #expect(
        outcome.stderr.hasPrefix("error: ") && outcome.stderr.contains(words), "\(outcome.stderr)")
      #expect(outcome.stderr.split(separator: "\n").count == 1, "\(outcome.stderr)")
    }
    refused(["--http", "nonsense"], 64, "HOST:PORT")
    refused(["--http", "127.0.0.1:99999"], 64, "HOST:PORT")
    refused(["--http", "127.0.0.1:0", "--request-timeout", "soon"], 64, "--request-timeout")
    refused(
      ["--socket", home.path + "/s.sock", "--idle-timeout", "5"], 64,
      "--idle-timeout goes with --http")
    refused(["--stdio", "--socket", home.path + "/s.sock"], 64, "--stdio")
    refused([], 64, "--http")
    let server = try RunningHTTPServer(home)
    refused(["--http", server.address], 73, server.address)
    #expect(server.stop() == 0, "\(server.log)")
    _ = try addToken(home, "web", "web")
    chmod(home.path + "/tokens", 0o644)
    refused(["--http", "127.0.0.1:0"], 78, "0600")
  }
}

@Suite("serve --http beside --stdio", .enabled(if: curlPath != nil, "curl is not installed"))
struct HTTPBesideStdioTests {
  @Test("--stdio and --http serve together on one engine; the end of standard input ends both")
  func besideStdio() throws {
    let home = try Home()
    defer { home.remove() }
    let code = home.run("issue", "--campaign", "summer", "--channel", "flyer", "--count", "1")
      .stdoutLines[0]
    let till = try addToken(home, "till", "till", store: "S1")
    let errors = home.path + "/serve.err"
    _ = FileManager.default.createFile(atPath: errors, contents: nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: voucherBinary)
    process.arguments = ["--home", home.path, "serve", "--stdio", "--http", "127.0.0.1:0"]
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errors))
    try process.run()
    defer {
      if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
    var address = ""
    let deadline = Date().addingTimeInterval(20)
    while address.isEmpty && Date() < deadline {
      let text = (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
      if let range = text.range(of: #"127\.0\.0\.1:[0-9]+"#, options: .regularExpression) {
        address = String(text[range])
      }
      usleep(20_000)
    }
    try #require(!address.isEmpty)
    let redeemed = try curl([
      "-X", "POST", "-H", "Authorization: Bearer \(till)", "-H", "Content-Type: application/json",
      "--data-binary", "{}", "http://\(address)/v1/codes/\(code)/redeem",
    ])
    #expect(redeemed.json?["status"]?.string == "redeemed")
    input.fileHandleForWriting.write(Data(request(["id": 1, "op": "verify", "code": code]).utf8))
    try input.fileHandleForWriting.close()
    let answer = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    #expect(decode(answer)?["status"]?.string == "used-up")
    let watchdog = Watchdog(process.processIdentifier, seconds: 20)
    process.waitUntilExit()
    #expect(!watchdog.cancel(), "the server did not end with its standard input")
    #expect(process.terminationStatus == 0)
  }
}
