import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// Child processes started with `posix_spawn` and reaped only here, so that a kill by process id
/// can never reach a process that is not ours: the id of a child that was not reaped yet is never
/// given to another process.
///
/// `killAll()` stops new starts and sends `SIGKILL` to every child still running; `resume()`
/// allows starts again.
final class Children: Sendable {
  private struct State {
    var stopped = false
    var running: Set<pid_t> = []
  }
  private let state = Mutex(State())

  /// How a child ended.
  struct Ending {
    /// The exit status, or the signal's number when a signal ended it.
    let status: Int32
    let signaled: Bool
    var succeeded: Bool { !signaled && status == 0 }
  }

  /// Starts `executable` with `arguments` (standard streams from and to files), unless
  /// `killAll()` was called since the last `resume()`; answers its process id.
  func spawn(
    _ executable: String, _ arguments: [String], stdin: String = "/dev/null",
    stdout: String = "/dev/null", stderr: String = "/dev/null", environment: [String: String] = [:]
  ) -> pid_t? {
    var env = ProcessInfo.processInfo.environment
    env.removeValue(forKey: "VOUCHER_HOME")
    env.merge(environment) { $1 }
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
      for pointer in argv { free(pointer) }
      for pointer in envp { free(pointer) }
    }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    // Nothing else of the test process: an inherited pipe of another test would keep it open.
    _ = Self.closeFrom?(&actions, 3)
    // A dispatch thread blocks signals and the test runner may ignore SIGPIPE: the child starts
    // with an empty mask and default dispositions.
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var empty = sigset_t()
    sigemptyset(&empty)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    sigaddset(&defaults, SIGPIPE)
    sigaddset(&defaults, SIGTERM)
    sigaddset(&defaults, SIGINT)
    posix_spawnattr_setsigmask(&attributes, &empty)
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    return state.withLock { state -> pid_t? in
      guard !state.stopped else { return nil }
      var pid: pid_t = 0
      guard posix_spawn(&pid, executable, &actions, &attributes, argv, envp) == 0 else {
        return nil
      }
      state.running.insert(pid)
      return pid
    }
  }

  /// `posix_spawn_file_actions_addclosefrom_np` (glibc 2.34, not in Swift's Glibc module).
  private static let closeFrom:
    (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
      guard
        let symbol = dlsym(
          UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np")
      else { return nil }
      return unsafeBitCast(
        symbol,
        to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)
          .self)
    }()

  /// Whether a child has not ended yet (it is not reaped).
  func isRunning(_ pid: pid_t) -> Bool {
    var info = siginfo_t()
    while waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0 {
      guard errno == EINTR else { return false }
    }
    return info._sifields._kill.si_pid == 0
  }

  /// Waits for a child to end, reaps it and answers how it ended.
  func wait(_ pid: pid_t) -> Ending {
    var info = siginfo_t()
    while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR {}
    // No kill can be sent to it once it is out of the set, and only then is its id freed.
    state.withLock { _ = $0.running.remove(pid) }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let signal = status & 0x7f
    return signal == 0
      ? Ending(status: (status >> 8) & 0xff, signaled: false)
      : Ending(status: signal, signaled: true)
  }

  /// Starts nothing more and kills every child still running with `SIGKILL`.
  func killAll() {
    state.withLock { state in
      state.stopped = true
      for pid in state.running { kill(pid, SIGKILL) }
    }
  }

  /// Sends `SIGKILL` to one child still running, chosen by `pick` from how many there are;
  /// answers whether there was one.
  @discardableResult
  func killOne(_ pick: (Int) -> Int) -> Bool {
    state.withLock { state in
      guard !state.running.isEmpty else { return false }
      let pids = state.running.sorted()
      kill(pids[pick(pids.count) % pids.count], SIGKILL)
      return true
    }
  }

  /// Whether `killAll()` was called since the last `resume()`.
  var isStopped: Bool { state.withLock { $0.stopped } }

  /// Allows starts again after `killAll()`.
  func resume() { state.withLock { $0.stopped = false } }
}
