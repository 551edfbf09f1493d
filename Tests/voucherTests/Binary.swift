import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// What one run of the built `voucher` binary did.
struct Outcome {
  let status: Int32
  /// Whether a signal ended the process (then `status` is the signal's number).
  var signaled = false
  let stdout: String
  let stderr: String
  var stdoutLines: [String] {
    stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
  }
  var stderrLines: [String] {
    stderr.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
  }
}

/// A temporary home folder driven through the real binary.
struct Home {
  let path: String

  /// An empty home; `keyed` adds a key and a campaign `summer` (channels flyer, receipt).
  init(keyed: Bool = true) throws {
    try self.init(
      at: FileManager.default.temporaryDirectory.appendingPathComponent(
        "voucher-e2e-\(UUID().uuidString)"
      ).path, keyed: keyed)
  }

  /// A home at `path` (created if missing), for example on a file system a test mounted.
  init(at path: String, keyed: Bool = true) throws {
    self.path = path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    if keyed {
      try #require(run("keys", "new").status == 0)
      try #require(
        run(
          "campaign", "add", "summer", "--channels", "flyer,receipt", "--capacity", "100000",
          "--title", "Summer coffee"
        ).status == 0)
    }
  }

  func remove() { try? FileManager.default.removeItem(atPath: path) }

  /// Runs `voucher --home HOME arguments...`.
  @discardableResult
  func run(_ arguments: String..., stdin: Data? = nil, environment: [String: String] = [:])
    -> Outcome
  {
    runBinary(
      ["--home", path] + arguments, stdin: stdin, environment: environment, directory: path)
  }

  @discardableResult
  func run(arguments: [String], stdin: Data? = nil, timeout: Double? = nil) -> Outcome {
    runBinary(
      ["--home", path] + arguments, stdin: stdin, environment: [:], directory: path,
      timeout: timeout)
  }

  /// Every file under the home with its mode and contents, to show a failed command changed nothing.
  /// A FIFO, socket or device is named by its kind, never opened (a FIFO would block the read).
  func snapshot() -> [String: String] {
    var result: [String: String] = [:]
    let enumerator = FileManager.default.enumerator(atPath: path)
    while let relative = enumerator?.nextObject() as? String {
      let full = path + "/" + relative
      var info = stat()
      if lstat(full, &info) == 0, ![S_IFREG, S_IFDIR, S_IFLNK].contains(info.st_mode & S_IFMT) {
        result[relative] = "\(info.st_mode):special \(info.st_rdev)"
        continue
      }
      let attributes = (try? FileManager.default.attributesOfItem(atPath: full)) ?? [:]
      let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
      let contents =
        FileManager.default.contents(atPath: full).map { String(decoding: $0, as: UTF8.self) }
        ?? "<folder>"
      result[relative] = "\(mode):\(contents)"
    }
    return result
  }
}

/// The built `voucher` binary beside the test bundle.
let voucherBinary: String = {
  var url = Bundle.main.bundleURL
  if url.pathExtension == "xctest" { url.deleteLastPathComponent() }
  for candidate in [
    url.appendingPathComponent("voucher"),
    URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
      .appendingPathComponent("voucher"),
  ] {
    if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate.path }
  }
  return url.appendingPathComponent("voucher").path
}()

/// Runs the binary with stdin, stdout and stderr in files (no pipe can fill up and block).
///
/// With a `timeout`, a process still running after that many seconds is killed (`SIGKILL`, so the
/// outcome says `signaled`): a test of something that used to hang fails instead of hanging.
///
/// Spawned and waited for directly (`posix_spawn`, `waitpid`): Foundation's `Process` once
/// missed a child's exit under load (the child a zombie, `waitUntilExit` waiting for ever, and
/// the whole test run with it).
func runBinary(
  _ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:],
  directory: String? = nil, executable: String = voucherBinary, timeout: Double? = nil
) -> Outcome {
  let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
    "voucher-io-\(UUID().uuidString)")
  try! FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: scratch) }
  let input = scratch.appendingPathComponent("in")
  let output = scratch.appendingPathComponent("out")
  let errors = scratch.appendingPathComponent("err")
  _ = FileManager.default.createFile(atPath: input.path, contents: stdin ?? Data())
  _ = FileManager.default.createFile(atPath: output.path, contents: nil)
  _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
  var env = ProcessInfo.processInfo.environment
  env.removeValue(forKey: "VOUCHER_HOME")
  env.merge(environment) { $1 }

  var actions = posix_spawn_file_actions_t()
  posix_spawn_file_actions_init(&actions)
  defer { posix_spawn_file_actions_destroy(&actions) }
  posix_spawn_file_actions_addopen(&actions, 0, input.path, O_RDONLY, 0)
  posix_spawn_file_actions_addopen(&actions, 1, output.path, O_WRONLY, 0)
  posix_spawn_file_actions_addopen(&actions, 2, errors.path, O_WRONLY, 0)
  // In another folder through the shell, which changes to it and then becomes the program.
  let command =
    directory.map { ["/bin/sh", "-c", "cd -- \"$0\" && exec \"$@\"", $0, executable] }
    ?? [executable]
  let argv = (command + arguments).map { strdup($0) } + [nil]
  let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
  defer { for pointer in argv + envp { free(pointer) } }
  var pid = pid_t()
  let spawned = posix_spawn(&pid, command[0], &actions, nil, argv, envp)
  precondition(spawned == 0, "cannot run \(executable): error \(spawned)")

  var status: Int32 = 0
  if let timeout {
    let deadline = Date().addingTimeInterval(timeout)
    var done = false
    while !done && Date() < deadline {
      let reaped = waitpid(pid, &status, WNOHANG)
      if reaped == pid { done = true } else { usleep(10_000) }
    }
    if !done {
      kill(pid, SIGKILL)
      while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    }
  } else {
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
  }
  // As Process reports them: the exit status, or the number of the signal that ended it.
  let signaled = status & 0x7f != 0
  return Outcome(
    status: signaled ? status & 0x7f : (status >> 8) & 0xff, signaled: signaled,
    stdout: String(decoding: (try? Data(contentsOf: output)) ?? Data(), as: UTF8.self),
    stderr: String(decoding: (try? Data(contentsOf: errors)) ?? Data(), as: UTF8.self))
}
