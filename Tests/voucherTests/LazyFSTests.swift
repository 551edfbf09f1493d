import Foundation
import Synchronization
import Testing
import VoucherTestSupport

#if canImport(Glibc)
  import Glibc
#endif

/// Everything the registry's clients were told in the LazyFS test: what must survive any fault.
final class Acknowledged: Sendable {
  struct State {
    /// Acknowledged redemptions per code.
    var redemptions: [String: Int] = [:]
    /// Codes acknowledged since the last `takeRecent()`.
    var recent: [String] = []
    /// Blocked serials of campaign box, channel lost.
    var blocks: [ClosedRange<Int>] = []
    /// Erased profile ids.
    var forgotten: [String] = []
    var operations = 0
  }
  let state = Mutex(State())

  /// Records the redemptions in whole lines of `redeem` text output (`CODE  redeemed  ...`).
  func record(text: String) {
    record(
      codes: text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().compactMap {
        let fields = $0.split(separator: " ")
        return fields.count > 1 && fields[1] == "redeemed" ? String(fields[0]) : nil
      })
  }

  /// Records the redemptions among `serve` answers.
  func record(answers: [String]) {
    record(
      codes: answers.compactMap { line in
        guard let answer = decode(line), answer["status"]?.string == "redeemed",
          answer["replayed"] != .bool(true)
        else { return nil }
        return answer["code"]?.string
      })
  }

  func record(codes: [String]) {
    guard !codes.isEmpty else { return }
    state.withLock { state in
      for code in codes { state.redemptions[code, default: 0] += 1 }
      state.recent += codes
      state.operations += codes.count
    }
  }

  func record(block serials: ClosedRange<Int>) {
    state.withLock {
      $0.blocks.append(serials)
      $0.operations += 1
    }
  }

  func record(forget profile: String) {
    state.withLock {
      $0.forgotten.append(profile)
      $0.operations += 1
    }
  }

  /// The codes acknowledged since the last call.
  func takeRecent() -> [String] {
    state.withLock { state in
      defer { state.recent = [] }
      return state.recent
    }
  }
}

/// What the journal holds, read back with `voucher export --format jsonl`.
struct JournalContents {
  /// Redemption events per code.
  var redemptions: [String: Int] = [:]
  /// Blocked serial ranges of campaign box, channel lost.
  var blocks: Set<ClosedRange<Int>> = []
  /// Profile ids that events still name.
  var profiles: Set<String> = []
  var events = 0

  /// Reads export lines with a few byte searches (a soak's journal holds 100,000s of events).
  init(jsonLines data: Data) {
    data.withUnsafeBytes { (all: UnsafeRawBufferPointer) in
      guard let base = all.baseAddress else { return }
      var cursor = base
      let end = base + all.count
      while cursor < end {
        let newline = memchr(cursor, 0x0A, end - cursor).map { UnsafeRawPointer($0) } ?? end
        let line = UnsafeRawBufferPointer(start: cursor, count: newline - cursor)
        cursor = newline + 1
        events += 1
        if let profile = Self.field("profile", line) { profiles.insert(profile) }
        if Self.starts(line, #"{"event":"redeemed""#), let code = Self.field("code", line) {
          redemptions[code, default: 0] += 1
        } else if Self.starts(line, #"{"event":"blocked""#),
          let event = decode(String(decoding: line, as: UTF8.self)),
          event["campaign"]?.string == "box", event["channel"]?.string == "lost",
          case .number(let first)? = event["serial"], case .number(let last)? = event["lastSerial"]
        {
          blocks.insert(Int(first)...Int(last))
        }
      }
    }
  }

  private static func starts(_ line: UnsafeRawBufferPointer, _ prefix: String) -> Bool {
    let bytes = Array(prefix.utf8)
    return line.count >= bytes.count && memcmp(line.baseAddress!, bytes, bytes.count) == 0
  }

  /// The value of a string field `"name":"value"` (the values looked up hold no escapes).
  private static func field(_ name: String, _ line: UnsafeRawBufferPointer) -> String? {
    let key = Array("\"\(name)\":\"".utf8)
    let end = line.baseAddress! + line.count
    var cursor = line.baseAddress!
    var found: UnsafeRawPointer?
    while end - cursor >= key.count, let first = memchr(cursor, Int32(key[0]), end - cursor) {
      let candidate = UnsafeRawPointer(first)
      if end - candidate < key.count { break }
      if memcmp(candidate, key, key.count) == 0 {
        found = candidate
        break
      }
      cursor = candidate + 1
    }
    guard let found else { return nil }
    let start = found + key.count
    let rest = line.baseAddress! + line.count - start
    guard let close = memchr(start, 0x22, rest) else { return nil }
    return String(
      decoding: UnsafeRawBufferPointer(start: start, count: UnsafeRawPointer(close) - start),
      as: UTF8.self)
  }
}

/// `syncfs(2)` (a GNU extension, not in Swift's Glibc module): writes a file system's dirty pages
/// back without asking it for durability.
let syncFileSystem: (@convention(c) (Int32) -> Int32)? = {
  guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "syncfs") else { return nil }
  return unsafeBitCast(symbol, to: (@convention(c) (Int32) -> Int32).self)
}()

extension Home {
  /// A home at a folder that exists (a mount point), without a key or a campaign.
  init(existing path: String) { self.path = path }
}

@Suite(
  "LazyFS: lost, torn and reordered writes under the real binary", .serialized,
  .disabled(if: LazyFS.unavailable != nil, Comment(rawValue: LazyFS.unavailable ?? "")))
struct LazyFSTests {
  /// The figures of a run.
  struct Figures {
    var rounds = 0
    /// Faults that hit, by kind.
    var faults: [String: Int] = [:]
    /// Armed faults whose call never came before the writers were killed (a clear-cache then).
    var unfired = 0
    var probes = 0
    /// Acknowledged operations the registry no longer shows.
    var lost: Set<String> = []
    /// Codes redeemed (or acknowledged) more often than their campaign allows.
    var doubled: Set<String> = []
  }

  /// A whole home on LazyFS; each round runs writers (CLI `redeem` processes, a `redeem -`
  /// stream, `serve --socket` with three pipelining clients, `block`, `forget`) while a fault
  /// hits: every writer killed and the cache cleared, or LazyFS crashing at a chosen call, or a
  /// torn write. Then every process is killed, the disk unmounted and mounted again, and the
  /// registry must hold every acknowledged operation, no code over its uses, and pass
  /// `registry check`.
  ///
  /// About 75 s by default (at least 12 rounds); `VOUCHER_SOAK=1` runs at least 100 rounds,
  /// `VOUCHER_SOAK_SECONDS` that long, `VOUCHER_SEED` draws other faults and moments.
  @Test(
    "kill -9, clear-cache, crashes and torn writes on LazyFS: nothing acknowledged lost, no code redeemed twice, check passes"
  )
  func faults() throws {
    let started = Date()
    let disk = try LazyFSMount(binaries: try LazyFS.binaries())
    defer {
      disk.unmount()
      disk.remove()
    }
    try disk.mount()
    let home = Home(existing: disk.mountPoint)
    let io = disk.root + "/io"
    try FileManager.default.createDirectory(atPath: io, withIntermediateDirectories: false)
    // Single-use codes come from campaigns s1, s2, ... (a new one when one is fully issued; a
    // small capacity keeps `registry check`, which reads every index entry, quick), codes of
    // three uses from `triple`, and blocks go to campaign box.
    try #require(home.run("keys", "new").status == 0)
    for arguments in [
      ["triple", "--channels", "flyer", "--uses", "3", "--capacity", "20000"],
      ["box", "--channels", "lost", "--capacity", "100000"],
    ] {
      try #require(home.run(arguments: ["campaign", "add"] + arguments).status == 0)
    }
    let triples = home.run("issue", "--campaign", "triple", "--channel", "flyer", "--count", "3000")
      .stdoutLines
    let tripleSet = Set(triples)
    try #require(triples.count == 3000)
    var campaigns = 0
    var fresh: [String] = []

    let soak = ProcessInfo.processInfo.environment["VOUCHER_SOAK"] == "1"
    let minimumRounds = soak ? 100 : 12
    let duration = Soak.duration(default: soak ? 0 : 75)
    var random = SeededGenerator(seed: Soak.seed(default: 1717))
    let acknowledged = Acknowledged()
    var figures = Figures()
    var history: [String] = []  // the faults so far, for a failure's message

    while figures.rounds < minimumRounds || Date().timeIntervalSince(started) < duration {
      let round = figures.rounds
      figures.rounds += 1
      if fresh.count < 1_500 {
        func issue() -> Outcome {
          home.run("issue", "--campaign", "s\(campaigns)", "--channel", "flyer", "--count", "20000")
        }
        var issued = campaigns > 0 ? issue() : nil
        if issued?.status != 0 {
          campaigns += 1
          let added = home.run(
            "campaign", "add", "s\(campaigns)", "--channels", "flyer", "--capacity", "200000")
          try #require(added.status == 0, "\(added.stderr)")
          issued = issue()
        }
        fresh += issued?.stdoutLines ?? []
        try #require(fresh.count >= 1_500, "issue failed: \(issued?.stderr ?? "")")
      }
      let fault = LazyFSFault.of(
        round: round, disk: disk, campaign: "s\(campaigns)", using: &random)
      let spent = acknowledged.state.withLock { state in
        state.redemptions.keys.filter { !tripleSet.contains($0) }
      }
      func take(_ count: Int) -> [String] {
        let mine = Array(fresh.prefix(count))
        fresh.removeFirst(mine.count)
        return (mine + spent.shuffled(using: &random).prefix(count / 20)).shuffled(using: &random)
      }
      // Fresh codes with a few already redeemed ones; the CLI processes rarely get through more
      // than a few dozen before the fault.
      let cli = (0..<2).map { _ in take(80) }
      let stream = take(400)
      let clients = (0..<3).map { _ in
        let threes = Array(triples.shuffled(using: &random).prefix(20))
        return (take(250) + threes + threes).shuffled(using: &random)
      }
      // A block, and an erasure of the profile the last round's CLI redemptions named.
      var admin: [(at: Double, arguments: [String])] = [
        (
          at: Double.random(in: 0...0.5, using: &random),
          arguments: [
            "block", "--campaign", "box", "--channel", "lost", "--serials",
            "\(round * 4 + 1)-\(round * 4 + 3)", "--reason", "box \(round)",
          ]
        )
      ]
      if round > 0 {
        admin.append(
          (
            at: Double.random(in: 0...0.2, using: &random),
            arguments: ["forget", "--profile", "crm:p\(round - 1)"]
          ))
      }
      let writeback = UInt32.random(in: 20_000...200_000, using: &random)

      let children = Children()
      let writers = DispatchGroup()
      run(
        home, io, socket: disk.root + "/s.sock", cli: cli, stream: stream, clients: clients,
        admin: admin, profile: "crm:p\(round)", mountPoint: disk.mountPoint,
        writeback: writeback, children, writers, acknowledged)

      // The fault, then every writer killed.
      var kind = fault.kind
      switch fault {
      case .clearCache:
        usleep(UInt32.random(in: 200_000...2_000_000, using: &random))
      case .armed(_, let command):
        usleep(UInt32.random(in: 100_000...1_200_000, using: &random))
        try disk.inject(command)
        _ = disk.waitForCrash(seconds: 2.5)
      }
      children.killAll()
      writers.wait()
      // The killed writers' files are closed and the kernel writes their mapped pages back: an
      // armed fault may still fire now. If it does not, the round is a clear-cache.
      if kind != "clear-cache" && !disk.waitForCrash(seconds: 0.1) {
        figures.unfired += 1
        kind = "clear-cache"
      }
      let sameMount = fault.kind == "clear-cache"
      if disk.isRunning { try disk.clearCache() }
      figures.faults[kind, default: 0] += 1
      history.append("round \(round): \(kind == fault.kind ? "" : "(never fired) ")\(fault)")
      let context = history.suffix(3).joined(separator: "; ")

      // The acknowledged codes of this round and some older ones, asked about by new processes.
      let probeCodes = Array(
        Set(acknowledged.takeRecent().filter { !tripleSet.contains($0) }.prefix(300)).union(
          spent.shuffled(using: &random).prefix(100)))
      // After a cleared cache, first on the same mount: a new process must not trust what the
      // page cache showed the killed writers. (Not after an armed fault that did not fire: it
      // could fire during the probe.)
      if sameMount && disk.isRunning {
        probe(home, probeCodes, &figures, acknowledged, "\(context) (same mount)")
      }

      // Power back: the disk mounted again.
      disk.unmount()
      try disk.mount()
      let check = home.run("registry", "check")
      #expect(
        check.status == 0 && check.stderrLines.allSatisfy { $0.hasPrefix("warning: ") },
        "\(context): registry check exited \(check.status): \(check.stderr.prefix(2000))")
      try audit(home, io, tripleSet, &figures, acknowledged, context)
      probe(home, probeCodes, &figures, acknowledged, context)
      // A damaged registry ends the run: what it answers next shows nothing new.
      if check.status != 0 || !figures.lost.isEmpty || !figures.doubled.isEmpty { break }
    }

    let (operations, redeemed, blocks, forgotten) = acknowledged.state.withLock {
      ($0.operations, $0.redemptions.values.reduce(0, +), $0.blocks.count, $0.forgotten.count)
    }
    let kinds = ["clear-cache", "crash", "torn-op", "torn-seq"]
    print(
      "LazyFS: \(figures.rounds) rounds, \(figures.faults.values.reduce(0, +)) faults ("
        + kinds.map { "\($0) \(figures.faults[$0, default: 0])" }.joined(separator: ", ")
        + "; \(figures.unfired) armed faults never fired, cleared instead), "
        + "\(operations) acknowledged (\(redeemed) redemptions, \(blocks) blocks, \(forgotten) forgets), "
        + "\(figures.lost.count) lost, \(figures.doubled.count) doubled, \(figures.probes) probes, "
        + String(format: "%.0f s", Date().timeIntervalSince(started)))
    #expect(figures.lost.isEmpty, "lost: \(figures.lost.sorted().prefix(10))")
    #expect(figures.doubled.isEmpty, "doubled: \(figures.doubled.sorted().prefix(10))")
    #expect(operations > figures.rounds * 100, "too little was acknowledged to show anything")
    #expect(
      figures.unfired * 3 <= figures.rounds, "too many armed faults never fired: \(figures.unfired)"
    )
  }

  /// Starts the writers of a round, each on its own queue in `writers`: `serve --socket` with
  /// three clients pipelining their codes, two workers starting one `redeem CODE` process after
  /// another (every fourth names `profile`), a `redeem -` stream, the `admin` commands at their
  /// moments, and a thread that makes the kernel write dirty pages back (`syncfs`) every
  /// `writeback` microseconds, as it does now and then, so that LazyFS's cache holds pages of
  /// every age.
  func run(
    _ home: Home, _ io: String, socket: String, cli: [[String]], stream: [String],
    clients: [[String]], admin: [(at: Double, arguments: [String])], profile: String,
    mountPoint: String, writeback: UInt32, _ children: Children, _ writers: DispatchGroup,
    _ acknowledged: Acknowledged
  ) {
    unlink(socket)
    if let server = children.spawn(
      voucherBinary, ["--home", home.path, "serve", "--socket", socket])
    {
      writers.enter()
      DispatchQueue(label: "lazyfs-server").async {
        _ = children.wait(server)
        writers.leave()
      }
      let deadline = Date().addingTimeInterval(5)
      while !FileManager.default.fileExists(atPath: socket) && children.isRunning(server)
        && Date() < deadline
      {
        usleep(5_000)
      }
      for (part, codes) in clients.enumerated() {
        DispatchQueue(label: "lazyfs-client-\(part)").async(group: writers) {
          guard let client = try? SocketClient(path: socket, timeout: 1) else { return }
          client.send(
            codes.enumerated().map {
              request(["id": $0.offset, "op": "redeem", "code": $0.element, "store": "L\(part)"])
            }.joined())
          acknowledged.record(answers: client.lines(codes.count))
        }
      }
    }
    for (worker, codes) in cli.enumerated() {
      DispatchQueue(label: "lazyfs-cli-\(worker)").async(group: writers) {
        let output = io + "/cli-\(worker)"
        for (index, code) in codes.enumerated() {
          var arguments = ["--home", home.path, "redeem", code, "--store", "C\(worker)"]
          if index % 4 == 0 { arguments += ["--profile", profile] }
          guard let pid = children.spawn(voucherBinary, arguments, stdout: output) else { return }
          _ = children.wait(pid)
          acknowledged.record(text: (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
        }
      }
    }
    DispatchQueue(label: "lazyfs-stream").async(group: writers) {
      let input = io + "/stream-in"
      let output = io + "/stream-out"
      _ = FileManager.default.createFile(
        atPath: input, contents: Data((stream.joined(separator: "\n") + "\n").utf8))
      guard
        let pid = children.spawn(
          voucherBinary, ["--home", home.path, "redeem", "-", "--store", "T"], stdin: input,
          stdout: output)
      else { return }
      _ = children.wait(pid)
      acknowledged.record(text: (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
    }
    let begun = Date()
    for (at, arguments) in admin {
      DispatchQueue(label: "lazyfs-\(arguments[0])").async(group: writers) {
        while Date().timeIntervalSince(begun) < at {
          if children.isStopped { return }
          usleep(5_000)
        }
        guard let pid = children.spawn(voucherBinary, ["--home", home.path] + arguments),
          children.wait(pid).succeeded
        else { return }
        if arguments[0] == "block", let flag = arguments.firstIndex(of: "--serials") {
          let bounds = arguments[flag + 1].split(separator: "-").compactMap { Int($0) }
          acknowledged.record(block: bounds[0]...bounds[1])
        } else if arguments[0] == "forget" {
          acknowledged.record(forget: arguments[2])
        }
      }
    }
    DispatchQueue(label: "lazyfs-writeback").async(group: writers) {
      while !children.isStopped {
        let fd = open(mountPoint, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
          _ = syncFileSystem?(fd)
          close(fd)
        }
        usleep(writeback)
      }
    }
  }

  /// Reads the whole journal back (`export`) and compares it with what was acknowledged.
  func audit(
    _ home: Home, _ io: String, _ triples: Set<String>, _ figures: inout Figures,
    _ acknowledged: Acknowledged, _ context: String
  ) throws {
    let output = io + "/export"
    let children = Children()
    let pid = try #require(
      children.spawn(
        voucherBinary, ["--home", home.path, "export", "--format", "jsonl"], stdout: output,
        stderr: io + "/export-errors"))
    let ending = children.wait(pid)
    let errors = (try? String(contentsOfFile: io + "/export-errors", encoding: .utf8)) ?? ""
    #expect(ending.succeeded, "\(context): export failed: \(errors)")
    let journal = JournalContents(jsonLines: try Data(contentsOf: URL(fileURLWithPath: output)))
    try? FileManager.default.removeItem(atPath: output)
    var lost: [String] = []
    var doubled: [String] = []
    acknowledged.state.withLock { state in
      for (code, count) in state.redemptions {
        let allowed = triples.contains(code) ? 3 : 1
        let found = journal.redemptions[code, default: 0]
        if found < min(count, allowed) {
          lost.append("redemption of \(code) (acknowledged \(count), \(found) in the journal)")
        }
        if count > allowed { doubled.append("\(code) (acknowledged \(count) times)") }
      }
      for serials in state.blocks where !journal.blocks.contains(serials) {
        lost.append("block of serials \(serials)")
      }
      for profile in state.forgotten where journal.profiles.contains(profile) {
        lost.append("erasure of \(profile)")
      }
    }
    for (code, count) in journal.redemptions where count > (triples.contains(code) ? 3 : 1) {
      doubled.append("\(code) (\(count) redemptions in the journal)")
    }
    report(lost: lost, doubled: doubled, &figures, context)
  }

  /// New processes ask about acknowledged single-use codes: `verify` must answer used-up and
  /// `redeem` must not redeem them again.
  func probe(
    _ home: Home, _ codes: [String], _ figures: inout Figures, _ acknowledged: Acknowledged,
    _ context: String
  ) {
    guard !codes.isEmpty else { return }
    figures.probes += 1
    var lost: [String] = []
    var doubled: [String] = []
    let verified = home.run(arguments: ["verify", "--format", "json", "--"] + codes)
    let rows = (try? JSONDecoder().decode([JSONValue].self, from: Data(verified.stdout.utf8))) ?? []
    #expect(rows.count == codes.count, "\(context): verify: \(verified.stderr.prefix(2000))")
    for row in rows where row["status"]?.string != "used-up" {
      lost.append(
        "redemption of \(row["code"]?.string ?? "?") (verify: \(row["status"]?.string ?? "?"))")
    }
    let redeemed = home.run(
      arguments: ["redeem", "-", "--store", "P"],
      stdin: Data((codes.joined(separator: "\n") + "\n").utf8))
    #expect(
      redeemed.stdoutLines.count == codes.count,
      "\(context): redeem: \(redeemed.stderr.prefix(2000))")
    acknowledged.record(text: redeemed.stdout)
    _ = acknowledged.takeRecent()
    for line in redeemed.stdoutLines {
      let fields = line.split(separator: " ")
      if fields.count > 1 && fields[1] == "redeemed" {
        doubled.append("\(fields[0]) (redeemed again by a new process)")
      }
    }
    report(lost: lost, doubled: doubled, &figures, context)
  }

  /// Counts what went wrong (each operation or code once) and records one issue per kind.
  func report(lost: [String], doubled: [String], _ figures: inout Figures, _ context: String) {
    // The operation or code, without the details in parentheses.
    func key(_ item: String) -> String {
      String(item.prefix { $0 != "(" }).trimmingCharacters(in: .whitespaces)
    }
    let newlyLost = lost.filter { !figures.lost.contains(key($0)) }
    let newlyDoubled = doubled.filter { !figures.doubled.contains(key($0)) }
    figures.lost.formUnion(lost.map(key))
    figures.doubled.formUnion(doubled.map(key))
    if !newlyLost.isEmpty {
      Issue.record(
        "\(context): \(newlyLost.count) acknowledged operations lost, such as \(newlyLost.prefix(5))"
      )
    }
    if !newlyDoubled.isEmpty {
      Issue.record(
        "\(context): \(newlyDoubled.count) codes over their uses, such as \(newlyDoubled.prefix(5))"
      )
    }
  }
}
