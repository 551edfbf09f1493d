import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// One LazyFS disk: `ROOT/b` (the backing folder, the "disk") seen through LazyFS's cache at
/// `ROOT/m`, with its fault FIFO at `ROOT/faults`. `ROOT` is short, because LazyFS reads a fault
/// command in one read of at most 100 bytes and names files by their backing path.
final class LazyFSMount {
  let root: String
  let binaries: String
  var mountPoint: String { root + "/m" }
  var backing: String { root + "/b" }
  var fifo: String { root + "/faults" }
  var log: String { root + "/lazyfs.log" }
  private let children = Children()
  private var pid: pid_t?

  /// Makes the folders, the FIFO and the configuration; mounts nothing yet.
  init(binaries: String) throws {
    self.binaries = binaries
    let base = FileManager.default.fileExists(atPath: "/tmp") ? "/tmp" : NSTemporaryDirectory()
    var template = Array((base + "/vlz.XXXXXX").utf8CString)
    guard let made = mkdtemp(&template) else { throw TestFailure("mkdtemp failed: errno \(errno)") }
    root = String(cString: made)
    for folder in [mountPoint, backing] {
      try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
    }
    guard mkfifo(fifo, 0o600) == 0 else { throw TestFailure("mkfifo \(fifo): errno \(errno)") }
    let config = """
      [faults]
      fifo_path="\(fifo)"
      [cache]
      apply_eviction=false
      [cache.simple]
      custom_size="256mb"
      blocks_per_page=1
      [filesystem]
      log_all_operations=false
      logfile="\(log)"

      """
    try config.write(toFile: root + "/lazyfs.toml", atomically: true, encoding: .utf8)
  }

  /// The path LazyFS uses for a file of the mount (as fault commands name it).
  func backingPath(_ relative: String) -> String { backing + "/" + relative }

  /// Mounts, and waits until the mount is there.
  func mount() throws {
    precondition(pid == nil, "already mounted")
    // Without core files: LazyFS kills itself with SIGKILL on a crash fault, but aborts when it
    // is unmounted.
    let started = children.spawn(
      "/bin/sh",
      [
        "-c", "ulimit -c 0; exec \"$0\" \"$@\"", binaries + "/lazyfs", mountPoint, "--config-path",
        root + "/lazyfs.toml", "-o", "allow_other", "-o", "modules=subdir", "-o",
        "subdir=\(backing)", "-f",
      ], stdout: root + "/lazyfs.out", stderr: root + "/lazyfs.out",
      environment: ["LD_LIBRARY_PATH": binaries])
    guard let started else { throw TestFailure("cannot start \(binaries)/lazyfs") }
    pid = started
    let deadline = Date().addingTimeInterval(15)
    while !isMounted {
      guard children.isRunning(started), Date() < deadline else {
        let output = (try? String(contentsOfFile: root + "/lazyfs.out", encoding: .utf8)) ?? ""
        unmount()
        throw TestFailure("LazyFS did not mount at \(mountPoint): \(output.suffix(2000))")
      }
      usleep(10_000)
    }
  }

  /// Whether the mount point is a LazyFS mount (dead or alive).
  var isMounted: Bool {
    let table = (try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)) ?? ""
    return table.split(separator: "\n").contains { $0.hasPrefix("lazyfs \(mountPoint) ") }
  }

  /// Whether LazyFS is running (a crash fault kills it).
  var isRunning: Bool { pid.map { children.isRunning($0) } ?? false }

  /// Waits up to `seconds` for LazyFS to end; answers whether it did.
  func waitForCrash(seconds: Double) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while isRunning {
      if Date() >= deadline { return false }
      usleep(5_000)
    }
    return true
  }

  /// Writes a fault command to the FIFO and waits until LazyFS has read it, so that two
  /// commands never arrive in one read.
  func inject(_ command: String) throws {
    let line = Array((command + "\n").utf8)
    guard line.count < 100 else {
      throw TestFailure("fault command over 99 bytes, LazyFS would cut it: \(command)")
    }
    // Non-blocking: with LazyFS gone nobody reads the FIFO, and the open fails instead of hanging.
    let fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
    guard fd >= 0 else { throw TestFailure("LazyFS is not reading \(fifo): errno \(errno)") }
    defer { close(fd) }
    guard line.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == line.count else {
      throw TestFailure("cannot write to \(fifo): errno \(errno)")
    }
    let deadline = Date().addingTimeInterval(5)
    var unread: Int32 = 1
    while ioctl(fd, UInt(FIONREAD), &unread) == 0 && unread > 0 && Date() < deadline {
      usleep(1_000)
    }
  }

  /// `lazyfs::clear-cache`, waiting until LazyFS reports it done: every write not fsynced is lost.
  func clearCache() throws {
    let done = "cache is cleared."
    let before = logText.components(separatedBy: done).count
    try inject("lazyfs::clear-cache")
    let deadline = Date().addingTimeInterval(10)
    while logText.components(separatedBy: done).count == before {
      guard Date() < deadline, isRunning else {
        throw TestFailure("LazyFS did not report the cleared cache")
      }
      usleep(2_000)
    }
  }

  private var logText: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

  /// Unmounts (lazily when LazyFS is dead or the mount busy) and reaps LazyFS; what it had not
  /// synced is lost, as it never writes its cache back.
  func unmount() {
    guard let running = pid else { return }
    let fusermount = LazyFS.fusermount ?? "fusermount3"
    if isRunning && isMounted {
      _ = runBinary(["-u", mountPoint], executable: fusermount)
      let deadline = Date().addingTimeInterval(10)
      while isRunning && Date() < deadline { usleep(5_000) }
    }
    if isMounted { _ = runBinary(["-uz", mountPoint], executable: fusermount) }
    children.killAll()
    _ = children.wait(running)
    children.resume()
    pid = nil
  }

  /// Deletes the folders (after `unmount()`).
  func remove() {
    guard !isMounted else { return }
    try? FileManager.default.removeItem(atPath: root)
  }
}
