import Foundation
import Synchronization
import Testing
import VoucherKit
import VoucherTestSupport

@testable import voucher

#if canImport(Glibc)
  import Glibc
#endif

/// A console that keeps what a command printed, to run commands in this process.
final class CapturedConsole: Console {
  private let out = Mutex<[UInt8]>([])
  private let err = Mutex("")

  func writeOut(_ bytes: UnsafeRawBufferPointer) throws(SystemError) {
    out.withLock { $0 += bytes }
  }
  func writeError(_ text: String) { err.withLock { $0 += text } }
  var errorIsTerminal: Bool { false }
  func readInput(upTo count: Int) throws(SystemError) -> [UInt8] { [] }
  func environment(_ name: String) -> String? { name == "VOUCHER_LOCK_TIMEOUT" ? "2" : nil }

  var outcome: (stdout: String, stderr: String) {
    (String(decoding: out.withLock { $0 }, as: UTF8.self), err.withLock { $0 })
  }
}

/// Runs `voucher --home HOME arguments...` in this process.
func runInProcess(_ home: Home, _ arguments: [String]) -> Outcome {
  let console = CapturedConsole()
  let status = run(["--home", home.path] + arguments, console: console)
  let (stdout, stderr) = console.outcome
  return Outcome(status: status, stdout: stdout, stderr: stderr)
}

/// Every file of a home, to put it back after each mutation.
struct HomeImage {
  let files: [String: Data]
  /// Per file, the positions of its bytes that are not zero (a journal and an index are mostly
  /// allocated zeros; mutations favour the rest).
  let hot: [String: [Int]]

  init(_ home: Home) throws {
    var files: [String: Data] = [:]
    var hot: [String: [Int]] = [:]
    for relative in HomeImage.list(home) {
      let data = try Data(contentsOf: URL(fileURLWithPath: home.path + "/" + relative))
      files[relative] = data
      hot[relative] = data.withUnsafeBytes { raw in raw.indices.filter { raw[$0] != 0 } }
    }
    self.files = files
    self.hot = hot
  }

  /// The regular files under the home, relative to it.
  static func list(_ home: Home) -> [String] {
    var result: [String] = []
    let enumerator = FileManager.default.enumerator(atPath: home.path)
    while let relative = enumerator?.nextObject() as? String {
      var isFolder: ObjCBool = false
      if FileManager.default.fileExists(atPath: home.path + "/" + relative, isDirectory: &isFolder),
        !isFolder.boolValue
      {
        result.append(relative)
      }
    }
    return result.sorted()
  }

  /// Puts every file back as it was, and removes files that appeared.
  func restore(_ home: Home) throws {
    for relative in HomeImage.list(home) where files[relative] == nil {
      try FileManager.default.removeItem(atPath: home.path + "/" + relative)
    }
    for (relative, data) in files {
      let path = home.path + "/" + relative
      if FileManager.default.contents(atPath: path) == data { continue }
      try HomeImage.write(data, to: path)
    }
  }

  /// Writes a file in place (keeping its inode and mode).
  static func write(_ bytes: some DataProtocol & ContiguousBytes, to path: String) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { throw TestFailure("cannot open \(path)") }
    defer { close(fd) }
    let count = bytes.count
    var done = 0
    while done < count {
      let n = bytes.withUnsafeBytes {
        pwrite(fd, $0.baseAddress! + done, count - done, off_t(done))
      }
      guard n > 0 else { throw TestFailure("cannot write \(path)") }
      done += n
    }
  }
}

/// One random change to a file's bytes.
enum Mutation: String, CaseIterable {
  case flip, truncate, extend, zero

  /// Applies the mutation; positions favour the bytes that are not zero (a journal and an index
  /// are mostly allocated zeros).
  func apply(to bytes: Data, hot: [Int], using random: inout SeededGenerator) -> Data {
    var bytes = bytes
    func position() -> Int {
      guard !bytes.isEmpty else { return 0 }
      if let near = hot.randomElement(using: &random), Int.random(in: 0..<10, using: &random) < 8 {
        return min(bytes.count - 1, max(0, near + Int.random(in: -8...8, using: &random)))
      }
      return Int.random(in: 0..<bytes.count, using: &random)
    }
    switch self {
    case .flip:
      guard !bytes.isEmpty else { return Data([0x5A]) }
      for _ in 0..<Int.random(in: 1...3, using: &random) {
        bytes[position()] ^= UInt8(1) << UInt8.random(in: 0...7, using: &random)
      }
    case .truncate:
      bytes.removeSubrange(min(position(), bytes.count)..<bytes.count)
    case .extend:
      let count = Int.random(in: 1...300, using: &random)
      let garbage = Bool.random(using: &random)
      let extra = (0..<count).map { _ in garbage ? UInt8.random(in: 0...255, using: &random) : 0 }
      // Into the allocated zeros after the data, or past the end of the file.
      if let last = hot.last, last + 1 < bytes.count, Bool.random(using: &random) {
        let start = last + 1
        let end = min(bytes.count, start + count)
        bytes.replaceSubrange(start..<end, with: extra.prefix(end - start))
      } else {
        bytes += extra
      }
    case .zero:
      guard !bytes.isEmpty else { return bytes }
      let start = position()
      let end = min(bytes.count, start + Int.random(in: 1...96, using: &random))
      for index in start..<end { bytes[index] = 0 }
    }
    return bytes
  }
}

/// A home with every kind of file, the codes whose state is known, and the checks that hold
/// after any mutation of any file.
final class MutationBench {
  let home: Home
  /// Single-use codes redeemed before any mutation.
  let redeemed: [String]
  /// Single-use codes never redeemed.
  let fresh: [String]
  /// A three-use code redeemed twice.
  let triple: String
  let image: HomeImage
  /// How often a damaged index gave a wrong answer (each caught by `registry check`).
  let indexDivergences = Mutex(0)

  init() throws {
    home = try Home()
    #expect(
      home.run(
        "campaign", "add", "triple", "--channels", "flyer", "--uses", "3", "--capacity", "100"
      )
      .status == 0)
    // Small campaigns keep `registry check` (which reads every index entry) quick.
    #expect(
      home.run("campaign", "add", "small", "--channels", "flyer,email", "--capacity", "100").status
        == 0)
    let codes = home.run("issue", "--campaign", "small", "--channel", "flyer", "--count", "60")
      .stdoutLines
    let triples = home.run("issue", "--campaign", "triple", "--channel", "flyer", "--count", "5")
      .stdoutLines
    triple = triples[0]
    for (index, code) in codes.prefix(10).enumerated() {
      #expect(
        home.run(
          "redeem", code, "--store", "S\(index)", "--request", "r-\(index)", "--profile",
          "crm:\(index)"
        )
        .status == 0)
    }
    #expect(home.run("void", codes[9], "--reason", "return").status == 0)
    #expect(home.run("redeem", triple, "--store", "S1").status == 0)
    #expect(home.run("redeem", triple, "--online").status == 0)
    #expect(home.run("claim", codes[11], "--profile", "crm:11").status == 0)
    #expect(
      home.run(
        "block", "--campaign", "small", "--channel", "flyer", "--serials", "50-55", "--reason",
        "box"
      )
      .status == 0)
    // A torn tail, repaired by the next redeem, leaves a side file.
    let journal = home.path + "/Registry/journal"
    var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: journal)))
    let end = bytes.lastIndex { $0 != 0 }! + 1
    bytes.replaceSubrange(end..<(end + 5), with: [0xA5, 1, 40, 0, 9])
    try HomeImage.write(bytes, to: journal)
    #expect(home.run("redeem", codes[10], "--store", "S10").status == 0)
    #expect(HomeImage.list(home).contains { $0.hasPrefix("Registry/torn-") })
    redeemed = Array(codes.prefix(9)) + [codes[10]]
    fresh = Array(codes[12..<50])
    image = try HomeImage(home)
  }

  /// The kinds of file, by their path under the home.
  static func kind(_ relative: String) -> String {
    if relative.hasPrefix("Registry/torn-") { return "torn side file" }
    if relative.hasPrefix("Registry/index/") { return "index" }
    if relative.hasSuffix(".key") { return "key" }
    if relative.hasSuffix(".campaign") { return "campaign" }
    if relative.hasSuffix(".issued") { return "issued log" }
    if relative.hasSuffix("lock") { return "lock" }
    return String(relative.split(separator: "/").last!)
  }

  /// The files to mutate: every file, and a `FENCED` that is not there until a mutation makes it.
  var targets: [String] { (image.files.keys.sorted() + ["Registry/FENCED"]) }

  /// Mutates one file, runs verify, history, check and two redeems through `runner`, checks every
  /// answer, and puts the home back. Answers the exit statuses seen.
  func attempt(
    _ relative: String, _ mutation: Mutation, random: inout SeededGenerator,
    runner: (Home, [String]) -> Outcome
  ) throws -> [Int32] {
    defer { try? image.restore(home) }
    let original = image.files[relative] ?? Data("a sync of the journal failed\n".utf8)
    let mutated = mutation.apply(
      to: original, hot: image.hot[relative] ?? Array(original.indices), using: &random)
    try HomeImage.write(mutated, to: home.path + "/" + relative)
    let kind = MutationBench.kind(relative)
    let what = "\(mutation) of \(relative) (\(original.count) -> \(mutated.count) bytes)"
    // Registry files carry the promise: a redeemed code never reads as unused. A key or campaign
    // file can make a code unreadable, or (a valid setting changed) give it more uses.
    let strict = relative.hasPrefix("Registry/")
    let usesChanged = kind == "campaign" && original != mutated
    let code = redeemed.randomElement(using: &random)!
    let other = redeemed.randomElement(using: &random)!
    let unused = fresh.randomElement(using: &random)!
    var statuses: [Int32] = []
    func step(_ arguments: [String]) -> Outcome {
      let outcome = runner(home, arguments)
      statuses.append(outcome.status)
      expectClean(outcome, "\(arguments.first!) after \(what)")
      return outcome
    }
    // A wrong answer from a damaged index (see below).
    var diverged: [String] = []
    let verify = step(["verify", "--format", "json", "--", code, unused, triple])
    if strict, verify.status <= 1,
      let rows = try? JSONDecoder().decode([JSONValue].self, from: Data(verify.stdout.utf8))
    {
      let status = rows.first?["status"]?.string
      if status != "used-up" && status != "blocked" {
        diverged.append("\(code) reads \(status ?? "?")")
      }
      if case .number(let left)? = rows.last?["usesLeft"], left > 1 {
        diverged.append("\(triple) has \(left) uses left")
      }
    }
    let history = step(["history", code, "--format", "json"])
    if strict, history.status == 0 {
      let events =
        (try? JSONDecoder().decode([JSONValue].self, from: Data(history.stdout.utf8))) ?? []
      if !events.contains(where: { $0["event"]?.string == "redeemed" }) {
        diverged.append("the history of \(code) lost its redemption")
      }
    }
    let again = step(["redeem", other, "--store", "S99", "--format", "json"])
    if again.status == 0 && !usesChanged { diverged.append("\(other) was redeemed a second time") }
    let write = step(["redeem", unused, "--store", "S98"])
    if kind == "FENCED" {
      #expect(write.status == 74 && again.status == 74, "a fence did not refuse a write: \(what)")
    }
    // `registry check` reads the whole allocated journal (4 MiB; slow in a debug build): after
    // one mutation in eight, and whenever an answer went wrong.
    guard !diverged.isEmpty || kind == "FENCED" || Int.random(in: 0..<8, using: &random) == 0
    else { return statuses }
    let check = step(["registry", "check"])
    #expect([0, 65, 66, 74, 78].contains(check.status), "check: \(check.status) after \(what)")
    // The index is a cache of the journal without checksums of its own: `verify` reads it without
    // the lock, where a zeroed entry reads as a code never used until `registry check` (which
    // compares every entry with the journal) finds it. Everywhere else a wrong answer is a
    // failure outright.
    if kind == "index" {
      // Under the lock an entry is checked against the journal and the bitmap: a damaged index
      // never gives a second redemption or a history without its redemption.
      #expect(
        !diverged.contains { $0.contains("a second time") || $0.contains("history") },
        "a damaged index was trusted under the lock after \(what): \(diverged)")
      #expect(
        diverged.isEmpty || check.status == 65,
        "registry check missed a damaged index that gave wrong answers after \(what): \(diverged)")
      if !diverged.isEmpty { indexDivergences.withLock { $0 += 1 } }
    } else {
      #expect(diverged.isEmpty, "\(diverged) after \(what)")
    }
    return statuses
  }
}

/// An answer or a named error: a documented status; only `warning:` lines on success, and one
/// `error:` line on failure.
func expectClean(_ outcome: Outcome, _ what: String) {
  #expect(!outcome.signaled, "\(what): killed by signal \(outcome.status)")
  #expect(
    [0, 1, 65, 66, 74, 78].contains(outcome.status),
    "\(what): exit status \(outcome.status): \(outcome.stderr)")
  let lines = outcome.stderrLines
  let errors = lines.filter { $0.hasPrefix("error: ") }
  #expect(
    lines.allSatisfy { $0.hasPrefix("error: ") || $0.hasPrefix("warning: ") },
    "\(what): \(outcome.stderr)")
  if outcome.status > 1 {
    // `registry check` names every damage it finds, one line each.
    #expect(
      errors.count == 1 || (what.hasPrefix("registry") && errors.count > 1),
      "\(what): \(outcome.stderr)")
  } else {
    #expect(errors.isEmpty, "\(what): \(outcome.stderr)")
  }
}

@Suite("malformed files: seeded mutations of every file of a home")
struct MalformedFileTests {
  /// Thousands of mutations, answered in this process (the command's own `run`); a soak
  /// (`VOUCHER_SOAK_SECONDS`) goes on for that long.
  @Test(
    "every kind of file flipped, truncated, extended and zeroed: a clean answer or a named error, never a redeemed code read as unused"
  )
  func inProcess() throws {
    let bench = try MutationBench()
    defer { bench.home.remove() }
    var random = SeededGenerator(seed: Soak.seed(default: 2026))
    var tried: [String: Int] = [:]
    var statuses: [Int32: Int] = [:]
    let duration = Soak.duration(default: 30)
    let started = Date()
    var total = 0
    while Date().timeIntervalSince(started) < duration || total < 500 {
      let target = bench.targets.randomElement(using: &random)!
      let mutation = Mutation.allCases.randomElement(using: &random)!
      for status in try bench.attempt(target, mutation, random: &random, runner: runInProcess) {
        statuses[status, default: 0] += 1
      }
      tried[MutationBench.kind(target), default: 0] += 1
      total += 1
    }
    #expect(Set(tried.keys).count == 10, "\(tried.keys.sorted())")
    print(
      "mutations in process: \(total): \(tried.sorted { $0.key < $1.key }); statuses "
        + "\(statuses.sorted { $0.key < $1.key }); wrong answers from a damaged index, all "
        + "caught by check: \(bench.indexDivergences.withLock { $0 })")
  }

  @Test("a sample of the same mutations against the built binary: no signal, a documented status")
  func binary() throws {
    let bench = try MutationBench()
    defer { bench.home.remove() }
    var random = SeededGenerator(seed: Soak.seed(default: 4711))
    var tried: [String: Int] = [:]
    var total = 0
    let duration = Soak.duration(default: 4)
    let started = Date()
    // Every file once, then random ones for the rest of the time.
    var plan = bench.targets.map { ($0, Mutation.allCases.randomElement(using: &random)!) }
    while !plan.isEmpty || Date().timeIntervalSince(started) < duration {
      let (target, mutation) =
        plan.isEmpty
        ? (
          bench.targets.randomElement(using: &random)!,
          Mutation.allCases.randomElement(using: &random)!
        )
        : plan.removeFirst()
      _ = try bench.attempt(target, mutation, random: &random) { home, arguments in
        home.run(arguments: arguments)
      }
      tried[MutationBench.kind(target), default: 0] += 1
      total += 1
    }
    print("mutations with the binary: \(total): \(tried.sorted { $0.key < $1.key })")
  }
}
