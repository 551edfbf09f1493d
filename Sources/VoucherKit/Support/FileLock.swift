import FoundationEssentials

#if canImport(Glibc)
  import Glibc
#endif

/// An exclusive `flock` on a lock file. The kernel drops it when its holder dies, however it dies,
/// so a killed holder never blocks the others; a stopped holder makes waiters give up after
/// `timeout` with ``LockError/busy(path:)`` rather than hang.
package final class FileLock {
  private let fd: Int32

  /// Why a lock could not be taken.
  package enum LockError: Error, Equatable {
    /// Another process held the lock for longer than the timeout.
    case busy(path: String)
    /// The lock file could not be opened.
    case io(SystemError)
  }

  /// Takes the lock, creating the lock file if needed.
  ///
  /// - Parameters:
  ///   - path: The lock file.
  ///   - timeout: How long to wait for another holder, in seconds.
  package init(_ path: String, timeout: Double) throws(LockError) {
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw .io(SystemError("open lock file", path)) }
    if flock(fd, LOCK_EX | LOCK_NB) == 0 { return }
    let deadline = Date().addingTimeInterval(timeout)
    var pause: UInt32 = 200
    while true {
      if flock(fd, LOCK_EX | LOCK_NB) == 0 { return }
      guard errno == EWOULDBLOCK || errno == EINTR else {
        let error = SystemError("lock", path)
        close(fd)
        throw .io(error)
      }
      if Date() >= deadline {
        close(fd)
        throw .busy(path: path)
      }
      usleep(pause)
      pause = min(pause * 2, 20_000)
    }
  }

  /// Releases the lock.
  package func unlock() {
    flock(fd, LOCK_UN)
    close(fd)
  }
}
