import Dispatch
import FoundationEssentials
import Synchronization
import VoucherKit
import VoucherRegistry

#if canImport(Glibc)
  import Glibc
#endif

/// The long-running verifier: clients send JSON lines, one committer answers them in batches.
///
/// Requests that arrive while a batch is being made durable wait for the next batch, so under
/// load many redemptions share one `fdatasync` (group commit). No answer is written before the
/// batch it belongs to is durable.
/// What the reader threads and the signal handlers share with the committer.
final class ServerControl: Sendable {
  let inbox = Inbox()
  /// Set by SIGTERM or SIGINT, or by the end of standard input.
  let stopping = Mutex(false)

  func stop() { stopping.withLock { $0 = true } }
  var isStopping: Bool { stopping.withLock { $0 } }
}

final class Server {
  let control = ServerControl()
  var inbox: Inbox { control.inbox }
  let keyRing: KeyRing
  let campaigns: CampaignBook
  let registry: Registry
  let console: any Console
  /// The most operations in one batch.
  let batchLimit = 4096

  init(keyRing: KeyRing, campaigns: CampaignBook, registry: Registry, console: any Console) {
    self.keyRing = keyRing
    self.campaigns = campaigns
    self.registry = registry
    self.console = console
  }

  /// Commits batches until stopped and every reader has finished, then answers what is left.
  func commitLoop() {
    let verifier = Verifier(keyRing: keyRing, campaigns: campaigns)
    while true {
      let items = inbox.take(timeout: 0.2)
      if !items.isEmpty {
        var start = 0
        while start < items.count {
          let end = min(items.count, start + batchLimit)
          answer(items[start..<end], verifier: verifier)
          start = end
        }
        continue
      }
      if control.isStopping && inbox.activeReaders == 0 {
        let rest = inbox.take(timeout: 0)
        if rest.isEmpty { return }
        answer(rest[...], verifier: verifier)
      }
    }
  }

  /// Answers one batch: checks the codes, commits the registry operations together, then writes
  /// every answer, grouped per client, in the order asked.
  private func answer(_ items: ArraySlice<Pending>, verifier: Verifier) {
    let now = Date()
    var lines = [String?](repeating: nil, count: items.count)
    var operations: [RegistryOperation] = []
    var waiting: [(index: Int, request: ServeRequest)] = []
    for (index, item) in zip(items.indices, items) {
      let id = item.fields?["id"] ?? .null
      guard let fields = item.fields else {
        lines[index - items.startIndex] = errorLine(id: id, item.error ?? "not a request")
        continue
      }
      switch ServeRequest.make(fields, verifier: verifier, now: now) {
      case .answer(let outcome):
        lines[index - items.startIndex] = outcome.jsonLine(id: id)
      case .failure(let message):
        lines[index - items.startIndex] = errorLine(id: id, message)
      case .operation(let request):
        waiting.append((index - items.startIndex, request))
        operations.append(request.operation)
      }
    }
    if !operations.isEmpty {
      do {
        let results = try registry.perform(operations, now: now)
        for ((index, request), result) in zip(waiting, results) {
          if case .failed(let error) = result {
            lines[index] = errorLine(id: request.id, CommandError(error).message)
            console.error(CommandError(error).message)
          } else if let outcome = request.outcome(result) {
            lines[index] = outcome.jsonLine(id: request.id)
          }
        }
      } catch {
        let message = CommandError(error).message
        for (index, request) in waiting { lines[index] = errorLine(id: request.id, message) }
        console.error(message)
      }
    }
    for warning in registry.takeWarnings() { console.warning(warning) }
    // One write per client per batch, in request order.
    var groups: [ObjectIdentifier: [Int]] = [:]
    var order: [(ObjectIdentifier, Connection)] = []
    for (offset, item) in items.enumerated() {
      let key = ObjectIdentifier(item.connection)
      if groups[key] == nil { order.append((key, item.connection)) }
      groups[key, default: []].append(offset)
    }
    for (key, connection) in order {
      let offsets = groups[key]!
      var text = ""
      text.reserveCapacity(offsets.count * 512)
      for offset in offsets {
        text += lines[offset] ?? errorLine(id: .null, "internal error")
        text += "\n"
      }
      connection.send(text)
      connection.answered(offsets.count)
    }
  }

  /// Answers a verify on the reader's thread, with the reader's own registry view, when it can:
  /// a request that is a well-formed verify. Everything else goes to the committer.
  static func answerVerify(_ item: Pending, view: Registry?, verifier: Verifier) -> Bool {
    guard let fields = item.fields, fields["op"]?.string == "verify", let view else { return false }
    let id = fields["id"] ?? .null
    switch ServeRequest.make(fields, verifier: verifier, now: Date()) {
    case .answer(let outcome):
      item.connection.sendNow(outcome.jsonLine(id: id) + "\n")
      return true
    case .operation(let request):
      guard let status = try? view.peek(request.voucher) else { return false }
      item.connection.sendNow(
        Outcome.verified(request.input, request.voucher, status).jsonLine(id: id) + "\n")
      return true
    case .failure:
      return false
    }
  }

  private func errorLine(id: JSONScalar, _ message: String) -> String {
    var writer = JSONWriter()
    writer.add("error", message)
    writer.add(raw: "id", id.json)
    writer.add("status", "error")
    return writer.line
  }
}
