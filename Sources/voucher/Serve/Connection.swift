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
  /// A client with this much unread is dropped: it does not read its answers.
  static let queueLimit = 32 << 20
  private let closedSocket = Mutex(false)

  init(input: Int32, output: Int32) {
    self.input = input
    self.output = output
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

  /// Writes a verify answered on the reader's thread.
  func deliverNow(_ answer: ServiceAnswer) {
    sendNow(answer.jsonLine(describing: Self.describe) + "\n")
  }

  /// Every answer is handed over and the input ended: the socket is closed after them.
  func finished() { close() }

  /// A registry error as serve's clients read it: in the command line's words, as `voucher`
  /// itself would print it.
  static func describe(_ error: RegistryError) -> String { CommandError(error).message }

  /// Hands answers to the client's writer; returns at once.
  func send(_ text: String) {
    guard !closed.withLock({ $0 }) else { return }
    let size = text.utf8.count
    let over = queued.withLock { bytes -> Bool in
      bytes += size
      return bytes > Self.queueLimit
    }
    if over {
      closed.withLock { $0 = true }
      stopReading()
      close()
      return
    }
    writer.async { [self] in
      write(text)
      queued.withLock { $0 -= size }
    }
  }

  /// Writes an answer on the calling thread when nothing is queued for this client (a verify
  /// its reader answers itself: one thread hop fewer); else queues it behind the others.
  func sendNow(_ text: String) {
    let written = queued.withLock { bytes -> Bool in
      guard bytes == 0 else { return false }
      write(text)
      return true
    }
    if !written { send(text) }
  }

  /// Waits until every answer handed over is written (before the server exits).
  func flush() { writer.sync {} }

  /// Writes answers on the writer queue; a client that went away is marked closed and ignored.
  private func write(_ text: String) {
    guard !closed.withLock({ $0 }) else { return }
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
    if !ok {
      closed.withLock { $0 = true }
      stopReading()
    }
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
