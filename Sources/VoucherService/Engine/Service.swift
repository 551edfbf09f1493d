import Dispatch
import FoundationEssentials
import Synchronization
import VoucherKit

/// What the transports' threads share with the engine: the requests waiting for a batch, how
/// many inputs may still submit, and whether the service is stopping.
///
/// A transport opens a ``ServiceSession`` per client and submits the requests it reads there;
/// one ``ServiceEngine`` takes them in batches. The engine runs until the service is stopped
/// and every input has closed, then answers what is left and returns.
public final class Service: Sendable {
  /// Checks codes, for the engine and for verifies answered at once: the current one, as
  /// `verifiers` answers it (campaigns changed while the service runs).
  public var verifier: Verifier { verifiers() }
  private let verifiers: @Sendable () -> Verifier
  /// The time requests are checked and recorded at.
  let clock: @Sendable () -> Date
  /// The zone answers show times in.
  public let zone: ZoneRules
  /// What each code wins when it is claimed (read again when an allocation list changes).
  public let prizes: PrizeTable
  private let queue = Mutex<[Pending]>([])
  private let ready = DispatchSemaphore(value: 0)
  private let inputs = Mutex(0)
  private let stopping = Mutex(false)

  /// A service that checks codes with `verifier`.
  ///
  /// - Parameters:
  ///   - verifier: The key ring and campaigns codes are checked against.
  ///   - clock: The time requests are checked and recorded at.
  ///   - zone: The zone answers show times in (UTC by default).
  ///   - prizes: What each code wins when it is claimed (none by default).
  public convenience init(
    verifier: Verifier, clock: @escaping @Sendable () -> Date = { Date() }, zone: ZoneRules = .utc,
    prizes: PrizeTable = PrizeTable()
  ) {
    self.init(verifiers: { verifier }, clock: clock, zone: zone, prizes: prizes)
  }

  /// A service that checks codes with whatever verifier `verifiers` answers at the time: a
  /// transport that notices changed campaigns answers a new one.
  ///
  /// - Parameters:
  ///   - verifiers: The current key ring and campaigns; asked once per batch and per verify
  ///     answered at once, so it should be cheap when nothing changed.
  ///   - clock: The time requests are checked and recorded at.
  ///   - zone: The zone answers show times in (UTC by default).
  ///   - prizes: What each code wins when it is claimed (none by default).
  public init(
    verifiers: @escaping @Sendable () -> Verifier,
    clock: @escaping @Sendable () -> Date = { Date() }, zone: ZoneRules = .utc,
    prizes: PrizeTable = PrizeTable()
  ) {
    self.verifiers = verifiers
    self.clock = clock
    self.zone = zone
    self.prizes = prizes
  }

  /// Opens a client's session. It counts as an open input until ``ServiceSession/finish()``.
  ///
  /// - Parameter client: Where the client's answers go.
  /// - Returns: The session to submit the client's requests to.
  public func open(_ client: any ServiceClient) -> ServiceSession {
    openInput()
    return ServiceSession(service: self, client: client)
  }

  /// Counts an input that may still open sessions or submit (a listener accepting clients):
  /// the engine does not finish while one is open. Balance each with ``closeInput()``.
  public func openInput() { inputs.withLock { $0 += 1 } }

  /// An input counted by ``openInput()`` is done.
  public func closeInput() {
    inputs.withLock { $0 -= 1 }
    ready.signal()
  }

  /// Stops the service: the engine answers what was submitted, waits for the open inputs to
  /// close, and returns. Inputs should stop reading (a signal, the end of standard input).
  public func stop() { stopping.withLock { $0 = true } }

  /// Whether ``stop()`` was called.
  public var isStopping: Bool { stopping.withLock { $0 } }

  /// Queues requests for the engine's next batch.
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

  /// Inputs still open.
  var openInputs: Int { inputs.withLock { $0 } }
}

/// A request waiting for the engine, with the session to answer.
struct Pending: Sendable {
  let session: ServiceSession
  let request: IncomingRequest
}
