import Dispatch
import Synchronization
import VoucherKit

#if canImport(Glibc)
  import Glibc
#endif

/// One client: a socket, or standard input and output. Its reader reads it; its answers go out
/// through its own writer queue, so that a client that reads slowly holds up nobody else.
final class Connection: Sendable {
  let input: Int32
  let output: Int32
  private let closed = Mutex(false)
  /// Writes this client's answers, in the order they were handed over.
  private let writer: DispatchQueue
  /// Answer bytes handed over and not yet written.
  private let queued = Mutex(0)
  /// A client with this much unread is dropped: it does not read its answers.
  static let queueLimit = 32 << 20
  /// Requests handed to the committer and not answered yet: while there are any, the reader
  /// answers nothing itself, so that answers keep the order of the requests.
  let outstanding = Mutex(0)
  /// Whether the reader has finished; the socket is closed once it has and nothing is outstanding.
  private let done = Mutex(false)
  private let closedSocket = Mutex(false)

  /// Counts answers written for this client; closes a finished client's socket when the last
  /// outstanding answer is out.
  func answered(_ count: Int) {
    let remaining = outstanding.withLock { value -> Int in
      value -= count
      return value
    }
    if remaining == 0 && done.withLock({ $0 }) { close() }
  }

  /// The reader reached the end of the client's input.
  func finishedReading() {
    done.withLock { $0 = true }
    if outstanding.withLock({ $0 }) == 0 { close() }
  }

  init(input: Int32, output: Int32) {
    self.input = input
    self.output = output
    writer = DispatchQueue(label: "voucher.writer.\(input)")
  }

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

/// A line read from a client, parsed, waiting for the committer.
struct Pending: Sendable {
  let connection: Connection
  let fields: [String: JSONScalar]?
  let error: String?
}

/// Requests waiting to be committed together.
final class Inbox: Sendable {
  private let queue = Mutex<[Pending]>([])
  private let ready = DispatchSemaphore(value: 0)
  private let readers = Mutex(0)

  func push(_ items: [Pending]) {
    guard !items.isEmpty else { return }
    queue.withLock { $0 += items }
    ready.signal()
  }

  /// Takes everything waiting, waiting up to `timeout` seconds for something to arrive.
  func take(timeout: Double) -> [Pending] {
    if let items = drain() { return items }
    _ = ready.wait(timeout: .now() + timeout)
    return drain() ?? []
  }

  private func drain() -> [Pending]? {
    queue.withLock { items in
      guard !items.isEmpty else { return nil }
      defer { items = [] }
      return items
    }
  }

  func readerStarted() { readers.withLock { $0 += 1 } }
  func readerEnded() {
    readers.withLock { $0 -= 1 }
    ready.signal()
  }
  var activeReaders: Int { readers.withLock { $0 } }
}

/// Reads a client's lines and hands them to the inbox until the client closes or reading stops.
/// `answerDirectly` may answer a request on the reader's thread (a verify, when nothing of this
/// client is waiting for the committer); it answers `false` to pass the request on.
func readLines(
  _ connection: Connection, into inbox: Inbox, lineLimit: Int,
  answerDirectly: (Pending) -> Bool = { _ in false }
) {
  var pending: [UInt8] = []
  var discarding = false
  var buffer = [UInt8](repeating: 0, count: 64 << 10)
  while true {
    let n = buffer.withUnsafeMutableBytes { read(connection.input, $0.baseAddress, $0.count) }
    if n < 0 && errno == EINTR { continue }
    if n <= 0 { break }
    var batch: [Pending] = []
    var start = 0
    let tooLong = Pending(
      connection: connection, fields: nil, error: "the line is longer than \(lineLimit) bytes")
    for index in 0..<n where buffer[index] == 0x0A {
      if discarding {
        discarding = false
      } else if pending.count + (index - start) > lineLimit {
        batch.append(tooLong)
      } else {
        pending += buffer[start..<index]
        batch.append(parseRequest(pending, connection))
      }
      pending = []
      start = index + 1
    }
    if start < n && !discarding {
      pending += buffer[start..<n]
    }
    if pending.count > lineLimit {
      batch.append(tooLong)
      pending = []
      discarding = true
    }
    var queued: [Pending] = []
    for item in batch {
      if queued.isEmpty && connection.outstanding.withLock({ $0 }) == 0 && answerDirectly(item) {
        continue
      }
      queued.append(item)
    }
    if !queued.isEmpty {
      connection.outstanding.withLock { $0 += queued.count }
      inbox.push(queued)
    }
  }
  // A line without its end when the client stopped is not a request.
  connection.finishedReading()
}

private func parseRequest(_ line: [UInt8], _ connection: Connection) -> Pending {
  var bytes = line
  if bytes.last == 0x0D { bytes.removeLast() }
  do {
    return Pending(connection: connection, fields: try JSONLine.parse(bytes), error: nil)
  } catch {
    return Pending(
      connection: connection, fields: nil, error: "not a JSON object: \(error.description)")
  }
}
