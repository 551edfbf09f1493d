import Foundation
import Testing
import VoucherTestSupport

@testable import voucher

#if canImport(Glibc)
  import Glibc
#endif

/// The peak resident memory of a process, in bytes (`VmHWM`).
func peakMemory(_ pid: Int32) -> Int {
  let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
  let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
  return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
}

/// Only `warning:` lines and one `error:` line on stderr: exactly one on a failure, at most one
/// with a rejected code (exit 1: a malformed code is named on stderr too).
func expectOneError(_ outcome: Outcome, _ what: String) {
  let lines = outcome.stderrLines
  let errors = lines.filter { $0.hasPrefix("error: ") }
  #expect(
    lines.allSatisfy { $0.hasPrefix("warning: ") || $0.hasPrefix("error: ") }
      && (outcome.status > 1 ? errors.count == 1 : errors.count <= outcome.status),
    "\(what): \(outcome.status) \(outcome.stderr)")
}

@Suite("hostile input: folders, oversized lines, naughty strings in every field, dates")
struct HostileInputTests {
  @Test(
    "a home, Keys, Campaigns, Registry or index folder writable by every user is refused with exit 78"
  )
  func worldWritableFolders() throws {
    let home = try Home()
    defer { home.remove() }
    let codes = home.codes(2)
    #expect(home.run("redeem", codes[0], "--store", "S1").status == 0)
    for folder in ["", "/Keys", "/Campaigns", "/Registry", "/Registry/index"] {
      let path = home.path + folder
      chmod(path, 0o777)
      let before = home.snapshot()
      for arguments in [["verify", codes[1]], ["redeem", codes[1], "--store", "S1"]] {
        let outcome = home.run(arguments: arguments)
        #expect(outcome.status == 78, "\(folder): \(outcome.stderr)")
        #expect(
          outcome.stderrLines.count == 1
            && outcome.stderr.hasPrefix("error: \(path) is writable by every user (mode 777)"),
          "\(outcome.stderr)")
      }
      #expect(home.snapshot() == before)
      chmod(path, 0o755)
    }
    // The sticky bit does not make a shared folder safe: others can still add a key.
    chmod(home.path + "/Keys", 0o1777)
    #expect(home.run("verify", codes[1]).status == 78)
    chmod(home.path + "/Keys", 0o700)
    #expect(home.run("redeem", codes[1], "--store", "S1").status == 0)
  }

  @Test(
    "control characters in a path never reach the terminal raw: every --home, naughty strings included, gets one error line, escaped"
  )
  func controlCharactersInPaths() throws {
    let home = try Home()
    defer { home.remove() }
    // Relative homes land in a scratch folder that holds no key ring.
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
      "voucher-scratch-\(UUID().uuidString)"
    ).path
    try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: scratch) }
    /// Whether a scalar would act on a terminal: C0, DEL, C1, line separators, bidi controls.
    func acts(_ scalar: Unicode.Scalar) -> Bool {
      switch scalar.value {
      case 0x00...0x1F, 0x7F...0x9F, 0x2028, 0x2029, 0x061C, 0x200E, 0x200F, 0x202A...0x202E,
        0x2066...0x2069:
        return true
      default: return false
      }
    }
    func expectOneEscapedLine(_ outcome: Outcome, _ what: String) {
      #expect(outcome.status > 1, "\(what): \(outcome.status)")
      #expect(
        outcome.stderrLines.count == 1 && outcome.stderr.hasPrefix("error: "),
        "\(what): \(outcome.stderr.debugDescription)")
      #expect(
        !outcome.stderr.dropLast().unicodeScalars.contains(where: acts),
        "\(what): \(outcome.stderr.debugDescription)")
    }
    let forged = [
      "missing\nerror: a forged line", "missing\r\u{1B}[2Kerror: overwritten",
      "missing/\u{1B}[31mred\u{1B}[0m", "missing/\u{9B}31mred", "missing/\u{7F}\u{85}",
      "missing/\u{2028}x\u{202E}txt.exe", "missing/\u{7}\u{8}\u{8}",
    ]
    let naughty = try TestData.naughtyStrings().filter { !$0.isEmpty && !$0.contains("\0") }
    var runs = 0
    for text in forged + naughty.map({ "missing/" + $0 }) {
      // No home: the key ring's path is in the message.
      let keys = runBinary(["--home", text, "keys", "list"], directory: scratch)
      expectOneEscapedLine(keys, "--home \(text.debugDescription)")
      runs += 1
    }
    #expect(
      runBinary(["--home", forged[0], "keys", "list"], directory: scratch).stderr.contains(
        "missing\\nerror: a forged line"))
    // The same through other messages: a folder that cannot take an output file, a key file
    // that others can read, inside a home whose name holds control characters.
    for text in forged + naughty.filter({ $0.unicodeScalars.contains(where: acts) }) {
      let outcome = home.run(
        "issue", "--campaign", "summer", "--channel", "flyer", "--count", "1", "--output",
        home.path + "/missing/" + text + "/codes.txt")
      expectOneEscapedLine(outcome, "--output in \(text.debugDescription)")
      runs += 1
    }
    let strange = scratch + "/home\n\u{1B}[31m"
    try FileManager.default.copyItem(atPath: home.path, toPath: strange)
    chmod(strange + "/Keys/slot-00.key", 0o644)
    let open = runBinary(["--home", strange, "verify", "0000-0000-0000-0000"], directory: scratch)
    #expect(open.status == 78)
    expectOneEscapedLine(open, "a key file readable by others")
    print("control characters in paths: \(runs) commands")
  }

  @Test("a symlinked home and a symlinked Registry folder are followed: one registry, exactly once")
  func symlinkedFolders() throws {
    let home = try Home()
    defer { home.remove() }
    // The link is made before the first issue, which creates the registry where it points.
    let elsewhere = FileManager.default.temporaryDirectory.appendingPathComponent(
      "voucher-registry-\(UUID().uuidString)"
    ).path
    try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: elsewhere) }
    try FileManager.default.createSymbolicLink(
      atPath: home.path + "/Registry", withDestinationPath: elsewhere)
    let codes = home.codes(3)
    let link = home.path + "-link"
    try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: home.path)
    defer { try? FileManager.default.removeItem(atPath: link) }
    #expect(home.run("redeem", codes[0], "--store", "S1").status == 0)
    #expect(FileManager.default.fileExists(atPath: elsewhere + "/journal"))
    let again = runBinary(["--home", link, "redeem", codes[0], "--store", "S2"])
    #expect(again.status == 1 && again.stdout.contains("  used-up  "), "\(again.stdout)")
    #expect(runBinary(["--home", link, "redeem", codes[1], "--store", "S2"]).status == 0)
    #expect(home.run("verify", codes[1]).stdout.contains("  used-up  "))
    #expect(home.run("registry", "check").status == 0)
  }

  @Test(
    "serve: a 40 MB line without a newline over the socket gets one error line, the session goes on, memory stays bounded"
  )
  func oversizedSocketLine() throws {
    let home = try Home()
    defer { home.remove() }
    let code = home.codes(1)[0]
    let path = home.path + "/till.sock"
    let server = try startServer(home, socket: path)
    defer {
      kill(server.processIdentifier, SIGTERM)
      server.waitUntilExit()
    }
    let client = try SocketClient(path: path)
    let chunk = String(repeating: "{\"op\":\"verify\",", count: 1 << 16)
    for _ in 0..<(40 << 20) / chunk.utf8.count { client.send(chunk) }
    client.send("\n" + request(["id": "after", "op": "verify", "code": code]))
    let answers = client.lines(2).compactMap(decode)
    #expect(answers.count == 2)
    #expect(answers.first?["error"]?.string?.contains("longer than") == true, "\(answers)")
    #expect(answers.last?["status"]?.string == "valid")
    let peak = peakMemory(server.processIdentifier)
    #expect(peak > 0 && peak < 64 << 20, "the server's peak memory is \(peak >> 20) MiB")
  }

  @Test(
    "every naughty string as a code, store, terminal, profile, request id, reason, campaign id, channel, title and date: a clear answer, never a crash"
  )
  func naughtyFields() throws {
    let home = try Home()
    defer { home.remove() }
    let strings = try TestData.naughtyStrings()
    let codes = home.run(
      "issue", "--campaign", "summer", "--channel", "flyer", "--count", "\(strings.count * 6 + 10)"
    ).stdoutLines
    let campaignFiles = Set(
      try FileManager.default.contentsOfDirectory(atPath: home.path + "/Campaigns"))
    var next = 0
    func fresh() -> String {
      defer { next += 1 }
      return codes[next]
    }
    var runs = 0
    func run(_ arguments: [String]) -> Outcome {
      runs += 1
      let outcome = runInProcess(home, arguments)
      #expect(
        [0, 1, 64, 65, 66, 73].contains(outcome.status),
        "\(arguments.map { $0.debugDescription }): \(outcome.status) \(outcome.stderr)")
      expectOneError(outcome, "\(arguments.map { $0.debugDescription })")
      return outcome
    }
    for text in strings {
      _ = run(["verify", "--format", "json", "--", text])
      _ = run(["history", "--", text])
      // Each field of a redeem: refused as a usage error, or recorded and read back byte for byte.
      for field in ["store", "terminal", "profile", "request"] {
        let code = fresh()
        var arguments = ["redeem", code, "--format", "json", "--\(field)", text]
        if field != "store" { arguments += ["--store", "S1"] }
        let outcome = run(arguments)
        #expect(outcome.status == 0 || outcome.status == 64, "\(field) \(text.debugDescription)")
        guard outcome.status == 0 else { continue }
        let history = try JSONDecoder().decode(
          [JSONValue].self, from: Data(run(["history", code, "--format", "json"]).stdout.utf8))
        let key = field == "request" ? "request" : field
        #expect(
          history.first?[key]?.string == text, "\(field) \(text.debugDescription): \(history)")
      }
      let voided = fresh()
      _ = run(["redeem", voided, "--store", "S1"])
      let void = run(["void", voided, "--reason", text, "--format", "json"])
      if void.status == 0 {
        let history = try JSONDecoder().decode(
          [JSONValue].self, from: Data(run(["history", voided, "--format", "json"]).stdout.utf8))
        #expect(history.last?["reason"]?.string == text, "reason \(text.debugDescription)")
      }
      _ = run(["claim", fresh(), "--profile", text])
      _ = run(["campaign", "add", text, "--channels", "flyer", "--capacity", "10"])
      _ = run(["campaign", "add", "c\(runs)", "--channels", text, "--capacity", "10"])
      _ = run([
        "campaign", "add", "t\(runs)", "--channels", "flyer", "--title", text, "--capacity", "10",
      ])
      _ = run(["campaign", "add", "d\(runs)", "--channels", "flyer", "--starts", text])
      _ = run(["issue", "--campaign", text, "--channel", "flyer", "--count", "1"])
      // Campaigns added are checked by `campaign list`, then removed: every command loads them all.
      #expect(run(["campaign", "list"]).status == 0)
      for name in try FileManager.default.contentsOfDirectory(atPath: home.path + "/Campaigns")
      where !campaignFiles.contains(name) {
        try FileManager.default.removeItem(atPath: home.path + "/Campaigns/" + name)
      }
      _ = run([
        "block", "--campaign", "summer", "--channel", "receipt", "--serials", "1-2", "--reason",
        text,
      ])
    }
    #expect(run(["registry", "check"]).status == 0)
    print("naughty strings: \(strings.count) strings, \(runs) commands")
  }

  @Test("dates at the edges: clear usage errors for impossible ones, never a crash")
  func dates() throws {
    let home = try Home()
    defer { home.remove() }
    let dates: [(String, Bool)] = [
      ("2028-02-29", true), ("2026-02-29", false), ("2026-12-31T23:59:59Z", true),
      ("2026-12-31T24:00Z", false), ("2026-08-31T18:00+02:00", true),
      ("2026-08-31T18:00+25:00", false),
      ("2026-08-31T18:00-14:00", true), ("0000-01-01", true), ("9999-12-31", true),
      ("99999999999999999999-01-01", false), ("-2026-01-01", false), ("+2026-01-01", false),
      ("2026-1-1", false), ("2026-01-01T", false), ("2026-01-01 ", false), (" 2026-01-01", false),
      ("２０２６-０１-０１", false), ("2026-01-01\u{0}", false), ("", false), ("2026-13-01", false),
      ("2026-00-10", false), ("2026-01-32", false), ("2026-01-01T12:60Z", false),
      ("2026-01-01T12:00:60Z", false), ("2026-01-01T12:00+02", false),
    ]
    for (index, (date, valid)) in dates.enumerated() {
      for option in ["--starts", "--ends"] {
        let outcome = runInProcess(
          home,
          [
            "campaign", "add", "d\(index)\(option.dropFirst(2))", "--channels", "flyer", option,
            date,
          ])
        expectOneError(outcome, "\(option) \(date.debugDescription)")
        if valid {
          #expect(outcome.status == 0, "\(option) \(date.debugDescription): \(outcome.stderr)")
        } else {
          #expect(
            outcome.status == 64 && outcome.stderr.contains("date"),
            "\(option) \(date.debugDescription): \(outcome.status) \(outcome.stderr)")
        }
      }
    }
  }
}
