#if canImport(Glibc)
  import Glibc
#endif

/// The few file operations voucher needs, on plain POSIX calls so that modes, syncs and renames
/// are exactly what the code says.
package enum FileSystem {
  /// The contents and permission bits of a regular file, read through one descriptor so the mode
  /// checked is the mode of the bytes read.
  ///
  /// Anything else at `path` (a FIFO, a socket, a device, a folder) is refused before it is opened
  /// for reading: opening a FIFO waits for a writer, forever if none comes, and opening a device
  /// may do anything. The open itself does not block either, and what it opened is checked again,
  /// in case the path changed in between.
  ///
  /// - Throws: ``SystemError``; ``SystemError/isNotRegularFile`` for something other than a
  ///   regular file.
  package static func read(_ path: String, limit: Int = 16 << 20) throws(SystemError) -> (
    bytes: [UInt8], mode: mode_t
  ) {
    var info = stat()
    guard stat(path, &info) == 0 else { throw SystemError("open", path) }
    guard info.st_mode & S_IFMT == S_IFREG else {
      throw .notRegularFile(path, mode: info.st_mode)
    }
    // O_NONBLOCK changes nothing for a regular file; it keeps a FIFO swapped in from blocking.
    let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
    guard fd >= 0 else { throw SystemError("open", path) }
    defer { close(fd) }
    guard fstat(fd, &info) == 0 else { throw SystemError("inspect", path) }
    guard info.st_mode & S_IFMT == S_IFREG else {
      throw .notRegularFile(path, mode: info.st_mode)
    }
    guard info.st_size <= limit else { throw SystemError("read", path, code: EFBIG) }
    var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
    var done = 0
    while done < bytes.count {
      let n = bytes.withUnsafeMutableBytes {
        Glibc.read(fd, $0.baseAddress! + done, $0.count - done)
      }
      if n < 0 && errno == EINTR { continue }
      guard n >= 0 else { throw SystemError("read", path) }
      if n == 0 { break }
      done += n
    }
    return (Array(bytes.prefix(done)), info.st_mode & 0o7777)
  }

  /// Whether something exists at `path` (without following a final symbolic link).
  package static func exists(_ path: String) -> Bool {
    var info = stat()
    return lstat(path, &info) == 0
  }

  /// Whether `path` is a folder.
  package static func isDirectory(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
  }

  /// What kind of file a path names, without following a symbolic link: `nil` if nothing.
  package enum Kind { case file, directory, other }

  package static func kind(of path: String) -> Kind? {
    var info = stat()
    guard lstat(path, &info) == 0 else { return nil }
    switch info.st_mode & S_IFMT {
    case S_IFREG: return .file
    case S_IFDIR: return .directory
    default: return .other
    }
  }

  /// Whether a file's bytes contain `needle` anywhere, read in chunks (memory stays flat).
  package static func contains(_ path: String, _ needle: [UInt8]) throws(SystemError) -> Bool {
    guard !needle.isEmpty else { return true }
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw SystemError("open", path) }
    defer { close(fd) }
    var carry: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
      let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
      guard count >= 0 else { throw SystemError("read", path) }
      if count == 0 { return false }
      let window = carry + chunk[0..<count]
      if window.count >= needle.count {
        for start in 0...(window.count - needle.count)
        where window[start] == needle[0]
          && window[start..<(start + needle.count)].elementsEqual(needle)
        {
          return true
        }
      }
      carry = Array(window.suffix(needle.count - 1))
    }
  }

  /// Names in a folder, sorted, without `.` and `..`.
  package static func list(_ path: String) throws(SystemError) -> [String] {
    guard let dir = opendir(path) else { throw SystemError("list", path) }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
        String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
      }
      if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
  }

  /// Creates a folder (and its parents) if missing, syncing each parent it adds to.
  package static func makeDirectory(_ path: String, mode: mode_t = 0o755) throws(SystemError) {
    if isDirectory(path) { return }
    let parent = parentDirectory(of: path)
    if parent != path && !isDirectory(parent) { try makeDirectory(parent, mode: mode) }
    if mkdir(path, mode) != 0 && errno != EEXIST { throw SystemError("create folder", path) }
    try syncDirectory(parent)
  }

  /// Flushes a folder's entries (new, renamed or removed files) to disk.
  package static func syncDirectory(_ path: String) throws(SystemError) {
    let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else { throw SystemError("open folder", path) }
    defer { close(fd) }
    guard fsync(fd) == 0 else { throw SystemError("sync folder", path) }
  }

  /// The folder part of a path (`.` for a bare name).
  package static func parentDirectory(of path: String) -> String {
    guard let slash = path.utf8.lastIndex(of: 0x2F) else { return "." }
    if slash == path.utf8.startIndex { return "/" }
    return String(path[..<slash])
  }

  /// Writes all of `bytes` to a descriptor, retrying short writes and interruptions.
  package static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String)
    throws(SystemError)
  {
    var done = 0
    while done < bytes.count {
      let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
      if n < 0 && errno == EINTR { continue }
      guard n > 0 else { throw SystemError("write", path, code: n == 0 ? EIO : errno) }
      done += n
    }
  }

  /// Writes a whole file so that a reader sees either the old file or the complete new one:
  /// a temporary file beside it, synced, then renamed over it, then the folder synced.
  ///
  /// - Parameters:
  ///   - path: The file to write.
  ///   - bytes: Its new contents.
  ///   - mode: Permission bits for the new file.
  ///   - replace: Whether an existing file may be replaced; without it, an existing file makes
  ///     the call fail with `EEXIST` and nothing is written.
  package static func writeAtomically(
    _ path: String, _ bytes: [UInt8], mode: mode_t = 0o644, replace: Bool = true
  ) throws(SystemError) {
    let staging = try StagedFile(for: path, mode: mode)
    do throws(SystemError) {
      try staging.write(bytes)
      try staging.commit(replace: replace)
    } catch {
      staging.discard()
      throw error
    }
  }
}

/// A temporary file beside its destination that becomes the destination only on ``commit(replace:)``.
package final class StagedFile {
  /// Where the file will be.
  package let destination: String
  /// The temporary file's path.
  package let temporary: String
  /// The open descriptor of the temporary file.
  package let fd: Int32
  private var isOpen = true

  /// Creates the temporary file; fails at once if the folder cannot take a new file.
  package init(for destination: String, mode: mode_t = 0o644) throws(SystemError) {
    self.destination = destination
    let folder = FileSystem.parentDirectory(of: destination)
    let name = String(
      destination.utf8.split(separator: 0x2F).last.map { String(decoding: $0, as: UTF8.self) }
        ?? "file")
    var suffix = UInt64(getpid()) << 32
    suffix ^= UInt64(UInt32.random(in: .min ... .max))
    temporary = "\(folder)/.\(name).\(String(suffix, radix: 36)).tmp"
    fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
    guard fd >= 0 else { throw SystemError("create a file in", folder) }
    fchmod(fd, mode)
  }

  /// Appends bytes to the temporary file.
  package func write(_ bytes: UnsafeRawBufferPointer) throws(SystemError) {
    try FileSystem.writeAll(fd, bytes, path: temporary)
  }

  /// Appends bytes to the temporary file.
  package func write(_ bytes: [UInt8]) throws(SystemError) {
    let result: Result<Void, SystemError> = bytes.withUnsafeBytes { raw in
      Result { () throws(SystemError) in try FileSystem.writeAll(fd, raw, path: temporary) }
    }
    try result.get()
  }

  /// Makes the temporary file's bytes durable, before it is moved into place.
  package func sync() throws(SystemError) {
    guard fsync(fd) == 0 else { throw SystemError("sync", temporary) }
  }

  /// Syncs the temporary file and moves it to its destination, then syncs the folder.
  ///
  /// - Parameter replace: Whether an existing destination may be replaced. Without it the move
  ///   is a hard link, which fails with `EEXIST` rather than overwrite a file that appeared meanwhile.
  package func commit(replace: Bool) throws(SystemError) {
    guard fsync(fd) == 0 else { throw SystemError("sync", temporary) }
    close(fd)
    isOpen = false
    if replace {
      // Never over a device, a FIFO, a socket or a folder: the rename would replace the thing
      // itself (as root, `/dev/null` for the whole machine). A symbolic link is replaced, not
      // followed, as `mv` does.
      var info = stat()
      if lstat(destination, &info) == 0, info.st_mode & S_IFMT != S_IFREG,
        info.st_mode & S_IFMT != S_IFLNK
      {
        throw .notRegularFile(destination, mode: info.st_mode)
      }
      guard rename(temporary, destination) == 0 else { throw SystemError("write", destination) }
    } else {
      guard link(temporary, destination) == 0 else { throw SystemError("write", destination) }
      unlink(temporary)
    }
    try FileSystem.syncDirectory(FileSystem.parentDirectory(of: destination))
  }

  /// Removes the temporary file; the destination is left as it was.
  package func discard() {
    if isOpen { close(fd) }
    isOpen = false
    unlink(temporary)
  }
}
