import FoundationEssentials
import Synchronization
import VoucherKit

#if canImport(Glibc)
  import Glibc
#endif

/// Where a command's output goes and its input comes from; tests substitute a capturing one.
protocol Console: Sendable {
  /// Writes bytes to standard output.
  func writeOut(_ bytes: UnsafeRawBufferPointer) throws(SystemError)
  /// Writes text to standard error.
  func writeError(_ text: String)
  /// Whether standard error is a terminal (progress is shown only then).
  var errorIsTerminal: Bool { get }
  /// Reads up to `count` bytes of standard input; an empty answer is the end of input.
  func readInput(upTo count: Int) throws(SystemError) -> [UInt8]
  /// The value of an environment variable.
  func environment(_ name: String) -> String?
}

extension Console {
  /// Writes text to standard output.
  func print(_ text: String) throws(SystemError) {
    var copy = text
    let result: Result<Void, SystemError> = copy.withUTF8 { bytes in
      Result { () throws(SystemError) in try writeOut(UnsafeRawBufferPointer(bytes)) }
    }
    try result.get()
  }

  /// Writes one `error: ...` line to standard error.
  func error(_ message: String) { writeError("error: \(message)\n") }

  /// Writes one `warning: ...` line to standard error.
  func warning(_ message: String) { writeError("warning: \(message)\n") }
}

/// The process's own standard streams.
struct StandardConsole: Console {
  func writeOut(_ bytes: UnsafeRawBufferPointer) throws(SystemError) {
    try FileSystem.writeAll(1, bytes, path: "standard output")
  }

  func writeError(_ text: String) {
    var copy = text
    copy.withUTF8 {
      _ = try? FileSystem.writeAll(2, UnsafeRawBufferPointer($0), path: "standard error")
    }
  }

  var errorIsTerminal: Bool { isatty(2) == 1 }

  func readInput(upTo count: Int) throws(SystemError) -> [UInt8] {
    var buffer = [UInt8](repeating: 0, count: count)
    while true {
      let n = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, count) }
      if n < 0 && errno == EINTR { continue }
      guard n >= 0 else { throw SystemError("read", "standard input") }
      return Array(buffer.prefix(n))
    }
  }

  func environment(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
}

/// Splits standard input into lines without holding more than `limit` bytes of one line.
struct LineReader {
  let console: any Console
  let limit: Int
  private var pending: [UInt8] = []
  private var overflow = false
  private var buffer: [UInt8] = []
  private var position = 0
  private var finished = false

  init(console: any Console, limit: Int = 64 << 10) {
    self.console = console
    self.limit = limit
  }

  /// The next line without its line end; `tooLong` when it passed the limit (its text is cut).
  mutating func next() throws(SystemError) -> (line: [UInt8], tooLong: Bool)? {
    while true {
      if position < buffer.count {
        let rest = buffer[position...]
        if let newline = rest.firstIndex(of: 0x0A) {
          append(rest[position..<newline])
          position = newline + 1
          return take()
        }
        append(rest)
        position = buffer.count
      }
      if finished { return pending.isEmpty && !overflow ? nil : take() }
      buffer = try console.readInput(upTo: 64 << 10)
      position = 0
      if buffer.isEmpty { finished = true }
    }
  }

  private mutating func append(_ bytes: ArraySlice<UInt8>) {
    let room = limit - pending.count
    if bytes.count > room {
      pending += bytes.prefix(room)
      overflow = true
    } else {
      pending += bytes
    }
  }

  private mutating func take() -> (line: [UInt8], tooLong: Bool) {
    var line = pending
    if !overflow && line.last == 0x0D { line.removeLast() }
    let result = (line, overflow)
    pending = []
    overflow = false
    return result
  }
}
