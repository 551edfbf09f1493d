import VoucherKit

#if canImport(Glibc)
  import Glibc
#endif

/// Where a command's output goes: standard output, or with `--output` a file that appears whole
/// or not at all, and replaces an existing one only with `--force`. Writes are buffered.
final class Output {
  private let console: any Console
  private let staged: StagedFile?
  /// The file, if the output goes to one.
  let path: String?
  private var buffer: [UInt8] = []

  /// Checks the options and stages the file: an existing file without `--force`, or a folder that
  /// cannot take a new file, fails here, before any work.
  init(path: String?, force: Bool, console: any Console) throws {
    self.console = console
    self.path = path
    buffer.reserveCapacity(1 << 16)
    try Self.checkOptions(path: path, force: force)
    guard let path else {
      staged = nil
      return
    }
    if !force && FileSystem.exists(path) {
      throw CommandError(ExitStatus.cannotCreate, "\(path) exists; pass --force to replace it")
    }
    do {
      staged = try StagedFile(for: path)
    } catch {
      throw CommandError(ExitStatus.cannotCreate, error.description)
    }
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
    if let staged { try staged.write(bytes) } else { try console.writeOut(bytes) }
  }

  /// Appends bytes made by `body` straight into the buffer.
  func append(_ body: (inout [UInt8]) -> Void) throws {
    body(&buffer)
    if buffer.count >= 1 << 16 { try flush() }
  }

  private func flush() throws {
    guard !buffer.isEmpty else { return }
    defer { buffer.removeAll(keepingCapacity: true) }
    try buffer.withUnsafeBytes { (raw) throws in
      if let staged { try staged.write(raw) } else { try console.writeOut(raw) }
    }
  }

  /// Writes what is buffered and, for a file, syncs it and moves it into place.
  func commit(force: Bool) throws {
    try flush()
    guard let staged else { return }
    do {
      try staged.commit(replace: force)
    } catch {
      throw CommandError(
        error.code == EEXIST ? ExitStatus.cannotCreate : ExitStatus.ioError, error.description)
    }
  }

  /// Drops a staged file; the destination is left as it was.
  func discard() { staged?.discard() }
}
