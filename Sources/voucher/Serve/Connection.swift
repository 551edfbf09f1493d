import Dispatch
import Synchronization
import VoucherKit
import VoucherRegistry
import VoucherService

#if canImport(Glibc)
  import Glibc
#endif

/// One client of the JSON Lines transport: a socket, or standard input and output. Its reader
/// reads it into a service session; its answers go out through its own writer queue, so that a
/// client that reads slowly holds up nobody else.
final class Connection: ServiceClient {
  let input: Int32
  let output: Int32
  private let closed = Mutex(false)
  /// Writes this client's answers, in the order they were handed over.
  private let writer: DispatchQueue
  /// Answer bytes handed over and not yet written.
  private let queued = Mutex(0)
  /// A client with this much unread is dropped: it does not read its answers (32 MiB, about
  /// 80,000 answers).
  static let queueLimit = 32 << 20
  /// Seconds a write to a dropped client may wait before the socket is closed anyway.
  static let writeTimeout = 10
  /// Told when a client is dropped, for the operator's log.
  private let onDrop: (@Sendable (Int) -> Void)?
  private let closedSocket = Mutex(false)

  init(input: Int32, output: Int32, onDrop: (@Sendable (Int) -> Void)? = nil) {
    self.input = input
    self.output = output
    self.onDrop = onDrop
    writer = DispatchQueue(label: "voucher.writer.\(input)")
  }

  /// Writes a batch's answers through the writer queue (the engine's thread never waits for a
  /// client).
  func deliver(_ answers: [ServiceAnswer]) {
    var text = ""
    text.reserveCapacity(answers.count * 512)
    for answer in answers {
      text += answer.jsonLine(describing: Self.describe)
      text += "\n"
    }
    send(text)
  }

  /// Writes verifies answered on the reader's thread, in one write.
  func deliverNow(_ answers: [ServiceAnswer]) {
    guard answers.count > 1 else {
      sendNow(answers[0].jsonLine(describing: Self.describe) + "\n")
      return
    }
    var text = ""
    text.reserveCapacity(answers.count * 512)
    for answer in answers {
      text += answer.jsonLine(describing: Self.describe)
      text += "\n"
    }
    sendNow(text)
  }

  /// Every answer is handed over and the input ended: the socket is closed after them.
  func finished() { close() }

  /// A registry error as serve's clients read it: in the command line's words, as `voucher`
  /// itself would print it.
  static func describe(_ error: RegistryError) -> String { CommandError(error).message }

  /// Hands answers to the client's writer; returns at once.
  ///
  /// A client that leaves more than ``queueLimit`` bytes of answers unread is dropped: reading
  /// stops, an error line goes after the answers queued, and the socket closes once they are
  /// written or a write has waited ``writeTimeout`` seconds. Never a hang on either side.
  func send(_ text: String) {
    guard !closed.withLock({ $0 }) else { return }
    let size = text.utf8.count
    let over = queued.withLock { bytes -> Bool in
      bytes += size
      return bytes > Self.queueLimit
    }
    if over {
      drop()
      return
    }
    writer.async { [self] in
      write(text)
      queued.withLock { $0 -= size }
    }
  }

  /// Drops a client that does not read its answers (once).
  private func drop() {
    let first = closed.withLock { closed -> Bool in
      defer { closed = true }
      return !closed
    }
    guard first else { return }
    onDrop?(Self.queueLimit)
    stopReading()
    let line =
      ServiceAnswer.errorLine(
        id: .null,
        "dropped: more than \(Self.queueLimit >> 20) MiB of answers were left unread; read answers while sending"
      ) + "\n"
    writer.async { [self] in
      writeAll(line)
      closeNow()
    }
    // A write blocked on a client that never reads again is ended by a shutdown, under the
    // same lock as the close, so that a descriptor reused by then is never touched.
    DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(Self.writeTimeout)) { [self] in
      closedSocket.withLock { closed in
        if input == output && !closed { shutdown(input, Int32(SHUT_RDWR)) }
      }
    }
  }

  /// Writes a verify answered on the reader's thread: at once when nothing is queued for this
  /// client and the socket takes it all without waiting (one thread hop fewer); else behind the
  /// others, so the reader never blocks on a client that does not read (it would stop reading
  /// that client's requests, and both sides would wait for each other).
  func sendNow(_ text: String) {
    guard input == output else {
      send(text)
      return
    }
    var rest: String?
    let written = queued.withLock { bytes -> Bool in
      guard bytes == 0, !closed.withLock({ $0 }) else { return false }
      var copy = text
      let sent = copy.withUTF8 { raw -> Int in
        var done = 0
        while done < raw.count {
          let n = Glibc.send(
            output, raw.baseAddress! + done, raw.count - done,
            Int32(MSG_DONTWAIT) | Int32(MSG_NOSIGNAL))
          if n < 0 && errno == EINTR { continue }
          guard n > 0 else { break }
          done += n
        }
        return done
      }
      if sent < text.utf8.count {
        rest = String(decoding: Array(text.utf8)[sent...], as: UTF8.self)
      }
      return true
    }
    if !written {
      send(text)
    } else if let rest {
      send(rest)
    }
  }

  /// Waits until every answer handed over is written (before the server exits).
  func flush() { writer.sync {} }

  /// Writes answers on the writer queue; a client that went away is marked closed and ignored.
  private func write(_ text: String) {
    guard !closed.withLock({ $0 }) else { return }
    if !writeAll(text) {
      closed.withLock { $0 = true }
      stopReading()
    }
  }

  /// Writes every byte; `false` when the client went away or a write timed out.
  @discardableResult
  private func writeAll(_ text: String) -> Bool {
    var copy = text
    let ok = copy.withUTF8 { bytes -> Bool in
      var done = 0
      while done < bytes.count {
        let n = Glibc.write(output, bytes.baseAddress! + done, bytes.count - done)
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { return false }
        done += n
      }
      return true
    }
    return ok
  }

  /// Stops reading (a shutdown): a blocked read returns at once.
  func stopReading() {
    closedSocket.withLock { closed in
      if input == output && !closed { shutdown(input, Int32(SHUT_RD)) }
    }
  }

  /// Whether the socket was closed.
  var isClosed: Bool { closedSocket.withLock { $0 } }

  /// Closes a socket once, after the answers handed over before (standard input and output are
  /// left alone).
  func close() {
    writer.async { [self] in closeNow() }
  }

  private func closeNow() {
    guard input == output else { return }
    let first = closedSocket.withLock { closed -> Bool in
      defer { closed = true }
      return !closed
    }
    if first { Glibc.close(input) }
  }
}

/// Reads a client's requests into its session until the client closes or reading stops. A line
/// without its end when the client stopped is not a request.
///
/// - Parameters:
///   - connection: The client.
///   - session: The client's session.
///   - view: The reader's own view of the registry, to answer a verify at once.
func readRequests(
  _ connection: Connection, into session: ServiceSession, view: (any RegistryStore)?
) {
  var framer = JSONLinesFramer()
  var buffer = [UInt8](repeating: 0, count: 64 << 10)
  while true {
    let n = buffer.withUnsafeMutableBytes { read(connection.input, $0.baseAddress, $0.count) }
    if n < 0 && errno == EINTR { continue }
    if n <= 0 { break }
    let requests = buffer.withUnsafeBufferPointer {
      framer.requests(in: UnsafeBufferPointer(rebasing: $0[0..<n]))
    }
    session.submit(requests, view: view)
  }
}
