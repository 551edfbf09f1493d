@testable import VoucherKit
@testable import VoucherRegistry

#if canImport(Glibc)
  import Glibc
#endif

/// A file layer over the real files that fails one chosen call: the calls that change files are
/// numbered, and the one numbered `failing` fails as `fault` says (if it is that kind of call).
final class FailingFiles: FileLayer {
  /// How a call fails.
  enum Fault: String, CaseIterable {
    /// `fdatasync` answers EIO (nothing synced).
    case syncError = "sync EIO"
    /// A folder's `fsync` answers EIO.
    case folderSyncError = "folder sync EIO"
    /// `pwrite` answers EIO (nothing written).
    case writeError = "write EIO"
    /// `pwrite` answers ENOSPC (nothing written).
    case writeFull = "write ENOSPC"
    /// `pwrite` writes half the bytes, then the next `pwrite` answers ENOSPC: what
    /// ``SystemFiles`` does with a short write on a full disk (it writes the rest, which fails).
    case shortWrite = "short write, then ENOSPC"
    /// `posix_fallocate` growing the file answers ENOSPC.
    case allocateFull = "allocate ENOSPC"
    /// `posix_fallocate` within the file answers ENOSPC.
    case reserveFull = "reserve ENOSPC"
  }

  /// The kinds of call that change files.
  enum Call { case write, sync, folderSync, allocate, reserve }

  let real = SystemFiles()
  var failing = -1
  var fault = Fault.syncError
  /// Calls that change files so far, and their kinds.
  private(set) var calls: [Call] = []
  /// Whether the fault fired.
  private(set) var fired = false

  init() {}

  /// Whether call `call` fails; counts it.
  private func fails(_ call: Call, _ faults: [Fault]) -> Bool {
    calls.append(call)
    guard calls.count - 1 == failing, faults.contains(fault) else { return false }
    fired = true
    return true
  }

  /// The faults that can hit a kind of call.
  static func faults(for call: Call) -> [Fault] {
    switch call {
    case .write: return [.writeError, .writeFull, .shortWrite]
    case .sync: return [.syncError]
    case .folderSync: return [.folderSyncError]
    case .allocate: return [.allocateFull]
    case .reserve: return [.reserveFull]
    }
  }

  func open(_ path: String, create: Bool) throws(SystemError) -> FileDescriptor {
    try real.open(path, create: create)
  }
  func close(_ file: FileDescriptor) { real.close(file) }
  func size(_ file: FileDescriptor, path: String) throws(SystemError) -> Int64 {
    try real.size(file, path: path)
  }
  func read(_ file: FileDescriptor, at offset: Int64, count: Int, path: String) throws(SystemError)
    -> [UInt8]
  {
    try real.read(file, at: offset, count: count, path: path)
  }
  func write(_ file: FileDescriptor, _ bytes: [UInt8], at offset: Int64, path: String) throws(SystemError) {
    if fails(.write, Self.faults(for: .write)) {
      switch fault {
      case .writeError: throw SystemError("write", path, code: EIO)
      case .shortWrite:
        try real.write(file, Array(bytes.prefix(bytes.count / 2)), at: offset, path: path)
        throw SystemError("write", path, code: ENOSPC)
      default: throw SystemError("write", path, code: ENOSPC)
      }
    }
    try real.write(file, bytes, at: offset, path: path)
  }
  func sync(_ file: FileDescriptor, path: String) throws(SystemError) {
    if fails(.sync, [.syncError]) { throw SystemError("sync", path, code: EIO) }
    try real.sync(file, path: path)
  }
  func truncate(_ file: FileDescriptor, to length: Int64, path: String) throws(SystemError) {
    try real.truncate(file, to: length, path: path)
  }
  func allocate(_ file: FileDescriptor, to length: Int64, path: String) throws(SystemError) {
    if fails(.allocate, [.allocateFull]) {
      throw SystemError("allocate space for", path, code: ENOSPC)
    }
    try real.allocate(file, to: length, path: path)
  }
  func reserve(_ file: FileDescriptor, offset: Int64, length: Int64, path: String) throws(SystemError) {
    if fails(.reserve, [.reserveFull]) {
      throw SystemError("allocate space for", path, code: ENOSPC)
    }
    try real.reserve(file, offset: offset, length: length, path: path)
  }
  func link(_ from: String, to: String) throws(SystemError) { try real.link(from, to: to) }
  func map(_ file: FileDescriptor, length: Int, path: String) throws(SystemError) -> UnsafeMutableRawPointer
  { try real.map(file, length: length, path: path) }
  func unmap(_ address: UnsafeMutableRawPointer, length: Int) {
    real.unmap(address, length: length)
  }
  func rename(_ from: String, to: String) throws(SystemError) { try real.rename(from, to: to) }
  func syncDirectory(_ path: String) throws(SystemError) {
    if fails(.folderSync, [.folderSyncError]) { throw SystemError("sync folder", path, code: EIO) }
    try real.syncDirectory(path)
  }
  func makeDirectory(_ path: String) throws(SystemError) { try real.makeDirectory(path) }
  func remove(_ path: String) throws(SystemError) { try real.remove(path) }
  func exists(_ path: String) -> Bool { real.exists(path) }
}
