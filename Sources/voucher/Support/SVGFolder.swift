import Dispatch
import Synchronization
import VoucherKit

#if canImport(Glibc)
  import Glibc
#endif

/// One SVG file per code in a folder (`issue --qr svg --output DIR`): staged in a hidden folder
/// inside DIR, synced, and moved into place only after the serials are on record, so that a
/// failed run leaves DIR as it was.
final class SVGFolder {
  /// The folder the files go to.
  let path: String
  private let force: Bool
  /// The hidden folder the files are written to first.
  private var staging: String?
  /// The names staged, in order.
  private var names: [String] = []
  /// Whether this run created the folder (a failed run then removes it again).
  private let created: Bool

  /// Creates `path` if it is missing (its parent must exist), or checks that it is a folder.
  init(path: String, force: Bool) throws {
    self.path = path
    self.force = force
    if let kind = FileSystem.kind(of: path), kind != .directory {
      throw CommandError(ExitStatus.cannotCreate, "\(printable(path)) is not a folder")
    }
    guard FileSystem.isDirectory(FileSystem.parentDirectory(of: path)) else {
      throw CommandError(
        ExitStatus.cannotCreate,
        "the folder \(printable(FileSystem.parentDirectory(of: path))) does not exist")
    }
    created = !FileSystem.isDirectory(path)
    do {
      try FileSystem.makeDirectory(path)
    } catch {
      throw CommandError(ExitStatus.cannotCreate, error.description)
    }
  }

  /// The file name of a serial: the channel and the serial, zero-padded to the campaign's
  /// capacity so that names sort in serial order (`flyer-000042.svg`).
  static func name(channel: ChannelID, serial: Int, capacity: Int) -> String {
    "\(channel)-\(String(serial).leftPadded(to: String(capacity).count)).svg"
  }

  /// Writes the SVG of each serial's text into the staging folder and syncs it.
  ///
  /// - Parameters:
  ///   - names: The file name of each serial.
  ///   - serials: The serials.
  ///   - threads: Threads making QR codes.
  ///   - text: What the QR code of a serial holds.
  ///   - level: The error correction level.
  /// - Throws: ``CommandError``: exit 73 when a file of the same name is in the folder (without
  ///   `--force`), 74 when a write fails.
  func stage(
    _ serials: ClosedRange<Int>, names name: @escaping @Sendable (Int) -> String, threads: Int,
    level: QRErrorCorrection, text: @escaping @Sendable (Int) -> String
  ) throws {
    let all = serials.map(name)
    if !force, let taken = all.first(where: { FileSystem.exists(path + "/" + $0) }) {
      let count = all.filter { FileSystem.exists(path + "/" + $0) }.count
      throw CommandError(
        ExitStatus.cannotCreate,
        "\(printable(path)) already holds \(count) of these files (\(printable(taken)) ...); pass --force to replace them"
      )
    }
    let staging = path + "/.voucher-qr-\(String(UInt64.random(in: 1 ... .max), radix: 36))"
    guard mkdir(staging, 0o755) == 0 else {
      throw CommandError(ExitStatus.cannotCreate, SystemError("create folder", staging).description)
    }
    self.staging = staging
    names = all
    // Blocks of codes: the SVGs of a block are made on every thread, then written in order.
    let block = 256
    var start = serials.lowerBound
    while start <= serials.upperBound {
      let range = start...min(serials.upperBound, start + block - 1)
      let svgs = Mutex([String?](repeating: nil, count: range.count))
      let first = range.lowerBound
      let workers = min(threads, range.count)
      DispatchQueue.concurrentPerform(iterations: workers) { worker in
        for serial in stride(from: first + worker, through: range.upperBound, by: workers) {
          let svg = try? QRCode(text(serial), level: level).svg()
          svgs.withLock { $0[serial - first] = svg }
        }
      }
      for (index, svg) in svgs.withLock({ $0 }).enumerated() {
        // The command checked that a code or link of this length fits before any work.
        guard let svg else {
          throw CommandError(
            ExitStatus.software, "no QR code could be made for serial \(first + index)")
        }
        try write(staging + "/" + name(first + index), svg)
      }
      start = range.upperBound + 1
    }
    do {
      try FileSystem.syncDirectory(staging)
    } catch {
      throw CommandError(ExitStatus.ioError, error.description)
    }
  }

  /// Writes and syncs one new file.
  private func write(_ file: String, _ text: String) throws {
    let fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard fd >= 0 else {
      throw CommandError(ExitStatus.ioError, SystemError("create", file).description)
    }
    defer { close(fd) }
    do throws(SystemError) {
      let bytes = Array(text.utf8)
      let written: Result<Void, SystemError> = bytes.withUnsafeBytes { raw in
        Result { () throws(SystemError) in try FileSystem.writeAll(fd, raw, path: file) }
      }
      try written.get()
      guard fsync(fd) == 0 else { throw SystemError("sync", file) }
    } catch {
      throw CommandError(ExitStatus.ioError, error.description)
    }
  }

  /// Moves the staged files into the folder (without `--force`, never over a file that appeared
  /// meanwhile), then removes the staging folder and syncs the folder.
  func commit() throws {
    guard let staging else { return }
    for name in names {
      let from = staging + "/" + name
      let to = path + "/" + name
      let moved = force ? rename(from, to) == 0 : link(from, to) == 0 && unlink(from) == 0
      guard moved else {
        throw CommandError(ExitStatus.cannotCreate, SystemError("write", to).description)
      }
    }
    rmdir(staging)
    self.staging = nil
    do {
      try FileSystem.syncDirectory(path)
    } catch {
      throw CommandError(ExitStatus.ioError, error.description)
    }
  }

  /// Removes the staging folder and what it holds, and the folder itself if this run created
  /// it and it is empty: the folder is left as it was.
  func discard() {
    if let staging {
      for name in names { unlink(staging + "/" + name) }
      rmdir(staging)
      self.staging = nil
    }
    if created { rmdir(path) }
  }
}
