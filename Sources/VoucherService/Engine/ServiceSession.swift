import Synchronization
import VoucherRegistry

/// One client's way into the service: a transport opens one per connection
/// (``Service/open(_:)``), submits the requests it reads, and finishes it when the client's
/// input ends.
///
/// Answers keep the order of the requests: while any request of the client waits for the
/// engine, later ones wait too; with none waiting, a verify is answered at once on the reader's
/// thread, through the reader's own view of the registry, without waiting for a batch.
public final class ServiceSession: Sendable {
  let service: Service
  let client: any ServiceClient
  private let state = Mutex(State())

  private struct State {
    /// Requests handed to the engine and not answered yet.
    var outstanding = 0
    /// Whether the client's input ended.
    var ended = false
    /// Whether the client was told that everything is answered.
    var finished = false

    /// Whether the client is to be told now that everything is answered.
    mutating func finishing() -> Bool {
      guard ended && outstanding == 0 && !finished else { return false }
      finished = true
      return true
    }
  }

  init(service: Service, client: any ServiceClient) {
    self.service = service
    self.client = client
  }

  /// Submits requests read from the client, in the order read.
  ///
  /// - Parameters:
  ///   - requests: The requests.
  ///   - view: The reader's own view of the registry, used on this thread to answer a verify at
  ///     once; `nil` sends every request to the engine.
  public func submit(_ requests: [IncomingRequest], view: (any RegistryStore)?) {
    var queued: [Pending] = []
    // Verifies answered at once, handed over together (one write for a window of them).
    var immediate: [ServiceAnswer] = []
    let idle = state.withLock({ $0.outstanding }) == 0
    for request in requests {
      if queued.isEmpty && idle, let answer = answerAtOnce(request, view: view) {
        immediate.append(answer)
        continue
      }
      queued.append(Pending(session: self, request: request))
    }
    if !immediate.isEmpty { client.deliverNow(immediate) }
    if !queued.isEmpty {
      state.withLock { $0.outstanding += queued.count }
      service.push(queued)
    }
  }

  /// The client's input ended: no more requests. Once every request is answered the client
  /// hears ``ServiceClient/finished()``.
  public func finish() {
    let finishing = state.withLock { state in
      state.ended = true
      return state.finishing()
    }
    if finishing { client.finished() }
    service.closeInput()
  }

  /// Counts answers delivered by the engine.
  func answered(_ count: Int) {
    let finishing = state.withLock { state in
      state.outstanding -= count
      return state.finishing()
    }
    if finishing { client.finished() }
  }

  /// Answers a well-formed verify with the reader's view, when it can; `nil` leaves the
  /// request to the engine.
  private func answerAtOnce(_ request: IncomingRequest, view: (any RegistryStore)?)
    -> ServiceAnswer?
  {
    guard case .fields(let fields) = request, fields["op"]?.string == "verify", let view else {
      return nil
    }
    let id = fields["id"] ?? .null
    switch ServeRequest.make(
      fields, verifier: service.verifier, prizes: service.prizes, now: service.clock()) {
    case .answer(let outcome):
      return ServiceAnswer(id: id, .outcome(outcome))
    case .operation(let request):
      guard let status = try? view.peek(request.voucher) else { return nil }
      return ServiceAnswer(
        id: id, .outcome(.verified(request.input, request.voucher, status, zone: service.zone)))
    case .failure:
      return nil
    }
  }
}
