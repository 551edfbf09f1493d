import Foundation
import Synchronization
import Testing
import VoucherTestSupport

#if canImport(Glibc)
  import Glibc
#endif

struct TestFailure: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

/// A JSON request line.
func request(_ fields: [String: Any]) -> String {
  String(
    decoding: try! JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]),
    as: UTF8.self) + "\n"
}

func decode(_ line: String) -> JSONValue? {
  try? JSONDecoder().decode(JSONValue.self, from: Data(line.utf8))
}

/// Starts `voucher serve --socket` in a home; answers the process.
func startServer(_ home: Home, socket: String) throws -> Process {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: voucherBinary)
  process.arguments = ["--home", home.path, "serve", "--socket", socket]
  process.standardOutput = FileHandle.nullDevice
  // Kept in the home, so that a failed test can say what the server said.
  let errors = home.path + "/serve-\(UUID().uuidString).err"
  _ = FileManager.default.createFile(atPath: errors, contents: nil)
  process.standardError = FileHandle(forWritingAtPath: errors) ?? FileHandle.nullDevice
  try process.run()
  let deadline = Date().addingTimeInterval(10)
  while !FileManager.default.fileExists(atPath: socket) {
    guard Date() < deadline else { throw TestFailure("the server did not start") }
    usleep(10_000)
  }
  return process
}

/// What the servers started in a home wrote to standard error.
func serverLog(_ home: Home) -> String {
  let files = (try? FileManager.default.contentsOfDirectory(atPath: home.path)) ?? []
  return files.filter { $0.hasPrefix("serve-") && $0.hasSuffix(".err") }.compactMap {
    try? String(contentsOfFile: home.path + "/" + $0, encoding: .utf8)
  }.joined(separator: "\n")
}

/// Redemptions counted from several threads.
final class Tally: Sendable {
  let counts = Mutex<[String: Int]>([:])
  func add(_ code: String) { counts.withLock { $0[code, default: 0] += 1 } }
}

@Suite("voucher serve, end to end")
struct ServeTests {
  @Test("serve says on stderr what it listens on; --socket refuses what looks like a network address")
  func listeningAndAddresses() throws {
    let home = try Home()
    defer { home.remove() }
    let path = home.path + "/till.sock"
    let server = try startServer(home, socket: path)
    defer {
      kill(server.processIdentifier, SIGTERM)
      server.waitUntilExit()
    }
    let deadline = Date().addingTimeInterval(10)
    while !serverLog(home).contains("\n"), Date() < deadline { usleep(10_000) }
    #expect(serverLog(home) == "serving JSON Lines on the Unix socket \(path)\n", "\(serverLog(home).debugDescription)")
    let before = home.snapshot()
    for address in ["localhost:8080", "0.0.0.0:80", "[::1]:8443", "shop.example:443"] {
      let refused = home.run("serve", "--socket", address)
      #expect(refused.status == 64, "\(address)")
      #expect(
        refused.stderrLines == [
          "error: --socket takes a path, and '\(address)' looks like a network address: use --http \(address) for HTTP, or ./\(address) for a socket file of that name"
        ])
    }
    #expect(home.snapshot() == before)
  }

  @Test(
    "stdio: every op, malformed lines, a 10 MB line, every naughty string raw and as each field; end of input ends cleanly"
  )
  func stdio() throws {
    let home = try Home()
    defer { home.remove() }
    let codes = home.run("issue", "--campaign", "summer", "--channel", "flyer", "--count", "10")
      .stdoutLines
    var lines = [
      request(["id": 1, "op": "verify", "code": codes[0], "at": "store"]),
      request([
        "id": 2, "op": "redeem", "code": codes[0], "store": "S12", "terminal": "T3",
        "request": "r-1",
      ]),
      request(["id": 3, "op": "redeem", "code": codes[0], "store": "S12", "request": "r-1"]),
      request(["id": 4, "op": "redeem", "code": codes[0], "store": "S13"]),
      request(["id": 5, "op": "void", "code": codes[0], "reason": "return"]),
      request(["id": 6, "op": "claim", "code": codes[1], "profile": "crm:1"]),
      request(["id": 7, "op": "claim", "code": codes[1], "profile": "crm:2"]),
      request(["id": 8, "op": "history", "code": codes[0]]),
      request(["id": 9, "op": "redeem", "code": codes[2], "online": true]),
      "this is not json\n",
      "{\"id\": 10, \"op\": \"verify\", \"code\": [1, 2]}\n",
      "{\"id\": 11}\n",
      "{\"id\": 12, \"op\": \"redeem\", \"code\": \"\(codes[3])\", \"store\": \"S1\", \"profile\": \"jane@example.com\"}\n",
      "{\"id\": 13, \"op\": \"verify\", \"code\": \"\(codes[3])\"} trailing\n",
      "{\"id\": \"14\", \"op\": \"verify\", \"code\": \"" + String(repeating: "A", count: 10 << 20)
        + "\"}\n",
      request(["id": "fifteen", "op": "verify", "code": codes[3]]),
    ]
    let naughty = try TestData.naughtyStrings()
    for text in naughty {
      lines.append(text + "\n")
      for field in ["code", "store", "terminal", "profile", "request", "reason", "op", "at"] {
        var fields: [String: Any] = ["id": "n", "op": "redeem", "code": codes[4], "store": "S1"]
        if field == "reason" { fields["op"] = "void" }
        fields[field] = text
        lines.append(request(fields))
      }
    }
    let outcome = home.run("serve", "--stdio", stdin: Data(lines.joined().utf8))
    #expect(outcome.status == 0, "\(outcome.stderr.prefix(500))")
    let answers = outcome.stdoutLines.map(decode)
    #expect(answers.count == lines.count)
    #expect(answers.allSatisfy { $0 != nil })
    let statuses = answers.prefix(16).map { $0?["status"]?.string }
    #expect(
      statuses == [
        "valid", "redeemed", "redeemed", "used-up", "voided", "claimed", "claimed-by-other",
        "history", "redeemed",
        "error", "error", "error", "error", "error", "error", "valid",
      ])
    #expect(answers[2]?["replayed"] == .bool(true), "\(String(describing: answers[2]))")
    #expect(
      answers[1]?["id"] == .number(2) && answers[15]?["id"] == .string("fifteen"),
      "\(String(describing: answers[1]))")
    #expect(answers[11]?["error"]?.string?.contains("op") == true)
    #expect(answers[12]?["error"]?.string?.contains("e-mail") == true)
    #expect(answers[14]?["error"]?.string?.contains("longer than") == true)
    #expect(home.run("registry", "check").status == 0)
    // Whatever a naughty field did, codes[4] has at most one live use: every redemption after the
    // first followed a void (naughty reasons that are valid text void it).
    let history = try JSONDecoder().decode(
      [JSONValue].self, from: Data(home.run("history", codes[4], "--format", "json").stdout.utf8))
    let live =
      history.filter { $0["event"]?.string == "redeemed" }.count
      - history.filter { $0["event"]?.string == "voided" }.count
    #expect(live == 0 || live == 1)
  }

  @Test("a request id makes a retry safe across server restarts")
  func retryAcrossRestarts() throws {
    let home = try Home()
    defer { home.remove() }
    let code = home.run("issue", "--campaign", "summer", "--channel", "flyer", "--count", "1")
      .stdoutLines[0]
    let line = request(["id": 1, "op": "redeem", "code": code, "store": "S12", "request": "r-991"])
    let first = home.run("serve", "--stdio", stdin: Data(line.utf8)).stdoutLines.first.flatMap(
      decode)
    let again = home.run("serve", "--stdio", stdin: Data(line.utf8)).stdoutLines.first.flatMap(
      decode)
    #expect(first?["status"]?.string == "redeemed" && first?["replayed"] == .bool(false))
    #expect(
      again?["status"]?.string == "redeemed" && again?["replayed"] == .bool(true)
        && again?["time"] == first?["time"])
    let other = request(["id": 2, "op": "redeem", "code": code, "store": "S12", "request": "r-992"])
    #expect(
      home.run("serve", "--stdio", stdin: Data(other.utf8)).stdoutLines.first.flatMap(decode)?[
        "status"]?.string == "used-up")
  }

  @Test(
    "socket: requests over many connections; a client that disconnects mid-request does not disturb the others"
  )
  func socket() throws {
    let home = try Home()
    defer { home.remove() }
    let codes = home.run("issue", "--campaign", "summer", "--channel", "flyer", "--count", "100")
      .stdoutLines
    let path = home.path + "/till.sock"
    let server = try startServer(home, socket: path)
    let mode =
      try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as! NSNumber
    #expect(mode.intValue == 0o660)
    let rude = try SocketClient(path: path)
    rude.send("{\"id\": 1, \"op\": \"redeem\", \"code\": \"\(codes[0])\", \"sto")
    rude.close()
    let client = try SocketClient(path: path)
    client.send(
      codes[1...20].enumerated().map {
        request(["id": $0.offset, "op": "redeem", "code": $0.element, "store": "S1"])
      }.joined())
    let answers = client.lines(20).compactMap(decode)
    #expect(answers.count == 20 && answers.allSatisfy { $0["status"]?.string == "redeemed" })
    #expect(answers.map { $0["id"] } == (0..<20).map { .number(Double($0)) })
    client.send(request(["id": "v", "op": "verify", "code": codes[0]]))
    #expect(
      client.lines(1).first.flatMap(decode)?["status"]?.string == "valid",
      "the half-sent request was not applied")
    // Another client's verify (answered on its reader's thread) sees every acknowledged redemption,
    // and a verify pipelined behind a redeem on one connection is answered after it, in order.
    let other = try SocketClient(path: path)
    other.send(request(["id": "w", "op": "verify", "code": codes[1]]))
    #expect(other.lines(1).first.flatMap(decode)?["status"]?.string == "used-up")
    other.send(
      request(["id": "r", "op": "redeem", "code": codes[30], "store": "S2"])
        + request(["id": "x", "op": "verify", "code": codes[30]]))
    let pair = other.lines(2).compactMap(decode)
    #expect(
      pair.map { $0["id"]?.string } == ["r", "x"]
        && pair.map { $0["status"]?.string } == ["redeemed", "used-up"])
    kill(server.processIdentifier, SIGTERM)
    server.waitUntilExit()
    #expect(server.terminationStatus == 0, "\(serverLog(home).suffix(3000))")
    #expect(!FileManager.default.fileExists(atPath: path))
  }

  @Test(
    "SIGTERM with requests in flight: each is either answered and durable, or not answered and not applied"
  )
  func sigterm() throws {
    let home = try Home()
    defer { home.remove() }
    let codes = home.run("issue", "--campaign", "summer", "--channel", "flyer", "--count", "3000")
      .stdoutLines
    let path = home.path + "/till.sock"
    let server = try startServer(home, socket: path)
    let client = try SocketClient(path: path)
    client.send(
      codes.enumerated().map {
        request(["id": $0.offset, "op": "redeem", "code": $0.element, "store": "S1"])
      }.joined())
    usleep(20_000)
    kill(server.processIdentifier, SIGTERM)
    let answers = client.lines(codes.count).compactMap(decode)
    server.waitUntilExit()
    #expect(server.terminationStatus == 0)
    let answered = Set(
      answers.filter { $0["status"]?.string == "redeemed" }.compactMap { $0["code"]?.string })
    #expect(answered.count == answers.count)
    let verified = try JSONDecoder().decode(
      [JSONValue].self,
      from: Data(home.run(arguments: ["verify", "--format", "json"] + codes).stdout.utf8))
    let applied = Set(
      verified.filter { $0["status"]?.string == "used-up" }.compactMap { $0["code"]?.string })
    #expect(applied == answered, "answered \(answered.count), applied \(applied.count)")
    #expect(home.run("registry", "check").status == 0)
  }

  @Test("finished clients are closed: 300 short sessions leave no descriptors behind")
  func closesFinishedClients() throws {
    let home = try Home()
    defer { home.remove() }
    let code = home.run("issue", "--campaign", "summer", "--channel", "flyer", "--count", "1")
      .stdoutLines[0]
    let path = home.path + "/till.sock"
    let server = try startServer(home, socket: path)
    defer {
      kill(server.processIdentifier, SIGTERM)
      server.waitUntilExit()
    }
    for index in 0..<300 {
      let client = try SocketClient(path: path)
      client.send(
        request(["id": index, "op": index % 2 == 0 ? "verify" : "history", "code": code]))
      #expect(client.lines(1).count == 1)
      client.close()
    }
    usleep(200_000)
    let open = try FileManager.default.contentsOfDirectory(
      atPath: "/proc/\(server.processIdentifier)/fd"
    ).count
    #expect(open < 64, "the server holds \(open) descriptors")
    let last = try SocketClient(path: path)
    last.send(request(["id": "last", "op": "verify", "code": code]))
    #expect(last.lines(1).first.flatMap(decode)?["status"]?.string == "valid")
  }

  @Test("a client that reads its answers late gets them all, and stalls nobody meanwhile")
  func slowReader() throws {
    let home = try Home()
    defer { home.remove() }
    let codes = home.run("issue", "--campaign", "summer", "--channel", "flyer", "--count", "3001")
      .stdoutLines
    let path = home.path + "/till.sock"
    let server = try startServer(home, socket: path)
    defer {
      kill(server.processIdentifier, SIGTERM)
      server.waitUntilExit()
    }
    let slow = try SocketClient(path: path)
    slow.send(
      codes.prefix(3000).map { request(["id": $0, "op": "redeem", "code": $0, "store": "S1"]) }
        .joined())
    usleep(300_000)
    let other = try SocketClient(path: path)
    let started = Date()
    other.send(request(["id": "o", "op": "redeem", "code": codes[3000], "store": "S2"]))
    #expect(other.lines(1).first.flatMap(decode)?["status"]?.string == "redeemed")
    // The slow client reads nothing for 3 s: an answer within 2 s did not wait for it (the margin
    // is wide so that a sanitizer's slowdown does not matter).
    #expect(Date().timeIntervalSince(started) < 2, "another client waited for the slow one")
    usleep(UInt32(max(0, 3 - Date().timeIntervalSince(started)) * 1_000_000))
    let answers = slow.lines(3000).compactMap(decode)
    #expect(answers.count == 3000 && answers.allSatisfy { $0["status"]?.string == "redeemed" })
  }

  @Test("8 socket clients and 8 CLI processes redeem overlapping codes: each exactly once")
  func mixed() throws {
    let home = try Home()
    defer { home.remove() }
    let codes = home.run("issue", "--campaign", "summer", "--channel", "flyer", "--count", "400")
      .stdoutLines
    let path = home.path + "/till.sock"
    let server = try startServer(home, socket: path)
    defer {
      kill(server.processIdentifier, SIGTERM)
      server.waitUntilExit()
    }
    let tally = Tally()
    let group = DispatchGroup()
    for worker in 0..<8 {
      group.enter()
      DispatchQueue(label: "client-\(worker)").async {
        defer { group.leave() }
        var random = SeededGenerator(seed: UInt64(100 + worker))
        guard let client = try? SocketClient(path: path) else { return }
        let mine = codes.shuffled(using: &random)
        client.send(
          mine.map { request(["id": $0, "op": "redeem", "code": $0, "store": "W\(worker)"]) }
            .joined())
        for answer in client.lines(mine.count).compactMap(decode)
        where answer["status"]?.string == "redeemed" {
          tally.add(answer["code"]!.string!)
        }
      }
    }
    var processes: [(Process, URL)] = []
    for worker in 0..<8 {
      var random = SeededGenerator(seed: UInt64(200 + worker))
      let output = FileManager.default.temporaryDirectory.appendingPathComponent(
        "mixed-\(UUID().uuidString)")
      _ = FileManager.default.createFile(atPath: output.path, contents: nil)
      let process = Process()
      process.executableURL = URL(fileURLWithPath: voucherBinary)
      process.arguments = ["--home", home.path, "redeem", "-", "--store", "C\(worker)"]
      let stdin = Pipe()
      process.standardInput = stdin
      process.standardOutput = try FileHandle(forWritingTo: output)
      process.standardError = FileHandle.nullDevice
      try process.run()
      stdin.fileHandleForWriting.write(
        Data((codes.shuffled(using: &random).joined(separator: "\n") + "\n").utf8))
      try? stdin.fileHandleForWriting.close()
      processes.append((process, output))
    }
    for (process, output) in processes {
      process.waitUntilExit()
      for line in try String(contentsOf: output, encoding: .utf8).split(separator: "\n") {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        if fields.count > 1 && fields[1] == "redeemed" { tally.add(String(fields[0])) }
      }
    }
    group.wait()
    let counts = tally.counts.withLock { $0 }
    #expect(
      counts.count == codes.count && counts.values.allSatisfy { $0 == 1 },
      "\(counts.values.filter { $0 != 1 }.count) codes not redeemed exactly once")
    #expect(home.run("registry", "check").status == 0)
  }

  @Test("kill -9 of the server under load loses no acknowledged redemption")
  func killedServer() throws {
    let home = try Home()
    defer { home.remove() }
    let codes = home.run("issue", "--campaign", "summer", "--channel", "flyer", "--count", "5000")
      .stdoutLines
    var acknowledged = Set<String>()
    for round in 0..<5 {
      let path = home.path + "/till-\(round).sock"
      let server = try startServer(home, socket: path)
      let client = try SocketClient(path: path)
      let batch = Array(codes[(round * 1000)..<((round + 1) * 1000)])
      client.send(
        batch.map { request(["id": $0, "op": "redeem", "code": $0, "store": "S\(round)"]) }.joined()
      )
      // Kill it once it is answering, at a different moment each round.
      let first = client.lines(1)
      usleep(UInt32(round * 4_000))
      kill(server.processIdentifier, SIGKILL)
      server.waitUntilExit()
      for answer in (first + client.lines(batch.count)).compactMap(decode)
      where answer["status"]?.string == "redeemed" {
        acknowledged.insert(answer["code"]!.string!)
      }
    }
    #expect(home.run("registry", "check").status == 0)
    #expect(!acknowledged.isEmpty, "no redemption was acknowledged before the kills")
    let verified = try JSONDecoder().decode(
      [JSONValue].self,
      from: Data(
        home.run(arguments: ["verify", "--format", "json", "--"] + Array(acknowledged)).stdout.utf8)
    )
    #expect(
      verified.count == acknowledged.count
        && verified.allSatisfy { $0["status"]?.string == "used-up" })
  }
}
