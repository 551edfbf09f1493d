import VoucherKit

#if canImport(Glibc)
  import Glibc
#endif

/// Where a command's output goes: standard output, or with `--output` a file that appears whole
/// or not at all, and replaces an existing one only with `--force`. Writes are buffered.
///
/// A device, a FIFO or a terminal (`/dev/null`, `/dev/stdout`, a named pipe) is written to
/// directly, as standard output is: a temporary file renamed over it would replace the device
/// itself (as root, `/dev/null` would become a regular file for the whole machine). Only a
/// regular file, or nothing, is ever renamed over.
final class Output {
  /// Where the bytes go.
  private enum Sink {
    /// Standard output.
    case console
    /// A temporary file that becomes the destination on ``Output/commit(force:)``.
    case staged(StagedFile)
    /// A device, FIFO or terminal, open for writing.
    case direct(fd: Int32, path: String)
  }

  private let console: any Console
  private var sink: Sink
  /// The file, if the output goes to one.
  let path: String?
  private var buffer: [UInt8] = []

  /// Checks the options and opens the destination: an existing file without `--force`, a folder,
  /// or a folder that cannot take a new file fails here, before any work.
  init(path: String?, force: Bool, console: any Console) throws {
    self.console = console
    self.path = path
    buffer.reserveCapacity(1 << 16)
    try Self.checkOptions(path: path, force: force)
    guard let path else {
      sink = .console
      return
    }
    var info = stat()
    if stat(path, &info) == 0 && info.st_mode & S_IFMT != S_IFREG {
      sink = .direct(fd: try Self.openDirect(path, info.st_mode), path: path)
      return
    }
    if !force && FileSystem.exists(path) {
      throw CommandError(ExitStatus.cannotCreate, "\(path) exists; pass --force to replace it")
    }
    do {
      sink = .staged(try StagedFile(for: path))
    } catch {
      throw CommandError(ExitStatus.cannotCreate, error.description)
    }
  }

  /// Opens a device, FIFO or terminal for writing, as it is (no file is created or truncated).
  /// A folder, a block device (a disk) and a socket are refused.
  private static func openDirect(_ path: String, _ mode: mode_t) throws(CommandError) -> Int32 {
    switch mode & S_IFMT {
    case S_IFCHR, S_IFIFO: break
    default:
      let kind = SystemError.notRegularFile(path, mode: mode).foundInstead ?? "not a file"
      throw CommandError(
        ExitStatus.cannotCreate,
        "\(path) is \(kind); output goes to a regular file, a character device (a terminal) or a FIFO"
      )
    }
    // A FIFO without a reader waits for one here, as `cat > fifo` does.
    var fd: Int32
    repeat { fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY) } while fd < 0 && errno == EINTR
    guard fd >= 0 else {
      throw CommandError(ExitStatus.cannotCreate, SystemError("open", path).description)
    }
    var info = stat()
    guard fstat(fd, &info) == 0,
      info.st_mode & S_IFMT == S_IFCHR || info.st_mode & S_IFMT == S_IFIFO
    else {
      // Replaced by a regular file between the look and the open: never written in place.
      close(fd)
      throw CommandError(ExitStatus.cannotCreate, "\(path) changed while it was opened; try again")
    }
    return fd
  }

  /// Whether output to `path` goes to a regular file (staged, with a manifest beside it), not
  /// straight to a device, FIFO or terminal.
  static func isFileDestination(_ path: String) -> Bool {
    var info = stat()
    return !(stat(path, &info) == 0 && info.st_mode & S_IFMT != S_IFREG)
  }

  /// Checks `--output` and `--force` without touching a file (usage errors, exit 64).
  static func checkOptions(path: String?, force: Bool) throws(CommandError) {
    if force && path == nil { throw .usage("--force goes with --output") }
    if let path, path.isEmpty || path.utf8.contains(0) {
      throw .usage("--output must name a file")
    }
  }

  /// Appends text.
  func write(_ text: String) throws {
    buffer += text.utf8
    if buffer.count >= 1 << 16 { try flush() }
  }

  /// Writes bytes through, unbuffered (large blocks, as `issue` makes them).
  func write(raw bytes: UnsafeRawBufferPointer) throws {
    try flush()
    try send(bytes)
  }

  /// Appends bytes made by `body` straight into the buffer.
  func append(_ body: (inout [UInt8]) -> Void) throws {
    body(&buffer)
    if buffer.count >= 1 << 16 { try flush() }
  }

  private func send(_ bytes: UnsafeRawBufferPointer) throws {
    switch sink {
    case .console: try console.writeOut(bytes)
    case .staged(let staged): try staged.write(bytes)
    case .direct(let fd, let path): try FileSystem.writeAll(fd, bytes, path: path)
    }
  }

  private func flush() throws {
    guard !buffer.isEmpty else { return }
    defer { buffer.removeAll(keepingCapacity: true) }
    try buffer.withUnsafeBytes { (raw) throws in try send(raw) }
  }

  /// Writes what is buffered and, for a staged file, makes its bytes durable; the file is not
  /// in place yet (``commit(force:)`` moves it).
  func finishWriting() throws {
    try flush()
    guard case .staged(let staged) = sink else { return }
    do {
      try staged.sync()
    } catch {
      throw CommandError(ExitStatus.ioError, error.description)
    }
  }

  /// Writes what is buffered and, for a file, syncs it and moves it into place; a device, FIFO or
  /// terminal is closed (there is nothing to sync or move).
  func commit(force: Bool) throws {
    try flush()
    switch sink {
    case .console:
      return
    case .direct(let fd, let path):
      sink = .console
      guard close(fd) == 0 || errno == EINTR else {
        throw CommandError(ExitStatus.ioError, SystemError("write", path).description)
      }
    case .staged(let staged):
      do {
        try staged.commit(replace: force)
      } catch {
        throw CommandError(
          error.code == EEXIST || error.isNotRegularFile
            ? ExitStatus.cannotCreate : ExitStatus.ioError, error.description)
      }
    }
  }

  /// Drops a staged file; the destination is left as it was. A device, FIFO or terminal is closed
  /// (what was written to it is gone).
  func discard() {
    switch sink {
    case .console: break
    case .staged(let staged): staged.discard()
    case .direct(let fd, _):
      close(fd)
      sink = .console
    }
  }
}
