/// Why the bytes a client sent are not a request the server will answer: the status to answer
/// with and why, in words. After one the connection is closed (the framing is no longer known).
public struct HTTPParseError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The status to answer: 400, 408, 413, 414, 431, 501 or 505.
  public let status: Int
  /// What is wrong, for the problem body.
  public let detail: String

  /// An error answered with `status`, saying `detail`.
  public init(_ status: Int, _ detail: String) {
    self.status = status
    self.detail = detail
  }

  public var description: String { "\(status): \(detail)" }
}

/// A strict, incremental HTTP/1.1 request parser (RFC 9112), over bytes only: no sockets and no
/// clock, so that it can be fuzzed and tested byte by byte.
///
/// Bytes go in as they arrive (``append(_:)``); ``next()`` frames the next whole request. It
/// refuses anything whose framing two parsers could read differently (request smuggling):
/// `Content-Length` with `Transfer-Encoding`, two different `Content-Length`s, a transfer coding
/// other than `chunked`, obs-fold, a bare CR or LF, a space before a field's colon, a chunk size
/// that overflows; and anything past its ``HTTPLimits``. Once it has failed it stays failed.
public struct HTTPParser: Sendable {
  /// What ``next()`` found.
  public enum Step: Sendable, Hashable {
    /// A whole request.
    case request(HTTPRequest)
    /// Not a whole request yet.
    case needMore
    /// The client is to be answered with this error, and the connection closed.
    case failure(HTTPParseError)
  }

  /// The bounds it keeps.
  public let limits: HTTPLimits
  private var buffer: [UInt8] = []
  /// Where the request being framed starts in `buffer`.
  private var start = 0
  /// How far the header section was scanned without finding a line feed: new bytes without one
  /// cannot end it, so they are not scanned again.
  private var scanned = 0
  /// The request whose header section is read, while its body arrives.
  private var head: Head?
  private var failed: HTTPParseError?

  /// A request's header section, read, and how its body is framed.
  private struct Head: Sendable {
    let method: String
    let target: String
    let minor: Int
    let headers: [(name: String, value: String)]
    var framing: Framing
    /// Where the body's next unread byte is in `buffer`.
    var index: Int
    /// The body decoded so far.
    var body: [UInt8] = []
  }

  private enum Framing: Sendable {
    case length(Int)
    case chunked(ChunkState)
  }

  private enum ChunkState: Sendable {
    /// A chunk-size line is next.
    case size
    /// This many bytes of a chunk's data are next, then its CRLF.
    case data(Int)
    /// Trailer lines are next (so many bytes of them read).
    case trailer(Int)
  }

  /// A parser for one connection.
  ///
  /// - Parameter limits: The bounds it refuses requests past.
  public init(limits: HTTPLimits = HTTPLimits()) {
    self.limits = limits
  }

  /// Adds bytes read from the client.
  public mutating func append(_ bytes: some Collection<UInt8>) {
    if start > 0 && start == buffer.count && head == nil {
      buffer.removeAll(keepingCapacity: true)
      (start, scanned) = (0, 0)
    } else if start > 64 << 10 && head == nil {
      buffer.removeFirst(start)
      scanned = max(0, scanned - start)
      start = 0
    }
    buffer.append(contentsOf: bytes)
  }

  /// Whether part of a request has arrived but not all of it (the request timer runs).
  public var hasPartialRequest: Bool { head != nil || start < buffer.count }

  /// Frames the next request from the bytes appended so far.
  public mutating func next() -> Step {
    if let failed { return .failure(failed) }
    do throws(HTTPParseError) {
      guard let request = try frame() else { return .needMore }
      return .request(request)
    } catch {
      failed = error
      return .failure(error)
    }
  }

  // MARK: - Framing

  private static let cr: UInt8 = 0x0D
  private static let lf: UInt8 = 0x0A

  /// The request starting at `start`; `nil` when more bytes are needed.
  private mutating func frame() throws(HTTPParseError) -> HTTPRequest? {
    if head == nil {
      guard let read = try readHead() else { return nil }
      head = read
    }
    guard var current = head else { return nil }
    defer { if head != nil { head = current } }
    switch current.framing {
    case .length(let length):
      guard buffer.count - current.index >= length else { return nil }
      current.body = Array(buffer[current.index..<current.index + length])
      current.index += length
    case .chunked:
      guard try decodeChunks(&current) else { return nil }
    }
    head = nil
    start = current.index
    scanned = start
    return HTTPRequest(
      method: current.method, target: current.target, minorVersion: current.minor,
      headers: current.headers, body: current.body)
  }

  /// Reads the header section from `start`; `nil` when it has not all arrived.
  private mutating func readHead() throws(HTTPParseError) -> Head? {
    // RFC 9112 2.2: empty lines before a request line are ignored (a client's stray CRLF after
    // a body).
    while start + 1 < buffer.count, buffer[start] == Self.cr, buffer[start + 1] == Self.lf {
      start += 2
    }
    scanned = max(scanned, start)
    // A bare CR is refused as soon as it is seen, whether or not a line end follows.
    // Only the header section's bytes are looked at (the limit bounds the work per request).
    let window = min(buffer.count, start + limits.headerBytes + 2)
    scanned = min(scanned, window)
    var bareCR = false
    var index = max(start, scanned - 1)
    while index + 1 < window {
      if buffer[index] == Self.cr {
        if buffer[index + 1] != Self.lf {
          bareCR = true
          break
        }
        // The header section's end: what follows is the body or the next pipelined request,
        // not ours to scan (scanning on made each of n pipelined requests cost the window).
        if index + 3 < window, buffer[index + 2] == Self.cr, buffer[index + 3] == Self.lf { break }
      }
      index += 1
    }
    if !bareCR && !buffer[scanned..<window].contains(Self.lf) {
      let pending = buffer.count - start
      // The request line's length leaves out its CRLF: a CR that may start it does not count.
      let lineSoFar = buffer.last == Self.cr ? pending - 1 : pending
      if lineSoFar > limits.requestLine && !buffer[start..<buffer.count].contains(Self.lf) {
        throw HTTPParseError(414, "the request line is longer than \(limits.requestLine) bytes")
      }
      if pending > limits.headerBytes {
        throw HTTPParseError(431, "the header section is larger than \(limits.headerBytes) bytes")
      }
      scanned = buffer.count
      return nil
    }
    scanned = buffer.count
    guard let (lines, headerEnd) = try headerLines() else { return nil }
    guard let first = lines.first else { throw HTTPParseError(400, "no request line") }
    let (method, target, minor) = try Self.requestLine(first)
    var headers: [(name: String, value: String)] = []
    for line in lines.dropFirst() {
      headers.append(try Self.field(line))
    }
    guard headers.count <= limits.headerFields else {
      throw HTTPParseError(431, "more than \(limits.headerFields) header fields")
    }
    var hosts = 0
    var lengths: [Substring] = []
    var codings: [(name: String, value: String)] = []
    for header in headers {
      switch header.name {
      case "host": hosts += 1
      case "content-length":
        for part in header.value.split(separator: ",", omittingEmptySubsequences: false) {
          lengths.append(part.trimmingSpaces)
        }
      case "transfer-encoding": codings.append(header)
      default: break
      }
    }
    if minor >= 1 && hosts != 1 {
      throw HTTPParseError(400, "an HTTP/1.1 request needs exactly one Host field")
    }
    if !codings.isEmpty {
      guard lengths.isEmpty else {
        throw HTTPParseError(400, "Content-Length together with Transfer-Encoding")
      }
      guard minor >= 1 else {
        throw HTTPParseError(400, "Transfer-Encoding in an HTTP/1.0 request")
      }
      let list = codings.flatMap {
        $0.value.split(separator: ",", omittingEmptySubsequences: false).map {
          $0.trimmingSpaces.lowercased()
        }
      }
      guard list == ["chunked"] else {
        throw HTTPParseError(501, "the only transfer coding accepted is chunked")
      }
      return Head(
        method: method, target: target, minor: minor, headers: headers,
        framing: .chunked(.size), index: headerEnd)
    }
    var length = 0
    if let text = lengths.first {
      guard lengths.allSatisfy({ $0 == text }) else {
        throw HTTPParseError(400, "Content-Length fields that differ")
      }
      guard !text.isEmpty, text.utf8.count <= 12,
        text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
        let value = Int(text)
      else {
        throw HTTPParseError(400, "Content-Length is not a number")
      }
      guard value <= limits.bodyBytes else {
        throw HTTPParseError(413, "the body is larger than \(limits.bodyBytes) bytes")
      }
      length = value
    }
    return Head(
      method: method, target: target, minor: minor, headers: headers, framing: .length(length),
      index: headerEnd)
  }

  /// The header section's lines (without their CRLF) up to the empty line, and where the body
  /// starts; `nil` when the empty line has not arrived. Every line must end in CRLF.
  private func headerLines() throws(HTTPParseError) -> ([ArraySlice<UInt8>], Int)? {
    var lines: [ArraySlice<UInt8>] = []
    var lineStart = start
    var index = start
    let end = buffer.count
    while index < end {
      let byte = buffer[index]
      if byte == Self.lf {
        // A request line too long is that first, however it ends: a client sending it in pieces
        // is refused for its length before the line end arrives.
        let length = index - lineStart - (index > lineStart && buffer[index - 1] == Self.cr ? 1 : 0)
        if lines.isEmpty && length > limits.requestLine {
          throw HTTPParseError(414, "the request line is longer than \(limits.requestLine) bytes")
        }
        guard index > lineStart, buffer[index - 1] == Self.cr else {
          throw HTTPParseError(400, "a line ends in a bare LF, not CRLF")
        }
        let line = buffer[lineStart..<index - 1]
        if line.isEmpty { return (lines, index + 1) }
        if lines.isEmpty && line.count > limits.requestLine {
          throw HTTPParseError(414, "the request line is longer than \(limits.requestLine) bytes")
        }
        lines.append(line)
        guard lines.count <= limits.headerFields + 1 else {
          throw HTTPParseError(431, "more than \(limits.headerFields) header fields")
        }
        lineStart = index + 1
      } else if byte == Self.cr, index + 1 < end, buffer[index + 1] != Self.lf {
        if lines.isEmpty && index - lineStart > limits.requestLine {
          throw HTTPParseError(414, "the request line is longer than \(limits.requestLine) bytes")
        }
        throw HTTPParseError(400, "a bare CR in the header section")
      } else if byte != Self.cr, lines.isEmpty, index - lineStart + 1 > limits.requestLine {
        // The request line's first byte past the limit: refused for its length, as it is when
        // it arrives in pieces, whatever comes after.
        throw HTTPParseError(414, "the request line is longer than \(limits.requestLine) bytes")
      }
      index += 1
      if index - start > limits.headerBytes {
        if lines.isEmpty && index - lineStart > limits.requestLine {
          throw HTTPParseError(414, "the request line is longer than \(limits.requestLine) bytes")
        }
        throw HTTPParseError(431, "the header section is larger than \(limits.headerBytes) bytes")
      }
    }
    if lines.isEmpty && end - lineStart - (buffer.last == Self.cr ? 1 : 0) > limits.requestLine {
      throw HTTPParseError(414, "the request line is longer than \(limits.requestLine) bytes")
    }
    return nil
  }

  /// `method SP request-target SP HTTP-version`.
  private static func requestLine(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> (
    String, String, Int
  ) {
    let parts = line.split(separator: 0x20, omittingEmptySubsequences: false)
    guard parts.count == 3 else {
      throw HTTPParseError(400, "the request line is not 'METHOD TARGET HTTP/1.1'")
    }
    let (method, target, version) = (parts[0], parts[1], parts[2])
    guard !method.isEmpty, method.allSatisfy(isTokenByte) else {
      throw HTTPParseError(400, "the method is not a token")
    }
    guard target.first == 0x2F, target.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
      throw HTTPParseError(400, "the target must be a path starting with '/', in visible ASCII")
    }
    guard version.count == 8, version.starts(with: Array("HTTP/".utf8)),
      let major = version.dropFirst(5).first, major >= 0x30, major <= 0x39,
      version[version.startIndex + 6] == 0x2E, let minor = version.last, minor >= 0x30,
      minor <= 0x39
    else {
      throw HTTPParseError(400, "the version is not HTTP/1.x")
    }
    guard major == 0x31, minor <= 0x31 else {
      throw HTTPParseError(505, "only HTTP/1.0 and HTTP/1.1 are spoken")
    }
    return (
      String(decoding: method, as: UTF8.self), String(decoding: target, as: UTF8.self),
      Int(minor - 0x30)
    )
  }

  /// `field-name ":" OWS field-value OWS`, the name in lower case.
  private static func field(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> (
    name: String, value: String
  ) {
    if line.first == 0x20 || line.first == 0x09 {
      throw HTTPParseError(400, "obs-fold (a header line starting with a space) is not accepted")
    }
    guard let colon = line.firstIndex(of: 0x3A) else {
      throw HTTPParseError(400, "a header line without a colon")
    }
    let name = line[line.startIndex..<colon]
    guard !name.isEmpty, name.allSatisfy(isTokenByte) else {
      throw HTTPParseError(400, "a header name that is not a token (or a space before its colon)")
    }
    var value = line[(colon + 1)...]
    while let first = value.first, first == 0x20 || first == 0x09 { value.removeFirst() }
    while let last = value.last, last == 0x20 || last == 0x09 { value.removeLast() }
    // VCHAR, obs-text, SP and HTAB only: no NUL, CR, LF or other control characters.
    guard value.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else {
      throw HTTPParseError(400, "a control character in a header value")
    }
    let lowered = String(unsafeUninitializedCapacity: name.count) { out in
      for (index, byte) in zip(out.indices, name) {
        out[index] = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
      }
      return name.count
    }
    return (lowered, String(decoding: value, as: UTF8.self))
  }

  /// RFC 9110 `tchar`.
  private static func isTokenByte(_ byte: UInt8) -> Bool {
    switch byte {
    case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x21, 0x23...0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x5E,
      0x5F, 0x60, 0x7C, 0x7E:
      return true
    default: return false
    }
  }

  /// Decodes the chunks that have arrived into `head`'s body; `true` once the last chunk and
  /// the trailer section (read within the header limit, and dropped) are in.
  private func decodeChunks(_ head: inout Head) throws(HTTPParseError) -> Bool {
    guard case .chunked(var state) = head.framing else { return true }
    defer { head.framing = .chunked(state) }
    let end = buffer.count
    /// One CRLF-ended line from the body's index, without its CRLF; `nil` when incomplete.
    func line(limit: Int) throws(HTTPParseError) -> ArraySlice<UInt8>? {
      var cursor = head.index
      while cursor < end {
        let byte = buffer[cursor]
        if byte == Self.lf {
          guard cursor > head.index, buffer[cursor - 1] == Self.cr else {
            throw HTTPParseError(400, "a chunk line ends in a bare LF")
          }
          let found = buffer[head.index..<cursor - 1]
          head.index = cursor + 1
          return found
        }
        if byte == Self.cr, cursor + 1 < end, buffer[cursor + 1] != Self.lf {
          throw HTTPParseError(400, "a bare CR in a chunk line")
        }
        cursor += 1
        if cursor - head.index > limit { throw HTTPParseError(400, "a chunk line is too long") }
      }
      return nil
    }
    while true {
      switch state {
      case .size:
        guard let sizeLine = try line(limit: 256) else { return false }
        let digits = sizeLine.prefix { $0 != 0x3B && $0 != 0x20 && $0 != 0x09 }
        guard !digits.isEmpty else { throw HTTPParseError(400, "a chunk without its size") }
        var size = 0
        for digit in digits {
          guard let value = Self.hexValue(digit) else {
            throw HTTPParseError(400, "a chunk size that is not hexadecimal")
          }
          let (shifted, overflow) = size.multipliedReportingOverflow(by: 16)
          guard !overflow else { throw HTTPParseError(400, "a chunk size that overflows") }
          size = shifted + value
        }
        guard head.body.count + size <= limits.bodyBytes else {
          throw HTTPParseError(413, "the body is larger than \(limits.bodyBytes) bytes")
        }
        state = size == 0 ? .trailer(0) : .data(size)
      case .data(let size):
        guard end - head.index >= size + 2 else {
          // Take what has come, so the buffer is scanned once.
          return false
        }
        head.body += buffer[head.index..<head.index + size]
        head.index += size
        guard buffer[head.index] == Self.cr, buffer[head.index + 1] == Self.lf else {
          throw HTTPParseError(400, "a chunk's data is not followed by CRLF")
        }
        head.index += 2
        state = .size
      case .trailer(let bytes):
        guard let trailer = try line(limit: limits.headerBytes) else { return false }
        if trailer.isEmpty { return true }
        guard bytes + trailer.count <= limits.headerBytes else {
          throw HTTPParseError(431, "the trailer section is too large")
        }
        _ = try Self.field(trailer)
        state = .trailer(bytes + trailer.count)
      }
    }
  }

  private static func hexValue(_ byte: UInt8) -> Int? {
    switch byte {
    case 0x30...0x39: return Int(byte - 0x30)
    case 0x41...0x46: return Int(byte - 0x41 + 10)
    case 0x61...0x66: return Int(byte - 0x61 + 10)
    default: return nil
    }
  }
}
