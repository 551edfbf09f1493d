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
  /// Whether `readInput` would answer at once (bytes, or the end of input) without waiting.
  func inputReady() -> Bool
  /// The value of an environment variable.
  func environment(_ name: String) -> String?
  /// Shows a command's help, asked for with `--help`: prints it (the catalogue of commands
  /// behind `completions` and `manual` collects it instead).
  func showHelp(_ spec: CommandSpec) throws(SystemError)
}

extension Console {
  func showHelp(_ spec: CommandSpec) throws(SystemError) { try print(spec.help) }

  /// A console that cannot tell: every read may wait.
  func inputReady() -> Bool { false }

  /// Writes text to standard output.
  func print(_ text: String) throws(SystemError) {
    var copy = text
    let result: Result<Void, SystemError> = copy.withUTF8 { bytes in
      Result { () throws(SystemError) in try writeOut(UnsafeRawBufferPointer(bytes)) }
    }
    try result.get()
  }

  /// Writes one `error: ...` line to standard error, its control characters escaped.
  func error(_ message: String) { writeError("error: \(terminalSafe(message))\n") }

  /// Writes one `warning: ...` line to standard error, its control characters escaped.
  func warning(_ message: String) { writeError("warning: \(terminalSafe(message))\n") }
}

/// A message made safe for one line of a terminal: control characters (C0, DEL, C1), line and
/// paragraph separators and bidirectional formatting characters are escaped as Swift escapes
/// them (`\n`, `\u{1B}`); everything else, non-ASCII text included, is kept.
///
/// Every `error:` and `warning:` line goes through here, so a path, a file's contents or any
/// other text inside a message can neither add a line (a forged `error:`) nor send the terminal
/// an escape sequence.
func terminalSafe(_ message: String) -> String {
  func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x00...0x1F, 0x7F...0x9F: return true  // C0, DEL, C1 (0x9B is a one-byte CSI)
    case 0x2028, 0x2029: return true  // line and paragraph separators
    case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return true  // bidi controls
    default: return false
    }
  }
  guard message.unicodeScalars.contains(where: isUnsafe) else { return message }
  var out = ""
  for scalar in message.unicodeScalars {
    out += isUnsafe(scalar) ? scalar.escaped(asASCII: true) : String(scalar)
  }
  return out
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

  func inputReady() -> Bool {
    var poller = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
    return poll(&poller, 1, 0) > 0
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

  /// The next lines: the next one (waiting for it if need be), then every further line that
  /// has already arrived whole, up to `limit`: what a stream commits together. Empty at the end
  /// of input.
  mutating func nextGroup(limit: Int = 4096) throws(SystemError) -> [(
    line: [UInt8], tooLong: Bool
  )] {
    guard let first = try next() else { return [] }
    var group = [first]
    while group.count < limit, try lineArrived(), let line = try next() { group.append(line) }
    return group
  }

  /// Whether `next` would answer without waiting: a whole line is buffered, input has ended,
  /// or reading what has arrived completes a line.
  private mutating func lineArrived() throws(SystemError) -> Bool {
    while true {
      if finished || buffer[position...].contains(0x0A) { return true }
      guard console.inputReady() else { return false }
      append(buffer[position...])
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
