import Foundation
import Testing
import VoucherTestSupport

#if canImport(Glibc)
  import Glibc
#endif

/// Faults injected into the unmodified binary: `fiu-run` (Debian's `fiu-utils`) makes chosen
/// POSIX calls fail, and `ulimit -f` makes writes past a size fail with EFBIG.
enum Faults {
  /// `fiu-run`, if installed with its POSIX preload library.
  static let fiuRun: String? = {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for folder in path.split(separator: ":") {
      let candidate = "\(folder)/fiu-run"
      if FileManager.default.isExecutableFile(atPath: candidate),
        FileManager.default.fileExists(atPath: "/usr/lib/fiu/fiu_posix_preload.so")
      {
        return candidate
      }
    }
    return nil
  }()

  static var available: Bool { fiuRun != nil }

  /// The exit statuses of the README's table that a failure may have.
  static let documented: Set<Int32> = [1, 64, 65, 66, 70, 73, 74, 75, 78]
}

extension Home {
  /// Runs `voucher --home HOME arguments...` under `fiu-run` with failure points enabled
  /// (`enable name=...`, or `enable_random name=...,probability=P`).
  func run(faults commands: [String], _ arguments: [String], stdin: Data? = nil) -> Outcome {
    var fiu = ["-x", "-f", ""]
    for command in commands { fiu += ["-c", command] }
    return runBinary(
      fiu + [voucherBinary, "--home", path] + arguments, stdin: stdin, directory: path,
      executable: Faults.fiuRun!)
  }

  /// Runs `voucher --home HOME arguments...` with a file size limit of `kilobytes`.
  func run(fileSizeLimit kilobytes: Int, _ arguments: [String]) -> Outcome {
    runBinary(
      ["-c", "ulimit -f \(kilobytes) && exec \"$0\" \"$@\"", voucherBinary, "--home", path]
        + arguments, directory: path, executable: "/bin/sh")
  }

  /// Issued codes of campaign `summer`, channel flyer.
  func codes(_ count: Int) -> [String] {
    run("issue", "--campaign", "summer", "--channel", "flyer", "--count", "\(count)").stdoutLines
  }

  /// The redemptions in a code's history.
  func redemptions(_ code: String) throws -> Int {
    try JSONDecoder().decode(
      [JSONValue].self, from: Data(run("history", code, "--format", "json").stdout.utf8)
    ).filter { $0["event"]?.string == "redeemed" }.count
  }
}

/// A refused operation: a documented non-zero status, one `error:` line, no acknowledgement.
func expectRefused(_ outcome: Outcome, _ what: String, quiet: Bool = false) {
  #expect(!outcome.signaled, "\(what): killed by signal \(outcome.status)")
  #expect(
    Faults.documented.contains(outcome.status) && outcome.status != 1,
    "\(what): exit status \(outcome.status); \(outcome.stderr)")
  for word in ["redeemed", "voided", "claimed", "blocked"] {
    #expect(!outcome.stdout.contains(word), "\(what) acknowledged: \(outcome.stdout)")
  }
  if !quiet {
    #expect(
      outcome.stderrLines.count == 1 && outcome.stderr.hasPrefix("error: "),
      "\(what): \(outcome.stderr)")
  }
}

@Suite(
  "faults injected into the real binary (fiu-run, ulimit -f)", .serialized,
  .enabled(if: Faults.available, "fiu-run is not installed (Debian: apt-get install fiu-utils)"))
struct FaultInjectionTests {
  @Test(
    "a failed fdatasync: no acknowledgement, the registry fenced until check passes, then the code redeems once"
  )
  func failedSync() throws {
    var injected: [String: Int] = [:]
    let home = try Home()
    defer { home.remove() }
    let codes = home.codes(6)
    for code in codes.prefix(3) { #expect(home.run("redeem", code, "--store", "S1").status == 0) }
    let operations: [[String]] = [
      ["redeem", codes[3], "--store", "S1", "--request", "r-3"],
      ["void", codes[0], "--reason", "return"],
      ["claim", codes[4], "--profile", "crm:1"],
      ["block", "--campaign", "summer", "--channel", "flyer", "--serials", "6"],
    ]
    for operation in operations {
      let failed = home.run(faults: ["enable name=posix/io/sync/fdatasync"], operation)
      expectRefused(failed, operation.joined(separator: " "))
      #expect(failed.status == 74 && failed.stderr.contains("cannot sync"), "\(failed.stderr)")
      injected["fdatasync", default: 0] += 1
      #expect(FileManager.default.fileExists(atPath: home.path + "/Registry/FENCED"))
      // Fenced: every write is refused, with or without faults, until a check.
      let refused = home.run("redeem", codes[5], "--store", "S1")
      expectRefused(refused, "redeem while fenced")
      #expect(
        refused.status == 74 && refused.stderr.contains("refuses writes"), "\(refused.stderr)")
      // Reads still answer, and the failed operation was not applied.
      #expect(home.run("verify", codes[3]).stdout.contains("  valid  "))
      #expect(home.run("verify", codes[0]).stdout.contains("  used-up  "))
      let check = home.run("registry", "check")
      #expect(check.status == 0, "\(check.stderr)")
      #expect(!FileManager.default.fileExists(atPath: home.path + "/Registry/FENCED"))
    }
    let redeemed = home.run("redeem", codes[3], "--store", "S1", "--request", "r-3")
    #expect(redeemed.status == 0 && redeemed.stdout.contains("  redeemed  "))
    #expect(try home.redemptions(codes[3]) == 1)
    for code in codes.prefix(3) { #expect(try home.redemptions(code) == 1) }
    #expect(home.run("void", codes[0], "--reason", "return").status == 0)
    #expect(home.run("claim", codes[4], "--profile", "crm:1").status == 0)
    print("failed fdatasync: \(injected)")
  }

  @Test(
    "failing write, pwrite, open, mmap, fsync, ftruncate, rename: a clear error, no acknowledgement, files repairable, a retry redeems once"
  )
  func failedCalls() throws {
    let points = [
      "posix/io/rw/pwrite", "posix/io/oc/open", "posix/mm/mmap", "posix/io/sync/fsync",
      "posix/io/rw/ftruncate", "posix/io/dir/rename", "posix/io/rw/write",
    ]
    var fired: [String: Int] = [:]
    for point in points {
      // Twice: once on a home without a registry (the redeem creates it), once with one.
      for existing in [false, true] {
        let home = try Home()
        defer { home.remove() }
        let codes = home.codes(3)
        if existing { #expect(home.run("redeem", codes[0], "--store", "S1").status == 0) }
        let arguments = ["redeem", codes[1], "--store", "S1", "--request", "r-1"]
        let outcome = home.run(faults: ["enable name=\(point)"], arguments)
        let what = "\(point), \(existing ? "existing registry" : "new registry")"
        if outcome.status == 0 && !outcome.signaled {
          // The call was not made on this path (a folder sync happens only when files appear).
          #expect(outcome.stdout.contains("  redeemed  "), "\(what): \(outcome.stdout)")
          continue
        }
        fired[point, default: 0] += 1
        // A failing write(2) also fails the error line on stderr.
        expectRefused(outcome, what, quiet: point == "posix/io/rw/write")
        // Repairable: a check passes (and lifts a fence); nothing acknowledged is lost.
        let check = home.run("registry", "check")
        #expect(check.status == 0 || check.status == 66, "\(what): \(check.stderr)")
        #expect(!FileManager.default.fileExists(atPath: home.path + "/Registry/FENCED"))
        if existing { #expect(try home.redemptions(codes[0]) == 1, "\(what)") }
        // The till retries with the same request id: the code is redeemed exactly once.
        let retry = home.run(arguments: arguments)
        #expect(
          retry.status == 0 && retry.stdout.contains("  redeemed  "),
          "\(what): \(retry.stdout) \(retry.stderr)")
        #expect(try home.redemptions(codes[1]) == 1, "\(what)")
        #expect(home.run("registry", "check").status == 0, "\(what)")
      }
    }
    for point in ["posix/io/rw/pwrite", "posix/io/oc/open", "posix/mm/mmap", "posix/io/rw/write"] {
      #expect(fired[point] == 2, "\(point) never failed a redeem: \(fired)")
    }
    #expect(
      fired["posix/io/sync/fsync"] == 1, "a folder sync failed no registry creation: \(fired)")
    print("failed calls: \(fired.sorted { $0.key < $1.key })")
  }

  @Test("issue under failing calls: a clear error, and no output file, complete or partial")
  func failedIssue() throws {
    var injected: [String: Int] = [:]
    let home = try Home()
    defer { home.remove() }
    let output = home.path + "/codes.csv"
    var issued = 0
    for point in [
      "posix/io/sync/fsync", "posix/io/dir/rename", "posix/io/rw/write", "posix/io/oc/open",
      "posix/io/rw/ftruncate",
    ] {
      let outcome = home.run(
        faults: ["enable name=\(point)"],
        [
          "issue", "--campaign", "summer", "--channel", "flyer", "--count", "500", "--output",
          output,
        ])
      if outcome.status == 0 && !outcome.signaled {
        // Not called on this path (the output file is linked into place, not renamed).
        issued += 500
        try FileManager.default.removeItem(atPath: output)
        continue
      }
      expectRefused(outcome, "issue, \(point)", quiet: point == "posix/io/rw/write")
      injected["issue: \(point)", default: 0] += 1
      let left = try FileManager.default.contentsOfDirectory(atPath: home.path).filter {
        $0.hasPrefix("codes")
      }
      #expect(left.isEmpty, "\(point) left \(left)")
    }
    #expect(injected.count >= 3, "\(injected)")
    // The range is recorded after the output file is written and synced, and before it moves
    // into place: a run that failed earlier recorded nothing, one that failed later leaves a gap
    // of serials (its error says how to print them again); none hands a serial out twice.
    let next = home.run(
      "issue", "--campaign", "summer", "--channel", "flyer", "--count", "1", "--format", "json")
    let serial = try JSONDecoder().decode([JSONValue].self, from: Data(next.stdout.utf8)).first?[
      "serial"]
    guard case .number(let first)? = serial else {
      Issue.record("no serial in \(next.stdout)")
      return
    }
    #expect(Int(first) > issued && (Int(first) - 1) % 500 == 0, "next serial \(first)")
    print("failed issue: \(injected)")
  }

  @Test(
    "serve: a sync that fails mid-session answers an error and fences every later write; check lifts the fence"
  )
  func serveSyncFailure() throws {
    var injected: [String: Int] = [:]
    let home = try Home()
    defer { home.remove() }
    let codes = home.codes(4)
    let control = FileManager.default.temporaryDirectory.appendingPathComponent(
      "fiu-\(UUID().uuidString)"
    ).path
    let output = home.path + "/answers"
    _ = FileManager.default.createFile(atPath: output, contents: nil)
    let server = Process()
    server.executableURL = URL(fileURLWithPath: Faults.fiuRun!)
    server.arguments = [
      "-x", "-f", control, voucherBinary, "--home", home.path, "serve", "--stdio",
    ]
    let input = Pipe()
    server.standardInput = input
    server.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
    server.standardError = FileHandle.nullDevice
    try server.run()
    func answers(_ count: Int) -> [JSONValue] {
      let deadline = Date().addingTimeInterval(10)
      while true {
        let lines = String(
          decoding: FileManager.default.contents(atPath: output) ?? Data(), as: UTF8.self
        )
        .split(separator: "\n").map(String.init)
        if lines.count >= count || Date() > deadline { return lines.compactMap(decode) }
        usleep(10_000)
      }
    }
    func fiuControl(_ command: String) {
      let outcome = runBinary(
        ["-f", control, "-c", command, "\(server.processIdentifier)"],
        executable: "/usr/bin/fiu-ctrl")
      #expect(outcome.status == 0, "fiu-ctrl: \(outcome.stderr)")
    }
    input.fileHandleForWriting.write(
      Data(request(["id": 0, "op": "redeem", "code": codes[0], "store": "S1"]).utf8))
    _ = answers(1)
    fiuControl("enable name=posix/io/sync/fdatasync")
    input.fileHandleForWriting.write(
      Data(request(["id": 1, "op": "redeem", "code": codes[1], "store": "S1"]).utf8))
    _ = answers(2)
    injected["serve: fdatasync", default: 0] += 1
    fiuControl("disable name=posix/io/sync/fdatasync")
    input.fileHandleForWriting.write(
      Data(
        (request(["id": 2, "op": "redeem", "code": codes[2], "store": "S1"])
          + request(["id": 3, "op": "void", "code": codes[0]])).utf8))
    try input.fileHandleForWriting.close()
    server.waitUntilExit()
    let all = answers(4)
    #expect(all.map { $0["status"]?.string } == ["redeemed", "error", "error", "error"], "\(all)")
    #expect(all[1]["error"]?.string?.contains("cannot sync") == true)
    #expect(all[2]["error"]?.string?.contains("refuses writes") == true)
    #expect(home.run("registry", "check").status == 0)
    #expect(home.run("verify", codes[0]).stdout.contains("  used-up  "))
    for code in codes[1...2] {
      #expect(home.run("verify", code).stdout.contains("  valid  "))
      #expect(home.run("redeem", code, "--store", "S1").status == 0)
    }
    print("serve: \(injected)")
  }

  /// Random faults in several calls at once, over a run of operations for a bounded time
  /// (`VOUCHER_SOAK_SECONDS` for a soak). libfiu draws its own random numbers, so a run is not
  /// replayable; the invariants hold whatever it draws.
  @Test(
    "random faults over many operations: every acknowledged redemption survives, none twice, the registry repairable"
  )
  func randomFaults() throws {
    var injected: [String: Int] = [:]
    let home = try Home()
    defer { home.remove() }
    var random = SeededGenerator(seed: Soak.seed(default: 11))
    let codes = home.codes(2_000)
    let points = [
      "posix/io/sync/fdatasync", "posix/io/rw/pwrite", "posix/io/oc/open", "posix/mm/mmap",
      "posix/io/rw/ftruncate",
    ]
    var acknowledged: [String: Int] = [:]
    var failures = 0
    var operations = 0
    let duration = Soak.duration(default: 6)
    let started = Date()
    while Date().timeIntervalSince(started) < duration && operations < codes.count {
      let code = codes[operations]
      operations += 1
      let point = points.randomElement(using: &random)!
      let probability = [0.05, 0.2, 0.5].randomElement(using: &random)!
      let arguments = ["redeem", code, "--store", "S1", "--request", "q-\(operations)"]
      let outcome = home.run(
        faults: ["enable_random name=\(point),probability=\(probability)"], arguments)
      if outcome.status == 0 {
        #expect(outcome.stdout.contains("  redeemed  "))
        acknowledged[code, default: 0] += 1
        continue
      }
      failures += 1
      injected[point, default: 0] += 1
      expectRefused(outcome, "redeem with \(point) at \(probability)")
      if FileManager.default.fileExists(atPath: home.path + "/Registry/FENCED") {
        let check = home.run("registry", "check")
        #expect(check.status == 0, "\(check.stderr)")
      }
      // A retry without faults: redeemed exactly once.
      let retry = home.run(arguments: arguments)
      #expect(retry.status == 0, "\(point): \(retry.stderr)")
      if retry.status == 0 { acknowledged[code, default: 0] += 1 }
    }
    #expect(home.run("registry", "check").status == 0)
    let verified = try JSONDecoder().decode(
      [JSONValue].self,
      from: Data(
        home.run(arguments: ["verify", "--format", "json", "--"] + Array(acknowledged.keys)).stdout
          .utf8))
    #expect(verified.allSatisfy { $0["status"]?.string == "used-up" })
    for code in acknowledged.keys.shuffled(using: &random).prefix(30) {
      #expect(try home.redemptions(code) == 1, "\(code)")
    }
    #expect(failures > 0, "no fault fired in \(operations) operations")
    print("random faults: \(failures) failed of \(operations) operations: \(injected)")
  }
}

/// `ulimit -f` needs no fiu-run: these run everywhere.
@Suite("a file size limit (ulimit -f) against the real binary")
struct FileSizeLimitTests {
  @Test(
    "a failed issue --output records no range: the issue log is as it was, and the next run hands out those serials; what standard output or a device got stays recorded, with how to print it again"
  )
  func failedIssueOutput() throws {
    let home = try Home()
    defer { home.remove() }
    #expect(home.codes(10).count == 10)
    let output = home.path + "/codes.txt"
    let before = home.snapshot()
    let failed = home.run(
      fileSizeLimit: 64,
      [
        "issue", "--campaign", "summer", "--channel", "flyer", "--count", "20000", "--output",
        output,
      ])
    #expect(failed.status == 74 && failed.stderr.contains("File too large"), "\(failed.stderr)")
    #expect(failed.stderrLines.count == 1 && !failed.stderr.contains("recorded as issued"))
    #expect(home.snapshot() == before, "the failed issue changed a file")
    func nextSerial() -> Int? {
      let next = home.run(
        "issue", "--campaign", "summer", "--channel", "flyer", "--count", "1", "--format", "json")
      let rows = try? JSONDecoder().decode([JSONValue].self, from: Data(next.stdout.utf8))
      guard case .number(let serial)? = rows?.first?["serial"] else { return nil }
      return Int(serial)
    }
    #expect(nextSerial() == 11)
    // A device cannot take back what it got: the range stays recorded, and the error says how
    // to print it again.
    let full = home.run(
      "issue", "--campaign", "summer", "--channel", "flyer", "--count", "5", "--output", "/dev/full"
    )
    #expect(full.status == 74 && full.stderrLines.count == 1, "\(full.stderr)")
    #expect(
      full.stderr.contains(
        "serials 12 to 16 are recorded as issued: print them again with 'voucher issue --campaign summer --channel flyer --first 12 --count 5'"
      ), "\(full.stderr)")
    #expect(nextSerial() == 17)
  }

  @Test(
    "ulimit -f: EFBIG is a clear error (SIGXFSZ does not kill), nothing acknowledged, the registry repairable"
  )
  func fileSizeLimit() throws {
    var injected: [String: Int] = [:]
    let home = try Home()
    defer { home.remove() }
    let codes = home.codes(60)
    // Creating the registry allocates 4 MiB of journal: over a 1 MiB limit.
    let create = home.run(fileSizeLimit: 1024, ["redeem", codes[0], "--store", "S1"])
    expectRefused(create, "registry creation over the limit")
    #expect(create.status == 74 && create.stderr.contains("File too large"), "\(create.stderr)")
    injected["ulimit -f", default: 0] += 1
    #expect(home.run("registry", "check").status == 0)
    #expect(home.run("redeem", codes[0], "--store", "S1").status == 0)
    // Appending past the limit: every record lies beyond the first kilobyte.
    for code in codes[1..<30] { _ = home.run("redeem", code, "--store", "S1") }
    let append = home.run(fileSizeLimit: 1, ["redeem", codes[30], "--store", "S1"])
    expectRefused(append, "append over the limit")
    #expect(append.status == 74 && append.stderr.contains("File too large"), "\(append.stderr)")
    injected["ulimit -f", default: 0] += 1
    let check = home.run("registry", "check")
    #expect(check.status == 0, "\(check.stderr)")
    #expect(home.run("redeem", codes[30], "--store", "S1").status == 0)
    #expect(try home.redemptions(codes[30]) == 1)
    for code in codes[0..<31] { #expect(home.run("verify", code).stdout.contains("  used-up  ")) }
    // An output file over the limit: an error, and no file.
    let output = home.path + "/big.txt"
    let issue = home.run(
      fileSizeLimit: 64,
      [
        "issue", "--campaign", "summer", "--channel", "flyer", "--count", "20000", "--output",
        output,
      ]
    )
    expectRefused(issue, "issue over the limit")
    injected["ulimit -f", default: 0] += 1
    #expect(!FileManager.default.fileExists(atPath: output))
    print("file size limit: \(injected)")
  }
}
