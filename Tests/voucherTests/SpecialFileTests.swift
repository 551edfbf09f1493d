import Foundation
import Synchronization
import Testing
import VoucherTestSupport

#if canImport(Glibc)
  import Glibc
#endif

/// `/dev/null`'s device number (major 1, minor 3), for a private copy made with `mknod`.
let nullDevice = dev_t((1 << 8) | 3)

/// Something other than a regular file, made at a path for a test.
enum SpecialFile: CaseIterable {
  case fifo, folder, device

  /// Makes it at `path`; `false` when this machine cannot (a device needs root).
  func make(at path: String) -> Bool {
    switch self {
    case .fifo: return mkfifo(path, 0o600) == 0
    case .folder: return mkdir(path, 0o700) == 0
    case .device: return getuid() == 0 && mknod(path, S_IFCHR | 0o600, nullDevice) == 0
    }
  }

  /// What the error message calls it.
  var kind: String {
    switch self {
    case .fifo: return "a FIFO"
    case .folder: return "a folder"
    case .device: return "a character device"
    }
  }

  /// Removes it again.
  func remove(at path: String) {
    if self == .folder { rmdir(path) } else { unlink(path) }
  }
}

/// Whether `path` is a character device with device number `device` (not followed if a link).
func isCharacterDevice(_ path: String, _ device: dev_t) -> Bool {
  var info = stat()
  return lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFCHR && info.st_rdev == device
}

/// Runs `body` (a command writing into the FIFO at `path`) on another thread while this one
/// reads the FIFO; answers the command's outcome and every byte read. The read end is open
/// (without blocking) before the command starts, so its open for writing never waits; nothing
/// here can hang: the reading stops when the command has ended, or after a minute.
func readingFIFO(_ path: String, while body: @escaping @Sendable () -> Outcome) throws -> (
  Outcome?, Data
) {
  let fd = open(path, O_RDONLY | O_NONBLOCK)
  guard fd >= 0 else { throw TestFailure("cannot open the FIFO \(path)") }
  defer { close(fd) }
  let finished = Mutex<Outcome?>(nil)
  Thread {
    let outcome = body()
    finished.withLock { $0 = outcome }
  }.start()
  var data = Data()
  var buffer = [UInt8](repeating: 0, count: 1 << 16)
  let deadline = Date().addingTimeInterval(60)
  while Date() < deadline {
    let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    if count > 0 {
      data.append(contentsOf: buffer[0..<count])
      continue
    }
    // Nothing to read: no writer yet, the writer between writes, or the writer gone.
    if let outcome = finished.withLock({ $0 }) {
      while case let count = buffer.withUnsafeMutableBytes({ read(fd, $0.baseAddress, $0.count) }),
        count > 0
      {
        data.append(contentsOf: buffer[0..<count])
      }
      return (outcome, data)
    }
    usleep(1_000)
  }
  return (nil, data)
}

@Suite("FIFOs, devices and folders where a file is expected, as input and as --output")
struct SpecialFileTests {
  @Test(
    "a FIFO, folder or device where a key, campaign or issue-log file should be: refused at once with exit 65 naming it, never opened for reading, nothing changed"
  )
  func specialInputFiles() throws {
    let home = try Home()
    defer { home.remove() }
    let code = home.codes(1)[0]
    let issue = ["issue", "--campaign", "summer", "--channel", "flyer", "--count", "1"]
    let issuedLog = home.path + "/Campaigns/summer.issued"
    let places: [(path: String, commands: [[String]])] = [
      (home.path + "/Keys/slot-05.key", [["verify", code], ["keys", "list"], issue]),
      (
        home.path + "/Campaigns/winter.campaign",
        [["verify", code], ["campaign", "list"], ["redeem", code, "--store", "S1"]]
      ),
      (
        issuedLog,
        [["campaign", "show", "summer"], issue, issue + ["--first", "1"], ["report"]]
      ),
    ]
    var refused = 0
    for (path, commands) in places {
      let aside = path + ".aside"
      if FileManager.default.fileExists(atPath: path) {
        try FileManager.default.moveItem(atPath: path, toPath: aside)
      }
      for special in SpecialFile.allCases {
        guard special.make(at: path) else { continue }
        defer { special.remove(at: path) }
        let before = home.snapshot()
        for arguments in commands {
          let what = "\(arguments) with \(special.kind) at \(path)"
          // A FIFO opened for reading would wait for a writer forever: 10 seconds is plenty.
          let outcome = home.run(arguments: arguments, timeout: 10)
          #expect(!outcome.signaled, "\(what): still waiting after 10 seconds")
          #expect(outcome.status == 65, "\(what): \(outcome.status) \(outcome.stderr)")
          #expect(
            outcome.stderrLines == ["error: \(path) is \(special.kind), not a regular file"],
            "\(what): \(outcome.stderr)")
          #expect(outcome.stdout.isEmpty, "\(what): \(outcome.stdout)")
          #expect(home.snapshot() == before, "\(what) changed a file")
          refused += 1
        }
      }
      if FileManager.default.fileExists(atPath: aside) {
        try FileManager.default.moveItem(atPath: aside, toPath: path)
      }
    }
    #expect(refused >= 20)
    #expect(home.run("verify", code).status == 0)
  }

  @Test(
    "--output onto a device or FIFO writes to it directly: /dev/null stays a device, a FIFO's reader gets every byte, no temporary file is left"
  )
  func outputToDevices() throws {
    let home = try Home()
    defer { home.remove() }
    let codes = home.codes(3)
    #expect(home.run("redeem", codes[0], "--store", "S1").status == 0)
    let commands: [[String]] = [
      ["issue", "--campaign", "summer", "--channel", "flyer", "--count", "100"],
      ["report", "--format", "html"],
      ["export", "--format", "jsonl"],
    ]
    func leftovers() -> [String] {
      ((try? FileManager.default.contentsOfDirectory(atPath: home.path)) ?? []).filter {
        $0.hasSuffix(".tmp")
      }
    }
    // As root, a rename over /dev/null would replace it for the whole machine: a private copy
    // of it goes first, so that should the code regress, only the copy is lost.
    var copySurvived = getuid() != 0
    if getuid() == 0 {
      let copy = home.path + "/null"
      try #require(mknod(copy, S_IFCHR | 0o666, nullDevice) == 0)
      copySurvived = true
      for arguments in commands {
        for force in [false, true] {
          let outcome = home.run(
            arguments: arguments + ["--output", copy] + (force ? ["--force"] : []))
          #expect(outcome.status == 0, "\(arguments) force \(force): \(outcome.stderr)")
          if !isCharacterDevice(copy, nullDevice) {
            copySurvived = false
            Issue.record("\(arguments) --output \(copy): the device is gone")
            break
          }
        }
      }
    }
    if copySurvived {
      var info = stat()
      try #require(lstat("/dev/null", &info) == 0 && info.st_mode & S_IFMT == S_IFCHR)
      let device = info.st_rdev
      for arguments in commands {
        let outcome = home.run(arguments: arguments + ["--output", "/dev/null", "--force"])
        #expect(outcome.status == 0, "\(arguments): \(outcome.stderr)")
        #expect(isCharacterDevice("/dev/null", device), "\(arguments) replaced /dev/null")
      }
    }
    #expect(leftovers().isEmpty, "\(leftovers())")

    // A FIFO with a reader: the reader gets exactly what standard output would have.
    let fifo = home.path + "/pipe"
    try #require(mkfifo(fifo, 0o600) == 0)
    let issue = ["issue", "--campaign", "summer", "--channel", "receipt", "--count", "20000"]
    let (issued, bytes) = try readingFIFO(fifo) { home.run(arguments: issue + ["--output", fifo]) }
    #expect(issued?.status == 0, "\(issued?.stderr ?? "still running")")
    let reprint = home.run(arguments: issue + ["--first", "1"])
    #expect(reprint.status == 0 && reprint.stdoutLines.count == 20000)
    #expect(String(decoding: bytes, as: UTF8.self) == reprint.stdout)
    let export = ["export", "--format", "csv"]
    let (exported, rows) = try readingFIFO(fifo) {
      home.run(arguments: export + ["--output", fifo, "--force"])
    }
    #expect(exported?.status == 0, "\(exported?.stderr ?? "still running")")
    #expect(String(decoding: rows, as: UTF8.self) == home.run(arguments: export).stdout)
    var info = stat()
    #expect(lstat(fifo, &info) == 0 && info.st_mode & S_IFMT == S_IFIFO, "the FIFO was replaced")
    #expect(leftovers().isEmpty, "\(leftovers())")

    // A folder is no output: one error line, exit 73, nothing changed.
    try FileManager.default.createDirectory(
      atPath: home.path + "/out", withIntermediateDirectories: false)
    let before = home.snapshot()
    for arguments in commands {
      let outcome = home.run(arguments: arguments + ["--output", home.path + "/out", "--force"])
      #expect(outcome.status == 73, "\(arguments): \(outcome.stderr)")
      #expect(
        outcome.stderrLines.count == 1
          && outcome.stderr.hasPrefix("error: \(home.path)/out is a folder"),
        "\(arguments): \(outcome.stderr)")
      #expect(home.snapshot() == before, "\(arguments) changed a file")
    }
  }
}
