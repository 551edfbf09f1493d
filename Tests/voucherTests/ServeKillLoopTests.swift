import Foundation
import Synchronization
import Testing
import VoucherTestSupport

#if canImport(Glibc)
  import Glibc
#endif

/// Every answer a client was given, per code: what the servers acknowledged.
final class AnswerLog: Sendable {
  let redeemed = Mutex<[String: Int]>([:])
  let answers = Mutex(0)

  /// Records whole answer lines (a line cut by the kill is not an answer).
  func record(_ lines: [String]) {
    let parsed = lines.compactMap(decode)
    answers.withLock { $0 += parsed.count }
    for answer in parsed
    where answer["status"]?.string == "redeemed" && answer["replayed"] != .bool(true) {
      if let code = answer["code"]?.string { redeemed.withLock { $0[code, default: 0] += 1 } }
    }
  }
}

@Suite("kill -9 of serve at random moments", .serialized)
struct ServeKillLoopTests {
  /// Redeems pipelined over `serve --stdio` and over `serve --socket` (three clients), killing
  /// the server with SIGKILL at seeded random moments, for a bounded time (`VOUCHER_SOAK_SECONDS`
  /// for a soak). Single-use codes and codes of a three-use campaign are mixed, fresh and spent.
  @Test(
    "serve killed with SIGKILL at random moments: nothing acknowledged lost, nothing counted twice, check passes"
  )
  func serveKillLoop() throws {
    let home = try Home()
    defer { home.remove() }
    #expect(
      home.run(
        "campaign", "add", "triple", "--channels", "flyer", "--uses", "3", "--capacity", "100000"
      )
      .status == 0)
    let duration = Soak.duration(default: 12)
    var random = SeededGenerator(seed: Soak.seed(default: 7))
    let log = AnswerLog()
    var single: [String] = []
    var triple: [String] = []
    var kills = 0
    var rounds = 0
    var checks = 0
    let started = Date()
    while Date().timeIntervalSince(started) < duration || kills < 20 {
      guard rounds < 100_000 else { break }
      defer { rounds += 1 }
      // Fresh codes every round, plus some already acknowledged ones.
      if single.count < (rounds + 1) * 600 {
        single +=
          home.run(
            "issue", "--campaign", "summer", "--channel", "flyer", "--count", "3000"
          ).stdoutLines
        triple +=
          home.run(
            "issue", "--campaign", "triple", "--channel", "flyer", "--count", "600"
          ).stdoutLines
      }
      let fresh = single[(rounds * 600)..<((rounds + 1) * 600)]
      let spent = single.prefix(rounds * 600).shuffled(using: &random).prefix(60)
      let threes = triple.shuffled(using: &random).prefix(120)
      let batch = (Array(fresh) + spent + threes + threes).shuffled(using: &random)
      let delay = UInt32.random(in: 1_000...80_000, using: &random)
      let killed: Bool
      if rounds % 2 == 0 {
        // Every other stdio round counts the delay from the first answer, so that a loaded
        // machine (where starting the process eats the whole delay) still acknowledges some.
        killed = try stdioRound(
          home, batch, delay: delay, afterFirstAnswer: rounds % 4 == 2, log: log)
      } else {
        killed = try socketRound(home, batch, round: rounds, delay: delay, log: log)
      }
      if killed { kills += 1 }
      // Now and then a check between kills: a torn tail is only a warning.
      if rounds % 10 == 9 {
        let check = home.run("registry", "check")
        #expect(check.status == 0, "round \(rounds): \(check.stderr)")
        checks += 1
      }
    }
    let redeemed = log.redeemed.withLock { $0 }
    let singles = Set(single)
    let check = home.run("registry", "check")
    #expect(check.status == 0, "\(check.stderr)")
    #expect(
      check.stderrLines.allSatisfy { $0.hasPrefix("warning: the journal has a torn tail") },
      "\(check.stderr)")
    // Nothing counted twice: a single-use code acknowledged at most once, a three-use one at most
    // three times.
    for (code, count) in redeemed {
      #expect(count <= (singles.contains(code) ? 1 : 3), "\(code) acknowledged \(count) times")
    }
    // Nothing acknowledged lost: the registry shows at least as many uses as were acknowledged.
    let codes = Array(redeemed.keys)
    var index = 0
    while index < codes.count {
      let chunk = Array(codes[index..<min(index + 2000, codes.count)])
      index += chunk.count
      let verified = try JSONDecoder().decode(
        [JSONValue].self,
        from: Data(home.run(arguments: ["verify", "--format", "json", "--"] + chunk).stdout.utf8))
      #expect(verified.count == chunk.count)
      for row in verified {
        guard let code = row["code"]?.string, let acknowledged = redeemed[code] else { continue }
        if singles.contains(code) {
          #expect(row["status"]?.string == "used-up", "\(code) lost its acknowledged redemption")
        } else if case .number(let left)? = row["usesLeft"] {
          #expect(
            Int(left) <= 3 - acknowledged,
            "\(code): \(left) uses left, \(acknowledged) acknowledged")
        } else {
          #expect(row["status"]?.string == "used-up", "\(code): \(row)")
        }
      }
    }
    for code in codes.shuffled(using: &random).prefix(40) {
      let events = try JSONDecoder().decode(
        [JSONValue].self, from: Data(home.run("history", code, "--format", "json").stdout.utf8))
      let count = events.filter { $0["event"]?.string == "redeemed" }.count
      #expect(
        count >= redeemed[code]! && count <= (singles.contains(code) ? 1 : 3),
        "\(code): \(count) redemptions in history, \(redeemed[code]!) acknowledged")
    }
    #expect(kills >= 20, "only \(kills) of \(rounds) servers were still running when killed")
    #expect(!redeemed.isEmpty)
    print(
      "serve kill loop: \(kills) kills in \(rounds) rounds, \(log.answers.withLock { $0 }) answers, "
        + "\(redeemed.count) codes acknowledged, \(checks + 1) checks")
  }

  /// One `serve --stdio` process fed a pipelined batch from a file, killed after `delay` µs
  /// (counted from its first answer with `afterFirstAnswer`, else from its start).
  func stdioRound(
    _ home: Home, _ batch: [String], delay: UInt32, afterFirstAnswer: Bool, log: AnswerLog
  ) throws -> Bool {
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
      "serve-kill-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: scratch) }
    let input = scratch.appendingPathComponent("in")
    let output = scratch.appendingPathComponent("out")
    let lines = batch.enumerated().map {
      request(["id": $0.offset, "op": "redeem", "code": $0.element, "store": "K"])
    }
    _ = FileManager.default.createFile(atPath: input.path, contents: Data(lines.joined().utf8))
    _ = FileManager.default.createFile(atPath: output.path, contents: nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: voucherBinary)
    process.arguments = ["--home", home.path, "serve", "--stdio"]
    process.standardInput = try FileHandle(forReadingFrom: input)
    process.standardOutput = try FileHandle(forWritingTo: output)
    process.standardError = FileHandle.nullDevice
    try process.run()
    if afterFirstAnswer {
      let deadline = Date().addingTimeInterval(20)
      while process.isRunning, Date() < deadline,
        ((try? FileManager.default.attributesOfItem(atPath: output.path)[.size] as? Int) ?? 0) == 0
      {
        usleep(500)
      }
      usleep(delay / 8)
    } else {
      usleep(delay)
    }
    let killed = process.isRunning
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    let text = String(decoding: try Data(contentsOf: output), as: UTF8.self)
    log.record(
      text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init))
    return killed && process.terminationReason == .uncaughtSignal
  }

  /// One `serve --socket` process with three clients pipelining parts of a batch, killed after
  /// its first answer and `delay` µs more.
  func socketRound(_ home: Home, _ batch: [String], round: Int, delay: UInt32, log: AnswerLog)
    throws -> Bool
  {
    let path = home.path + "/kill-\(round).sock"
    defer { unlink(path) }
    let server = try startServer(home, socket: path)
    let group = DispatchGroup()
    let parts = 3
    // The kill waits until every client has connected, so that none waits for a server that is
    // gone.
    let connected = DispatchSemaphore(value: 0)
    for part in 0..<parts {
      let mine = batch.enumerated().filter { $0.offset % parts == part }.map(\.element)
      group.enter()
      DispatchQueue(label: "kill-client-\(part)").async {
        defer { group.leave() }
        let client = try? SocketClient(path: path, timeout: 2)
        connected.signal()
        guard let client else { return }
        client.send(
          mine.enumerated().map {
            request(["id": $0.offset, "op": "redeem", "code": $0.element, "store": "K\(part)"])
          }.joined())
        log.record(client.lines(mine.count))
      }
    }
    for _ in 0..<parts { connected.wait() }
    usleep(delay)
    let killed = server.isRunning
    kill(server.processIdentifier, SIGKILL)
    server.waitUntilExit()
    group.wait()
    return killed && server.terminationReason == .uncaughtSignal
  }
}
