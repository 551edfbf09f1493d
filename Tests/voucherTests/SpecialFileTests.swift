import Foundation
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

@Suite("FIFOs, devices and folders where a file is expected")
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
}
