import Foundation
import Synchronization
import Testing
import VoucherTestSupport

#if canImport(Glibc)
  import Glibc
#endif

/// Kills a process that is still running after `seconds` unless cancelled first: whatever a
/// test waits for from it then ends (a failed send, an end of file) instead of hanging.
final class Watchdog: Sendable {
  private let state = Mutex((cancelled: false, fired: false))

  init(_ pid: Int32, seconds: Double) {
    DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [self] in
      state.withLock { state in
        guard !state.cancelled else { return }
        state.fired = true
        kill(pid, SIGKILL)
      }
    }
  }

  /// Stops the watchdog; answers whether it had fired already.
  func cancel() -> Bool {
    state.withLock { state in
      state.cancelled = true
      return state.fired
    }
  }
}

/// Runs `body`; `false` when the process had to be killed for it to end.
func finishes(within seconds: Double, killing pid: Int32, _ body: () -> Void) -> Bool {
  let watchdog = Watchdog(pid, seconds: seconds)
  body()
  return !watchdog.cancel()
}

@Suite("serve: clients that write before they read", .serialized)
struct ServeBacklogTests {
  @Test("a socket client writing 20,000 requests before reading any answer gets all 20,000")
  func socketBacklog() throws {
    let home = try Home()
    defer { home.remove() }
    let codes = home.run("issue", "--campaign", "summer", "--channel", "flyer", "--count", "2000")
      .stdoutLines
    let path = home.path + "/till.sock"
    let server = try startServer(home, socket: path)
    defer {
      kill(server.processIdentifier, SIGKILL)
      server.waitUntilExit()
    }
    // Verifies (answered on the reader's thread: the path that used to write on it and stall),
    // then verifies and redemptions (by the engine) interleaved.
    var text = ""
    for index in 0..<20_000 {
      let op: [String: Any] =
        index >= 16_000 && index % 2 == 0
        ? ["id": index, "op": "redeem", "code": codes[(index - 16_000) / 2], "store": "S1"]
        : ["id": index, "op": "verify", "code": codes[index % 2000]]
      text += request(op)
    }
    let client = try SocketClient(path: path)
    let sent = finishes(within: 60, killing: server.processIdentifier) { client.send(text) }
    #expect(sent, "the server stopped reading a client that had not read its answers yet")
    guard sent else { return }
    let answers = client.lines(20_000).compactMap(decode)
    #expect(answers.count == 20_000)
    #expect(answers.map { $0["id"] } == (0..<20_000).map { .number(Double($0)) })
    #expect(
      answers.enumerated().filter { $0.offset >= 16_000 && $0.offset % 2 == 0 }.allSatisfy {
        $0.element["status"]?.string == "redeemed"
      })
  }

  @Test("stdio over pipes: 20,000 requests written before any answer is read are all answered")
  func stdioBacklog() throws {
    let home = try Home()
    defer { home.remove() }
    let code = home.run("issue", "--campaign", "summer", "--channel", "flyer", "--count", "1")
      .stdoutLines[0]
    let process = Process()
    process.executableURL = URL(fileURLWithPath: voucherBinary)
    process.arguments = ["--home", home.path, "serve", "--stdio"]
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    defer {
      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
    }
    let text = Data(
      (0..<20_000).map { request(["id": $0, "op": "verify", "code": code]) }.joined().utf8)
    let writer = input.fileHandleForWriting
    let sent = finishes(within: 60, killing: process.processIdentifier) {
      writer.write(text)
      try? writer.close()
    }
    #expect(sent, "the server stopped reading standard input while its answers were unread")
    guard sent else { return }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
    #expect(lines.count == 20_000)
    #expect(lines.allSatisfy { decode(String($0))?["status"]?.string == "valid" })
  }

  @Test(
    "a client past the unread-answer limit (32 MiB) is dropped with an error line, never a hang")
  func dropped() throws {
    let home = try Home()
    defer { home.remove() }
    let path = home.path + "/till.sock"
    let server = try startServer(home, socket: path)
    defer {
      kill(server.processIdentifier, SIGKILL)
      server.waitUntilExit()
    }
    // Each answer echoes a 256-character input: about 700 bytes, so 60,000 pass 32 MiB.
    let junk = String(repeating: "Q", count: 300)
    let line = request(["id": 1, "op": "verify", "code": junk])
    let client = try SocketClient(path: path)
    let sent = finishes(within: 60, killing: server.processIdentifier) {
      for _ in 0..<60 { client.send(String(repeating: line, count: 1000)) }
    }
    #expect(sent, "sending to a server that dropped the client must fail, not hang")
    var last: String?
    let read = finishes(within: 60, killing: server.processIdentifier) {
      while true {
        let lines = client.lines(10_000)
        if lines.isEmpty { break }
        last = lines.last
      }
    }
    #expect(read, "reading after a drop must end")
    #expect(last?.contains("dropped: more than 32 MiB of answers were left unread") == true)
  }
}
