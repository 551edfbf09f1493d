import FoundationEssentials
import Synchronization
import VoucherHTTP
import VoucherKit
import VoucherRegistry

#if canImport(Glibc)
  import Glibc
#endif

/// The HTTP routes that read the registry without the engine: the report (the command's own,
/// run in the process) and the event feed (the export's JSON Lines after a cursor).
struct HTTPReads: Sendable {
  let context: HTTPReadContext
  let location: RegistryLocation
  let campaigns: CampaignBook
  /// Tells the operator about failures whose details the client does not get.
  let log: @Sendable (String) -> Void

  /// A connection's own read-only view of the registry (it answers verifies at once).
  func view() -> (any RegistryStore)? {
    try? location.open(campaigns: campaigns, create: false)
  }

  /// Answers a report or events action.
  func answer(_ action: HTTPAPI.Action, stopping: () -> Bool) -> HTTPResponse {
    switch action {
    case .respond(let response): return response
    case .report(let query): return report(query)
    case .events(let after, let limit, let wait):
      return events(after: after, limit: limit, wait: wait, stopping: stopping)
    case .submit: return .problem(500, nil)
    }
  }

  /// `voucher report` with the query's options, its output as the body.
  private func report(_ query: [String: String]) -> HTTPResponse {
    let format = query["format"] ?? "json"
    var arguments = ["--format", format]
    for name in ["campaign", "by", "since", "until"] {
      if let value = query[name] { arguments += ["--\(name)", value] }
    }
    let console = CapturingConsole()
    let run = Context(
      home: context.home, console: console, now: Date(), lockTimeout: context.lockTimeout,
      zone: context.zone)
    let types = [
      "json": "application/json", "csv": "text/csv; charset=utf-8", "svg": "image/svg+xml",
      "html": "text/html; charset=utf-8",
    ]
    guard let type = types[format] else {
      return .problem(400, "'format' must be json, csv, svg or html")
    }
    do {
      _ = try ReportCommand.run(arguments, run)
      return HTTPResponse(
        status: 200, headers: [.init("Content-Type", type)], body: console.output)
    } catch {
      let failure = CommandError(error)
      if failure.status == ExitStatus.usage {
        // The command's words name its options (--since); the API's parameters have the same
        // names without the dashes.
        return .problem(400, failure.message.replacing("--", with: ""))
      }
      if let registry = error as? RegistryError { return HTTPAPI.problem(registry) }
      if error is CampaignError, failure.status == ExitStatus.noInput {
        return .problem(404, failure.message)
      }
      log(failure.message)
      return .problem(500, "the report could not be made; an operator must look at the log")
    }
  }

  /// The events after `after`, up to `limit`, as JSON Lines; waits up to `wait` seconds for one.
  private func events(after: Int64, limit: Int, wait: Double, stopping: () -> Bool)
    -> HTTPResponse
  {
    let deadline = Date().addingTimeInterval(wait)
    do {
      var rows = try ExportRows(
        campaigns: campaigns.campaigns, ring: try KeyRing.load(from: context.home.keys))
      while true {
        var body: [UInt8] = []
        var count = 0
        var cursor = after
        if let registry = try location.openIfPresent(campaigns: campaigns) {
          do {
            try registry.forEachEvent(campaign: nil) { event in
              guard event.offset > after else { return }
              guard count < limit else { throw EnoughEvents() }
              rows.json(event, into: &body)
              count += 1
              cursor = event.offset
            }
          } catch is EnoughEvents {}
          for warning in registry.takeWarnings() { log(warning) }
        }
        if count > 0 || Date() >= deadline || stopping() {
          var headers = [HTTPResponse.Header("Content-Type", "application/jsonl")]
          if cursor >= 0 { headers.append(.init("Voucher-Cursor", String(cursor))) }
          return HTTPResponse(status: 200, headers: headers, body: body)
        }
        usleep(100_000)
      }
    } catch let error as RegistryError {
      return HTTPAPI.problem(error)
    } catch {
      log(CommandError(error).message)
      return .problem(500, "the events could not be read; an operator must look at the log")
    }
  }
}

/// Stops an event scan at the limit.
private struct EnoughEvents: Error {}

/// What the reads need of the command's context.
struct HTTPReadContext: Sendable {
  let home: VoucherHome
  let lockTimeout: Double
  /// The zone the server was started with (`--tz`): report days are counted in it.
  var zone: ZoneRules = .utc
}

/// A console that keeps what a command prints, for the HTTP report.
final class CapturingConsole: Console {
  private let out = Mutex<[UInt8]>([])

  func writeOut(_ bytes: UnsafeRawBufferPointer) throws(SystemError) {
    out.withLock { $0 += bytes }
  }
  func writeError(_ text: String) {}
  var errorIsTerminal: Bool { false }
  func readInput(upTo count: Int) throws(SystemError) -> [UInt8] { [] }
  func environment(_ name: String) -> String? { nil }

  /// Everything written to standard output.
  var output: [UInt8] { out.withLock { $0 } }
}
