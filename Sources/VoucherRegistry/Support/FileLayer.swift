import CVoucherSystem
import VoucherKit

#if canImport(Glibc)
  import Glibc
#endif

/// The seam through which the registry touches files: every read, write, sync, truncation and
/// rename goes through one of these calls, so that tests can record the calls, inject faults,
/// and build the states a crash or a power loss could leave.
package protocol FileLayer: AnyObject {
  /// Opens a file for reading and writing, creating it (mode 0644) if `create` is set.
  func open(_ path: String, create: Bool) throws(SystemError) -> FileDescriptor
  /// Closes a file.
  func close(_ file: FileDescriptor)
  /// The file's size in bytes.
  func size(_ file: FileDescriptor, path: String) throws(SystemError) -> Int64
  /// Reads up to `count` bytes at `offset`; fewer only at the end of the file.
  func read(_ file: FileDescriptor, at offset: Int64, count: Int, path: String) throws(SystemError)
    -> [UInt8]
  /// Reads into `buffer` from `offset`, as many bytes as there are up to its size: fewer only at
  /// the end of the file. Answers how many.
  func read(
    _ file: FileDescriptor, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64, path: String
  )
    throws(SystemError) -> Int
  /// Writes all of `bytes` at `offset`.
  func write(_ file: FileDescriptor, _ bytes: [UInt8], at offset: Int64, path: String) throws(SystemError)
  /// Flushes the file's data to disk (`fdatasync`).
  func sync(_ file: FileDescriptor, path: String) throws(SystemError)
  /// Makes the file at least `length` bytes long, the new bytes zero and allocated on disk.
  func allocate(_ file: FileDescriptor, to length: Int64, path: String) throws(SystemError)
  /// Allocates disk space for a range of a file without changing its length, so that a later
  /// store through a mapping cannot fail (a failed store into a mapping is a SIGBUS, not an error).
  func reserve(_ file: FileDescriptor, offset: Int64, length: Int64, path: String) throws(SystemError)
  /// Links `from` to the new name `to`; fails with `EEXIST` rather than replace a file.
  func link(_ from: String, to: String) throws(SystemError)
  /// Maps `length` bytes of a file into memory, shared: stores reach the page cache at once (and
  /// survive the process), and reach the disk at the file's next sync.
  func map(_ file: FileDescriptor, length: Int, path: String) throws(SystemError) -> UnsafeMutableRawPointer
  /// Unmaps a mapping.
  func unmap(_ address: UnsafeMutableRawPointer, length: Int)
  /// Cuts the file to `length` bytes.
  func truncate(_ file: FileDescriptor, to length: Int64, path: String) throws(SystemError)
  /// Renames a file, replacing the target.
  func rename(_ from: String, to: String) throws(SystemError)
  /// Swaps two existing paths (files or folders) in one atomic step; `EINVAL` or `ENOSYS` where
  /// the file system cannot (the caller then falls back to two renames).
  func exchange(_ first: String, _ second: String) throws(SystemError)
  /// Flushes a folder's entries to disk.
  func syncDirectory(_ path: String) throws(SystemError)
  /// Creates a folder.
  func makeDirectory(_ path: String) throws(SystemError)
  /// Removes a file.
  func remove(_ path: String) throws(SystemError)
  /// Whether a file or folder exists.
  func exists(_ path: String) -> Bool
  /// Takes the exclusive `flock` on an open file without waiting: `false` while another open
  /// file description holds it. The kernel drops it when its holder dies.
  func tryLock(_ file: FileDescriptor, path: String) throws(SystemError) -> Bool
  /// Releases the `flock`.
  func unlock(_ file: FileDescriptor)
  /// What is at a path (without following a last symbolic link), or `nil` when nothing is.
  func status(_ path: String) throws(SystemError) -> FileStatus?
  /// The path a symbolic link leads to, resolved, or `nil`.
  func resolveLink(_ path: String) -> String?
  /// The names in a folder, sorted, without `.` and `..`.
  func list(_ folder: String) throws(SystemError) -> [String]
  /// A whole file, up to `limit` bytes (a longer one is an error).
  func readFile(_ path: String, limit: Int) throws(SystemError) -> [UInt8]
  /// Removes an empty folder.
  func removeFolder(_ path: String) throws(SystemError)
  /// The running kernel's boot id (16 bytes), or zeros when it cannot be read.
  func bootID() -> [UInt8]
  /// The extent of allocated data that starts exactly at `offset` (`lseek`'s `SEEK_DATA` and
  /// `SEEK_HOLE`): where it ends, or `nil` when `offset` is in a hole or past the end. A file
  /// system that keeps no holes reports the whole file as data.
  func dataExtent(_ file: FileDescriptor, at offset: Int64, path: String) throws(SystemError)
    -> Int64?
}

/// What a path holds, as the registry asks of it.
package struct FileStatus: Sendable, Hashable {
  /// The file's inode number.
  package let inode: UInt64
  /// The size in bytes.
  package let size: Int64
  /// The last modification, in nanoseconds since 1970.
  package let modified: Int64
  /// Whether the path is a symbolic link.
  package let isSymbolicLink: Bool
}

/// The real file system.
package final class SystemFiles: FileLayer {
  package init() {}

  package func open(_ path: String, create: Bool) throws(SystemError) -> FileDescriptor {
    let fd = Glibc.open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0o644)
    guard fd >= 0 else { throw SystemError("open", path) }
    return FileDescriptor(rawValue: fd)
  }

  package func close(_ file: FileDescriptor) { _ = Glibc.close(file.rawValue) }

  package func size(_ file: FileDescriptor, path: String) throws(SystemError) -> Int64 {
    var info = stat()
    guard fstat(file.rawValue, &info) == 0 else { throw SystemError("inspect", path) }
    return Int64(info.st_size)
  }

  package func read(_ file: FileDescriptor, at offset: Int64, count: Int, path: String) throws(SystemError)
    -> [UInt8]
  {
    var bytes = [UInt8](repeating: 0, count: count)
    let result = bytes.withUnsafeMutableBytes { buffer in
      Result { () throws(SystemError) in try read(file, into: buffer, at: offset, path: path) }
    }
    let done = try result.get()
    if done < count { bytes.removeLast(count - done) }
    return bytes
  }

  package func read(
    _ file: FileDescriptor, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64, path: String
  ) throws(SystemError) -> Int {
    var done = 0
    while done < buffer.count {
      let n = pread(
        file.rawValue, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
      if n < 0 && errno == EINTR { continue }
      guard n >= 0 else { throw SystemError("read", path) }
      if n == 0 { break }
      done += n
    }
    return done
  }

  package func write(_ file: FileDescriptor, _ bytes: [UInt8], at offset: Int64, path: String)
    throws(SystemError)
  {
    var done = 0
    while done < bytes.count {
      let n = bytes.withUnsafeBytes {
        pwrite(file.rawValue, $0.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
      }
      if n < 0 && errno == EINTR { continue }
      guard n > 0 else { throw SystemError("write", path, code: n == 0 ? EIO : errno) }
      done += n
    }
  }

  package func sync(_ file: FileDescriptor, path: String) throws(SystemError) {
    guard fdatasync(file.rawValue) == 0 else { throw SystemError("sync", path) }
  }

  package func allocate(_ file: FileDescriptor, to length: Int64, path: String) throws(SystemError) {
    let size = try self.size(file, path: path)
    guard length > size else { return }
    // glibc falls back to writing zeros on a file system without fallocate.
    let result = posix_fallocate(file.rawValue, off_t(size), off_t(length - size))
    guard result == 0 else { throw SystemError("allocate space for", path, code: result) }
  }

  package func reserve(_ file: FileDescriptor, offset: Int64, length: Int64, path: String)
    throws(SystemError)
  {
    let result = fallocateKeepingSize(file, offset, length)
    guard result == 0 else { throw SystemError("allocate space for", path, code: result) }
  }

  package func link(_ from: String, to: String) throws(SystemError) {
    guard Glibc.link(from, to) == 0 else { throw SystemError("link", to) }
  }

  package func map(_ file: FileDescriptor, length: Int, path: String) throws(SystemError)
    -> UnsafeMutableRawPointer
  {
    guard let address = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, file.rawValue, 0),
      address != MAP_FAILED
    else {
      throw SystemError("map", path)
    }
    return address
  }

  package func unmap(_ address: UnsafeMutableRawPointer, length: Int) { munmap(address, length) }

  package func truncate(_ file: FileDescriptor, to length: Int64, path: String) throws(SystemError) {
    guard ftruncate(file.rawValue, off_t(length)) == 0 else { throw SystemError("truncate", path) }
  }

  package func rename(_ from: String, to: String) throws(SystemError) {
    guard Glibc.rename(from, to) == 0 else { throw SystemError("rename", from) }
  }

  package func exchange(_ first: String, _ second: String) throws(SystemError) {
    guard vs_exchange(first, second) == 0 else { throw SystemError("exchange", first) }
  }

  package func syncDirectory(_ path: String) throws(SystemError) {
    try FileSystem.syncDirectory(path)
  }

  package func makeDirectory(_ path: String) throws(SystemError) {
    guard mkdir(path, 0o755) == 0 || errno == EEXIST else {
      throw SystemError("create folder", path)
    }
  }

  package func remove(_ path: String) throws(SystemError) {
    guard unlink(path) == 0 || errno == ENOENT else { throw SystemError("remove", path) }
  }

  package func exists(_ path: String) -> Bool { FileSystem.exists(path) }
}

/// `posix_fallocate` within the file's length (which it then does not change); answers an errno.
private func fallocateKeepingSize(_ file: FileDescriptor, _ offset: Int64, _ length: Int64) -> Int32 {
  posix_fallocate(file.rawValue, off_t(offset), off_t(length))
}

/// The real system calls behind the seam's newer calls, shared by every layer that records or
/// injects faults only in the others (a layer overrides one to reach it).
/// `lseek`'s whences for allocated data and holes (Linux's values; Glibc's module leaves them out,
/// as they need `_GNU_SOURCE`).
private let seekData: Int32 = 3
private let seekHole: Int32 = 4

extension FileLayer {
  package func tryLock(_ file: FileDescriptor, path: String) throws(SystemError) -> Bool {
    while true {
      if flock(file.rawValue, LOCK_EX | LOCK_NB) == 0 { return true }
      if errno == EINTR { continue }
      if errno == EWOULDBLOCK { return false }
      throw SystemError("lock", path)
    }
  }

  package func unlock(_ file: FileDescriptor) { flock(file.rawValue, LOCK_UN) }

  package func status(_ path: String) throws(SystemError) -> FileStatus? {
    var info = stat()
    guard lstat(path, &info) == 0 else {
      if errno == ENOENT { return nil }
      throw SystemError("inspect", path)
    }
    return FileStatus(
      inode: UInt64(info.st_ino), size: Int64(info.st_size),
      modified: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
      isSymbolicLink: info.st_mode & S_IFMT == S_IFLNK)
  }

  package func resolveLink(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
  }

  package func list(_ folder: String) throws(SystemError) -> [String] {
    try FileSystem.list(folder)
  }

  package func readFile(_ path: String, limit: Int) throws(SystemError) -> [UInt8] {
    try FileSystem.read(path, limit: limit).bytes
  }

  package func removeFolder(_ path: String) throws(SystemError) {
    guard rmdir(path) == 0 || errno == ENOENT else { throw SystemError("remove folder", path) }
  }

  package func bootID() -> [UInt8] { RegistryState.currentBoot }

  package func dataExtent(_ file: FileDescriptor, at offset: Int64, path: String)
    throws(SystemError) -> Int64?
  {
    let data = lseek(file.rawValue, off_t(offset), seekData)
    guard data >= 0 else {
      if errno == ENXIO { return nil }
      throw SystemError("inspect", path)
    }
    guard Int64(data) == offset else { return nil }
    let hole = lseek(file.rawValue, off_t(offset), seekHole)
    guard hole >= 0 else { throw SystemError("inspect", path) }
    return Int64(hole)
  }
}

extension FileLayer {
  /// No atomic exchange, for layers that only record or inject faults: callers fall back to two
  /// renames, which those layers model.
  package func exchange(_ first: String, _ second: String) throws(SystemError) {
    throw SystemError("exchange", first, code: EINVAL)
  }

  /// Reads into a buffer through ``read(_:at:count:path:)``: for layers that only record or
  /// inject faults.
  package func read(
    _ file: FileDescriptor, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64, path: String
  ) throws(SystemError) -> Int {
    let bytes = try read(file, at: offset, count: buffer.count, path: path)
    bytes.withUnsafeBytes { raw in
      if let source = raw.baseAddress {
        buffer.baseAddress!.copyMemory(from: source, byteCount: raw.count)
      }
    }
    return bytes.count
  }
}
