#if canImport(Glibc)
  import Glibc
#endif

/// A failed system call on a file: what was done, to which path, and the `errno` it gave.
public struct SystemError: Error, Sendable, Hashable, CustomStringConvertible {
  /// What was attempted, as a verb phrase ("open", "write", "sync").
  public let operation: String
  /// The file or folder it was attempted on.
  public let path: String
  /// The `errno` value.
  public let code: Int32
  /// What the path turned out to be when a regular file was expected there and something else
  /// was found ("a FIFO", "a folder", ...); `nil` when a system call failed.
  public let foundInstead: String?

  package init(_ operation: String, _ path: String, code: Int32 = errno) {
    self.operation = operation
    self.path = path
    self.code = code
    foundInstead = nil
  }

  private init(path: String, notRegular kind: String, code: Int32) {
    operation = "read"
    self.path = path
    self.code = code
    foundInstead = kind
  }

  /// Something other than a regular file where one must be: a FIFO (whose open would wait for a
  /// writer forever), a socket, a device or a folder.
  ///
  /// - Parameters:
  ///   - path: The path.
  ///   - mode: The `st_mode` of what is there.
  package static func notRegularFile(_ path: String, mode: mode_t) -> SystemError {
    let kind: String
    switch mode & S_IFMT {
    case S_IFDIR: kind = "a folder"
    case S_IFIFO: kind = "a FIFO"
    case S_IFSOCK: kind = "a socket"
    case S_IFCHR: kind = "a character device"
    case S_IFBLK: kind = "a block device"
    case S_IFLNK: kind = "a symbolic link"
    default: kind = "not a file"
    }
    return SystemError(
      path: path, notRegular: kind, code: mode & S_IFMT == S_IFDIR ? EISDIR : EINVAL)
  }

  /// Whether the failure means the file or folder does not exist.
  public var isMissing: Bool { foundInstead == nil && (code == ENOENT || code == ENOTDIR) }

  /// Whether a regular file was expected and something else (a FIFO, a device, a folder) is there.
  public var isNotRegularFile: Bool { foundInstead != nil }

  public var description: String {
    if let foundInstead { return "\(path) is \(foundInstead), not a regular file" }
    return "cannot \(operation) \(path): \(String(cString: strerror(code)))"
  }
}
