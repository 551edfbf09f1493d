/// An open file of the registry: a descriptor as a type of its own, so that a file cannot be
/// passed where a count or an offset is meant, and only the file layer sees the number.
package struct FileDescriptor: Sendable, Hashable {
  /// The kernel's number for the open file.
  package let rawValue: Int32

  package init(rawValue: Int32) { self.rawValue = rawValue }
}
