import FoundationEssentials
import VoucherKit
import VoucherRegistry

/// What the engine tells the operator, for a log: failures and the registry's warnings.
public enum ServiceDiagnostic: Sendable {
  /// An operation, or a whole batch, failed; its requests were answered with the error.
  case failed(RegistryError)
  /// Something worth telling that is not an error (a repaired torn tail).
  case warning(String)
}

/// The group-commit engine: takes the requests of every session in batches, checks them,
/// commits the registry operations of a batch together, and hands every client its answers.
///
/// Requests that arrive while a batch is being made durable wait for the next batch, so under
/// load many redemptions share one durable commit (one `fdatasync` in the file registry). No
/// answer is handed over before the batch it belongs to is durable. The engine works against
/// any `RegistryStore`, and runs on one thread, which owns the store.
public final class ServiceEngine {
  /// The sessions' shared queue.
  public let service: Service
  /// The registry the batches are committed to.
  let store: any RegistryStore
  /// The most operations in one batch.
  public let batchLimit: Int
  /// Where failures and warnings go.
  let report: (ServiceDiagnostic) -> Void

  /// An engine committing the service's requests to `store`.
  ///
  /// - Parameters:
  ///   - service: The queue the sessions submit to.
  ///   - store: The registry, used on the thread that calls ``run()``.
  ///   - batchLimit: The most operations in one batch.
  ///   - report: Takes failures and warnings for the operator's log.
  public init(
    service: Service, store: any RegistryStore, batchLimit: Int = 4096,
    report: @escaping (ServiceDiagnostic) -> Void = { _ in }
  ) {
    self.service = service
    self.store = store
    self.batchLimit = batchLimit
    self.report = report
  }

  /// Commits batches until the service is stopped and every input has closed, then answers what
  /// is left and returns.
  public func run() {
    while true {
      let items = service.take(timeout: 0.2)
      if !items.isEmpty {
        var start = 0
        while start < items.count {
          let end = min(items.count, start + batchLimit)
          answer(items[start..<end])
          start = end
        }
        continue
      }
      if service.isStopping && service.openInputs == 0 {
        let rest = service.take(timeout: 0)
        if rest.isEmpty { return }
        answer(rest[...])
      }
    }
  }

  /// Answers one batch: checks the codes, commits the registry operations together, then hands
  /// every client its answers, grouped per client, in the order asked.
  func answer(_ items: ArraySlice<Pending>) {
    let now = service.clock()
    let verifier = service.verifier
    var answers = [ServiceAnswer?](repeating: nil, count: items.count)
    var operations: [RegistryOperation] = []
    var waiting: [(index: Int, request: ServeRequest)] = []
    for (index, item) in zip(0..., items) {
      switch item.request {
      case .unreadable(let why):
        answers[index] = ServiceAnswer(id: .null, .invalid(why))
      case .fields(let fields):
        let id = fields["id"] ?? .null
        switch ServeRequest.make(fields, verifier: verifier, prizes: service.prizes, now: now) {
        case .answer(let outcome):
          answers[index] = ServiceAnswer(id: id, .outcome(outcome))
        case .failure(let message):
          answers[index] = ServiceAnswer(id: id, .invalid(message))
        case .operation(let request):
          waiting.append((index, request))
          operations.append(request.operation)
        }
      }
    }
    if !operations.isEmpty {
      do {
        let results = try store.perform(operations, now: now)
        for ((index, request), result) in zip(waiting, results) {
          if case .failed(let error) = result {
            answers[index] = ServiceAnswer(id: request.id, .failed(error))
            report(.failed(error))
          } else if let outcome = request.outcome(result, zone: service.zone) {
            answers[index] = ServiceAnswer(id: request.id, .outcome(outcome))
          }
        }
      } catch {
        for (index, request) in waiting {
          answers[index] = ServiceAnswer(id: request.id, .failed(error))
        }
        report(.failed(error))
      }
    }
    for warning in store.takeWarnings() { report(.warning(warning)) }
    // One delivery per client per batch, in request order.
    var groups: [ObjectIdentifier: [Int]] = [:]
    var order: [(ObjectIdentifier, ServiceSession)] = []
    for (offset, item) in zip(0..., items) {
      let key = ObjectIdentifier(item.session)
      if groups[key] == nil { order.append((key, item.session)) }
      groups[key, default: []].append(offset)
    }
    for (key, session) in order {
      let offsets = groups[key]!
      session.client.deliver(
        offsets.map { answers[$0] ?? ServiceAnswer(id: .null, .invalid("internal error")) })
      session.answered(offsets.count)
    }
  }
}
