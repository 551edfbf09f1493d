import Dispatch
import FoundationEssentials
import Synchronization
import VoucherHTTP
import VoucherRegistry
import VoucherService

#if canImport(Glibc)
  import Glibc
#endif

/// One HTTP client: its thread reads requests, hands the code routes to its service session,
/// answers the others itself, and writes every answer in request order (pipelining). It reads
/// the next requests only when the answers to the last are written, so a client that does not
/// read its answers holds up nobody but itself.
final class HTTPConnection: ServiceClient {
  /// Answers delivered by the engine, by the request's number.
  private let answers = Mutex<[Int: ServiceAnswer]>([:])
  private let arrived = DispatchSemaphore(value: 0)

  func deliver(_ delivered: [ServiceAnswer]) {
    answers.withLock { answers in
      for answer in delivered {
        if case .number(let text) = answer.id, let number = Int(text) { answers[number] = answer }
      }
    }
    // One wake-up per delivery: the reader waits for a batch, not for each answer in it.
    arrived.signal()
  }

  func deliverNow(_ answers: [ServiceAnswer]) { deliver(answers) }

  /// Waits for the engine's answer to request `number`.
  func answer(_ number: Int) -> ServiceAnswer {
    while true {
      if let answer = answers.withLock({ $0.removeValue(forKey: number) }) { return answer }
      arrived.wait()
    }
  }
}

/// What one connection's thread needs from the server.
struct HTTPConnectionContext: Sendable {
  let api: HTTPAPI
  let limits: HTTPLimits
  let service: Service
  let reads: HTTPReads
}

/// A request read and not yet answered.
private enum Slot {
  case ready(HTTPResponse)
  case engine(Int, HTTPAPI.Submission)
  case deferred(HTTPAPI.Action)
}

/// Serves one connection until it closes, fails, times out or the server stops.
///
/// - Parameters:
///   - stream: The connection.
///   - peer: The client's address.
///   - context: The server's API and limits.
///   - session: The connection's service session (finished by the caller).
///   - connection: The session's client, which collects the engine's answers.
func serveHTTP(
  _ stream: ByteStream, peer: String, _ context: HTTPConnectionContext,
  session: ServiceSession, connection: HTTPConnection
) {
  let limits = context.limits
  var parser = HTTPParser(limits: limits)
  var buffer = [UInt8](repeating: 0, count: 64 << 10)
  var requestStart: Double?
  var number = 0
  var view: (any RegistryStore)?
  var memo = TokenWatcher.Memo()
  func now() -> Double { Date().timeIntervalSince1970 }
  while true {
    // Frame every whole request read so far; answer them in order, judging their tokens by
    // the token file as it is now.
    memo.refresh()
    var slots: [(Slot, close: Bool)] = []
    var submissions: [IncomingRequest] = []
    var closing = false
    framing: while !closing {
      switch parser.next() {
      case .needMore:
        break framing
      case .failure(let error):
        slots.append((.ready(.problem(error.status, error.detail)), true))
        closing = true
      case .request(let request):
        let close = !request.keepAlive
        closing = close
        switch context.api.action(for: request, peer: peer, now: now(), memo: &memo) {
        case .respond(let response):
          slots.append((.ready(response), close))
        case .submit(let submission):
          if let refusal = voidRefusal(submission, context, view: &view) {
            slots.append((.ready(refusal), close))
            continue framing
          }
          number += 1
          var fields = submission.fields
          fields["id"] = .number(String(number))
          submissions.append(.fields(fields))
          slots.append((.engine(number, submission), close))
        case let action:
          slots.append((.deferred(action), close))
        }
      }
    }
    if !submissions.isEmpty {
      if view == nil { view = context.reads.view() }
      session.submit(submissions, view: view)
    }
    // The answers, in request order, written together (a read that waits, a long poll, first
    // sends what is ready).
    var out: [UInt8] = []
    for (slot, close) in slots {
      let response: HTTPResponse
      switch slot {
      case .ready(let ready): response = ready
      case .engine(let number, let submission):
        response = context.api.response(to: connection.answer(number), for: submission)
      case .deferred(let action):
        if !out.isEmpty {
          guard stream.write(out) else { return }
          out.removeAll(keepingCapacity: true)
        }
        response = context.reads.answer(action, stopping: { context.service.isStopping })
      }
      response.append(to: &out, close: close)
      if close { break }
    }
    if !out.isEmpty {
      guard stream.write(out) else { return }
    }
    if closing { return }
    if parser.hasPartialRequest {
      if requestStart == nil { requestStart = now() }
    } else {
      requestStart = nil
    }
    // Wait for more: a request under way has until its deadline, an idle connection until
    // the idle limit.
    if !stream.hasBuffered {
      let deadline = requestStart.map { $0 + limits.requestSeconds } ?? now() + limits.idleSeconds
      var ready = false
      while true {
        let left = deadline - now()
        if left <= 0 { break }
        var poller = pollfd(fd: stream.fd, events: Int16(POLLIN), revents: 0)
        let n = poll(&poller, 1, Int32(min(left, 1) * 1000) + 1)
        if n > 0 {
          ready = true
          break
        }
        if n < 0 && errno != EINTR { return }
        if context.service.isStopping && requestStart == nil { return }
      }
      if !ready {
        if requestStart != nil {
          _ = stream.write(
            HTTPResponse.problem(
              408, "the request took longer than \(Int(limits.requestSeconds)) seconds"
            ).bytes(close: true))
        }
        return
      }
    }
    let n = buffer.withUnsafeMutableBytes { stream.read($0.baseAddress!, $0.count) }
    if n <= 0 { return }
    if requestStart == nil { requestStart = now() }
    parser.append(buffer[0..<n])
    // Take what else has arrived already (a pipelining client's window in several segments),
    // so that it goes to the engine in this batch rather than the next.
    var taken = n
    while taken < 256 << 10 {
      var poller = pollfd(fd: stream.fd, events: Int16(POLLIN), revents: 0)
      guard stream.hasBuffered || poll(&poller, 1, 0) > 0 else { break }
      let more = buffer.withUnsafeMutableBytes { stream.read($0.baseAddress!, $0.count) }
      if more <= 0 { break }
      parser.append(buffer[0..<more])
      taken += more
    }
  }
}

/// A till's void of a code last redeemed in another store, refused before it reaches the
/// engine (read through the connection's view of the registry); `nil` lets it go on.
private func voidRefusal(
  _ submission: HTTPAPI.Submission, _ context: HTTPConnectionContext,
  view: inout (any RegistryStore)?
) -> HTTPResponse? {
  guard submission.tillStore != nil, submission.fields["op"] == .string("void"),
    case .string(let code)? = submission.fields["code"]
  else { return nil }
  guard let voucher = context.service.verifier.verify(code, now: Date()).voucher else {
    return nil
  }
  if view == nil { view = context.reads.view() }
  guard let status = try? view?.peek(voucher) else { return nil }
  return context.api.voidRefusal(submission, latest: status.lastRedemption)
}
