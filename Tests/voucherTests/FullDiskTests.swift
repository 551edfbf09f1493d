import Foundation
import Testing
import VoucherTestSupport

#if canImport(Glibc)
  import Glibc
#endif

/// A small file system mounted for one test: a tmpfs of a few MiB, or an ext4 image on a loop
/// device. Needs root (as CI has); unavailable elsewhere.
struct SmallFileSystem {
  enum Kind: String, CaseIterable, CustomTestStringConvertible {
    case tmpfs, ext4
    var testDescription: String { rawValue }
  }

  let kind: Kind
  let mountPoint: String
  private let image: String?

  /// Why a small file system cannot be mounted here, or `nil` when it can.
  static let unavailable: String? = {
    if getuid() != 0 { return "mounting a small file system needs root (CI runs as root)" }
    do {
      let probe = try SmallFileSystem(.tmpfs, megabytes: 1)
      probe.unmount()
    } catch {
      return "cannot mount a tmpfs here: \(error)"
    }
    return nil
  }()

  init(_ kind: Kind, megabytes: Int) throws {
    self.kind = kind
    let base = FileManager.default.temporaryDirectory.appendingPathComponent(
      "voucher-small-\(UUID().uuidString)"
    ).path
    mountPoint = base + "-mnt"
    try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
    switch kind {
    case .tmpfs:
      image = nil
      try Self.shell("mount", "-t", "tmpfs", "-o", "size=\(megabytes)m", "tmpfs", mountPoint)
    case .ext4:
      image = base + ".img"
      try Self.shell("truncate", "-s", "\(megabytes)M", image!)
      try Self.shell("mkfs.ext4", "-q", "-F", image!)
      try Self.shell("mount", "-o", "loop", image!, mountPoint)
    }
  }

  func unmount() {
    _ = try? Self.shell("umount", mountPoint)
    try? FileManager.default.removeItem(atPath: mountPoint)
    if let image { try? FileManager.default.removeItem(atPath: image) }
  }

  /// Writes a file until the file system is full; answers its path.
  func fill() -> String {
    let path = mountPoint + "/filler"
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    defer { close(fd) }
    let chunk = [UInt8](repeating: 0x55, count: 64 << 10)
    var size = chunk.count
    while size > 0 {
      while chunk.withUnsafeBytes({ write(fd, $0.baseAddress, size) }) > 0 {}
      size /= 2  // the last bytes, in smaller and smaller writes
    }
    fsync(fd)
    return path
  }

  struct Failure: Error, CustomStringConvertible { let description: String }

  @discardableResult
  static func shell(_ arguments: String...) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    try process.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw Failure(description: "\(arguments.joined(separator: " ")): \(text)")
    }
    return text
  }
}

@Suite(
  "a full disk: documented exit statuses, never a signal, nothing acknowledged lost",
  .serialized,
  .enabled(if: SmallFileSystem.unavailable == nil, "\(SmallFileSystem.unavailable ?? "")"))
struct FullDiskTests {
  @Test(
    "on a full tmpfs and a full ext4 image, every command answers or fails with a documented status; after space is freed every acknowledged redemption is there and every command works",
    arguments: SmallFileSystem.Kind.allCases)
  func fullDisk(_ kind: SmallFileSystem.Kind) throws {
    let disk = try SmallFileSystem(kind, megabytes: kind == .tmpfs ? 8 : 16)
    defer { disk.unmount() }
    let home = try Home(at: disk.mountPoint + "/home")
    let codes = home.run("issue", "--campaign", "summer", "--channel", "flyer", "--count", "400")
      .stdoutLines
    try #require(codes.count == 400)
    // Codes whose index entries lie on pages never written (another channel's part of the index).
    let far = home.run("issue", "--campaign", "summer", "--channel", "receipt", "--count", "3")
      .stdoutLines
    try #require(far.count == 3)
    var acknowledged = Set<String>()
    let first = home.run(
      "redeem", "-", "--store", "S1", stdin: Data(codes[0..<50].joined(separator: "\n").utf8))
    for line in first.stdoutLines where line.contains("  redeemed") {
      acknowledged.insert(String(line.prefix(while: { $0 != " " })))
    }
    #expect(acknowledged.count == 50)
    #expect(home.run("claim", codes[60], "--profile", "crm:60").status == 0)

    let filler = disk.fill()
    var statuses: [String: Int32] = [:]
    let commands: [(String, [String], Data?)] = [
      ("verify unused", ["verify", codes[300]], nil),
      ("verify unused, index page never written", ["verify", far[0]], nil),
      ("history, index page never written", ["history", far[0]], nil),
      ("claim, index page never written", ["claim", far[1], "--profile", "crm:2"], nil),
      ("redeem, index page never written", ["redeem", far[2], "--store", "S2"], nil),
      ("verify used", ["verify", codes[1]], nil),
      ("verify stream", ["verify", "-"], Data(codes[290..<300].joined(separator: "\n").utf8)),
      ("history", ["history", codes[1]], nil),
      ("claim", ["claim", codes[100], "--profile", "crm:1"], nil),
      ("redeem", ["redeem", codes[101], "--store", "S2"], nil),
      ("redeem stream", ["redeem", "-", "--store", "S2"],
        Data(codes[102..<250].joined(separator: "\n").utf8)),
      ("void", ["void", codes[2]], nil),
      ("block", ["block", "--campaign", "summer", "--channel", "flyer", "--serials", "390-400"], nil),
      ("report", ["report", "--campaign", "summer"], nil),
      ("export", ["export", "--campaign", "summer"], nil),
      ("registry check", ["registry", "check"], nil),
      ("registry rebuild", ["registry", "rebuild"], nil),
      ("issue", ["issue", "--campaign", "summer", "--channel", "flyer", "--count", "5"], nil),
    ]
    var voided = false
    for (name, arguments, input) in commands {
      let outcome = home.run(arguments: arguments, stdin: input)
      statuses[name] = outcome.status
      #expect(!outcome.signaled, "\(kind) \(name): killed by signal \(outcome.status)")
      #expect(
        [0, 1, 74].contains(outcome.status),
        "\(kind) \(name): exit \(outcome.status): \(outcome.stderr)")
      for line in outcome.stderrLines {
        #expect(
          line.hasPrefix("error: ") || line.hasPrefix("warning: "), "\(kind) \(name): \(line)")
      }
      if outcome.status == 74 { #expect(outcome.stderr.contains("error: "), "\(kind) \(name)") }
      if name.hasPrefix("redeem") {
        for line in outcome.stdoutLines where line.contains("  redeemed") {
          acknowledged.insert(String(line.prefix(while: { $0 != " " })))
        }
      }
      if name == "void", outcome.status == 0 { voided = true }
    }
    // Space again: nothing by hand, every command works and nothing acknowledged is lost.
    try FileManager.default.removeItem(atPath: filler)
    let check = home.run("registry", "check")
    #expect(check.status == 0, "\(kind): \(check.stderr)")
    for code in acknowledged where !(voided && code == codes[2]) {
      let verify = home.run("verify", code)
      #expect(verify.stdout.contains("  used-up  "), "\(kind) \(code): \(verify.stdout)")
    }
    #expect(home.run("redeem", codes[350], "--store", "S3").status == 0)
    #expect(home.run("redeem", codes[0], "--store", "S3").stdout.contains("  used-up  "))
    #expect(home.run("registry", "rebuild").status == 0)
    #expect(home.run("registry", "check").status == 0)
    print("full \(kind): \(statuses.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")); \(acknowledged.count) acknowledged redemptions, all kept")
  }
}
