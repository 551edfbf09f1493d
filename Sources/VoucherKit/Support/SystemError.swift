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

  package init(_ operation: String, _ path: String, code: Int32 = errno) {
    self.operation = operation
    self.path = path
    self.code = code
  }

  /// Whether the failure means the file or folder does not exist.
  public var isMissing: Bool { code == ENOENT || code == ENOTDIR }

  public var description: String {
    "cannot \(operation) \(path): \(String(cString: strerror(code)))"
  }
}
