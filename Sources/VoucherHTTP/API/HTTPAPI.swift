import FoundationEssentials
import VoucherKit
import VoucherRegistry
import VoucherService

/// The HTTP front's rules, over parsed requests: routes, bearer tokens and their scopes, the
/// wrong-code rate limit, idempotency keys, and how a service answer becomes an HTTP answer.
/// The transport (sockets, TLS, the connection's order of answers) is the command's.
public final class HTTPAPI: Sendable {
  /// What a request asks the transport to do.
  public enum Action: Sendable {
    /// Answer this at once.
    case respond(HTTPResponse)
    /// Submit these fields to the service engine (the transport adds an `id`), then answer with
    /// ``HTTPAPI/response(to:for:)``.
    case submit(Submission)
    /// Answer a report (`campaign`, `by`, `since`, `until`, `format` as given).
    case report([String: String])
    /// Answer the events after a cursor, up to a limit, waiting up to `wait` seconds for one.
    case events(after: Int64, limit: Int, wait: Double)
  }

  /// A request for the engine, and what its answer needs.
  public struct Submission: Sendable {
    /// The serve protocol's fields (`op`, `code`, `store`, ...).
    public let fields: [String: JSONScalar]
    /// The caller's scope: `did you mean` is for tills only.
    let scope: TokenScope
    /// The rate limit buckets a wrong code spends from.
    let buckets: [String]
    /// The registry request id an idempotency key became, to release when answered.
    let idempotent: String?
    /// The store of the till token that sent it: a till voids only its own store's
    /// redemptions.
    public let tillStore: String?
  }

  /// The tokens, as the token file says now.
  public let tokens: TokenWatcher
  /// The wrong-code buckets.
  public let limiter: RateLimiter
  /// The idempotency keys' bindings.
  public let idempotency: IdempotencyBook
  /// The OpenAPI document, served as it is.
  public let document: String

  /// The statuses that count as a wrong code against the rate limit.
  public static let wrongCodes: Set<String> = ["malformed", "mistyped", "forged"]

  /// The API's rules over these tokens, limits and keys.
  public init(
    tokens: TokenWatcher, limiter: RateLimiter, idempotency: IdempotencyBook,
    document: String = OpenAPIDocument.text
  ) {
    self.tokens = tokens
    self.limiter = limiter
    self.idempotency = idempotency
    self.document = document
  }

  /// What to do with a request from `peer` (its address, for the rate limit); `memo` is the
  /// connection's last token answer (see ``TokenWatcher/Memo``).
  public func action(
    for request: HTTPRequest, peer: String, now: Double, memo: inout TokenWatcher.Memo
  ) -> Action {
    let route: HTTPRoute
    switch HTTPRoute.match(method: request.method, path: request.path) {
    case .failure(let response): return .respond(response)
    case .success(let matched): route = matched
    }
    guard let query = HTTPRoute.parameters(request.query) else {
      return .respond(.problem(400, "the query repeats a parameter or is not valid UTF-8"))
    }
    switch route {
    case .health:
      return .respond(.json(200, "{\"status\":\"ok\"}"))
    case .openAPI:
      return .respond(
        HTTPResponse(
          status: 200, headers: [.init("Content-Type", "application/json")],
          body: Array(document.utf8)))
    default: break
    }
    guard let token = authenticate(request, memo: &memo) else {
      return .respond(
        .problem(401, nil, headers: [.init("WWW-Authenticate", "Bearer realm=\"voucher\"")]))
    }
    switch route {
    case .report, .events:
      guard token.scope == .crm else { return .respond(forbidden(token)) }
      if case .events = route { return events(query) }
      let known: Set<String> = ["campaign", "by", "since", "until", "format"]
      if let unknown = query.keys.sorted().first(where: { !known.contains($0) }) {
        return .respond(.problem(400, "unknown parameter '\(printable(unknown))'"))
      }
      return .report(query)
    default: break
    }
    let buckets = ["token:" + token.name, "peer:" + peer]
    let wait = limiter.wait(buckets)
    if wait > 0 {
      return .respond(
        .problem(
          429, "too many wrong codes; retry after \(wait) seconds",
          headers: [.init("Retry-After", String(wait))]))
    }
    switch submission(route, request, query, token, buckets, now: now) {
    case .failure(let response): return .respond(response)
    case .success(let submission): return .submit(submission)
    }
  }

  /// The token a request's `Authorization: Bearer` names, if it is valid now.
  func authenticate(_ request: HTTPRequest, memo: inout TokenWatcher.Memo) -> APIToken? {
    var value: String?
    for header in request.headers where header.name == "authorization" {
      guard value == nil else { return nil }
      value = header.value
    }
    guard let value else { return nil }
    let parts = value.split(separator: " ", maxSplits: 1)
    guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
    return tokens.token(secret: parts[1].trimmingSpaces.utf8, memo: &memo)
  }

  private func forbidden(_ token: APIToken) -> HTTPResponse {
    .problem(403, "a \(token.scope.rawValue) token may not do this")
  }

  private func events(_ query: [String: String]) -> Action {
    let known: Set<String> = ["after", "limit", "wait"]
    if let unknown = query.keys.sorted().first(where: { !known.contains($0) }) {
      return .respond(.problem(400, "unknown parameter '\(printable(unknown))'"))
    }
    func number(_ name: String, _ fallback: Int64, _ range: ClosedRange<Int64>) -> Int64? {
      guard let text = query[name] else { return fallback }
      guard !text.isEmpty, text.utf8.count <= 19,
        text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
        let value = Int64(text), range.contains(value)
      else { return nil }
      return value
    }
    guard let after = number("after", -1, 0...Int64.max) else {
      return .respond(.problem(400, "'after' must be the id of an event (a whole number)"))
    }
    guard let limit = number("limit", 1000, 1...10_000) else {
      return .respond(.problem(400, "'limit' must be a whole number from 1 to 10000"))
    }
    guard let wait = number("wait", 0, 0...60) else {
      return .respond(.problem(400, "'wait' must be a whole number of seconds from 0 to 60"))
    }
    return .events(after: after, limit: Int(limit), wait: Double(wait))
  }

  /// The fields a code route sends to the engine, with the token's scope applied.
  private func submission(
    _ route: HTTPRoute, _ request: HTTPRequest, _ query: [String: String], _ token: APIToken,
    _ buckets: [String], now: Double
  ) -> Result<Submission, HTTPResponse> {
    let op: String
    let code: String
    let allowed: Set<String>
    let scopes: Set<TokenScope>
    switch route {
    case .verify(let text): (op, code, allowed, scopes) = ("verify", text, [], Self.readers)
    case .redeem(let text):
      (op, code, allowed, scopes) = ("redeem", text, Self.redeemFields, Self.readers)
    case .void(let text): (op, code, allowed, scopes) = ("void", text, Self.voidFields, Self.tills)
    case .claim(let text):
      (op, code, allowed, scopes) = ("claim", text, Self.claimFields, Self.webs)
    case .history(let text): (op, code, allowed, scopes) = ("history", text, [], Self.tills)
    default: return .failure(.problem(404, nil))
    }
    guard scopes.contains(token.scope) else { return .failure(forbidden(token)) }
    var fields: [String: JSONScalar] = [:]
    if request.method == "POST" {
      if let type = request.header("content-type"),
        type.split(separator: ";")[0].trimmingSpaces.lowercased() != "application/json"
      {
        return .failure(.problem(415, "the body must be application/json"))
      }
      if !request.body.allSatisfy({ [0x20, 0x09, 0x0D, 0x0A].contains($0) }) {
        do {
          fields = try JSONLine.parse(request.body)
        } catch {
          return .failure(.problem(400, "the body is not a flat JSON object: \(error.description)"))
        }
      }
      if let unknown = fields.keys.sorted().first(where: { !allowed.contains($0) }) {
        return .failure(.problem(400, "unknown field '\(printable(unknown))' for \(op)"))
      }
    } else {
      let known: Set<String> = op == "verify" ? ["at"] : []
      if let unknown = query.keys.sorted().first(where: { !known.contains($0) }) {
        return .failure(.problem(400, "unknown parameter '\(printable(unknown))'"))
      }
      if let at = query["at"] { fields["at"] = .string(at) }
    }
    if op == "redeem" {
      switch token.scope {
      case .till:
        guard fields["online"] == nil || fields["online"] == .bool(false) else {
          return .failure(.problem(403, "a till token redeems in its own store, not online"))
        }
        if let store = fields["store"], store != .string(token.store ?? "") {
          return .failure(.problem(403, "this token acts as store \(token.store ?? "") only"))
        }
        fields["online"] = nil
        fields["store"] = .string(token.store ?? "")
      default:
        guard fields["store"] == nil else {
          return .failure(.problem(403, "a web token redeems online only"))
        }
        guard fields["online"] == nil || fields["online"] == .bool(true) else {
          return .failure(.problem(403, "a web token redeems online only"))
        }
        fields["online"] = .bool(true)
      }
    }
    var idempotent: String?
    if let key = request.header("idempotency-key") {
      guard request.method == "POST" else {
        return .failure(.problem(400, "Idempotency-Key goes with writes (POST) only"))
      }
      guard request.headers.filter({ $0.name == "idempotency-key" }).count == 1,
        (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
      else {
        return .failure(.problem(400, "Idempotency-Key must be 1 to 255 visible ASCII characters"))
      }
      guard fields["request"] == nil else {
        return .failure(.problem(400, "give Idempotency-Key or a 'request' field, not both"))
      }
      let identity = Array("\(request.method) \(request.path)\n".utf8) + request.body
      switch idempotency.begin(key: key, token: token.name, request: identity, now: now) {
      case .proceed(let requestID):
        idempotent = requestID
        if op != "claim" { fields["request"] = .string(requestID) }
      case .mismatch:
        return .failure(.problem(422, "this Idempotency-Key was used with another request"))
      case .inFlight:
        return .failure(.problem(409, "a request with this Idempotency-Key is still in flight"))
      case .unavailable(let why):
        return .failure(.problem(503, why, headers: [.init("Retry-After", "60")]))
      }
    }
    fields["op"] = .string(op)
    fields["code"] = .string(code)
    return .success(
      Submission(
        fields: fields, scope: token.scope, buckets: buckets, idempotent: idempotent,
        tillStore: token.scope == .till ? token.store : nil))
  }

  /// Whether a till may void a code whose latest live redemption is `receipt`: only one made in
  /// its own store. `nil` lets the void go on; else the 403 to answer (releasing its key).
  ///
  /// The check reads before the engine writes: a redemption another store records in between
  /// (of a code with several uses) is not seen by it.
  public func voidRefusal(_ submission: Submission, latest receipt: Receipt?) -> HTTPResponse? {
    guard submission.fields["op"] == .string("void"), let store = submission.tillStore,
      let receipt, receipt.store?.rawValue != store
    else { return nil }
    if let request = submission.idempotent { idempotency.end(request: request) }
    return .problem(403, "the latest redemption of this code was not made in store \(store)")
  }

  private static let readers: Set<TokenScope> = [.till, .web]
  private static let tills: Set<TokenScope> = [.till]
  private static let webs: Set<TokenScope> = [.web]
  private static let redeemFields: Set<String> = [
    "store", "terminal", "profile", "online", "request",
  ]
  private static let voidFields: Set<String> = ["reason", "request"]
  private static let claimFields: Set<String> = ["profile"]

  /// The HTTP answer to the engine's answer: 200 with the outcome's fields for an answered code
  /// (a wrong one spends from the rate limit; `suggestion` only for tills), 400 for a bad
  /// request, 503 with `Retry-After` for a busy or fenced registry, 500 for damage.
  public func response(to answer: ServiceAnswer, for submission: Submission) -> HTTPResponse {
    if let request = submission.idempotent { idempotency.end(request: request) }
    switch answer.result {
    case .outcome(var outcome):
      if Self.wrongCodes.contains(outcome.status) { limiter.spend(submission.buckets) }
      if submission.scope != .till && outcome.suggestion != nil {
        outcome.suggestion = nil
        outcome.message = "the check symbol does not match: re-enter the code"
      }
      return .json(200, outcome.json())
    case .invalid(let message):
      return .problem(400, message)
    case .failed(let error):
      return Self.problem(error)
    }
  }

  /// A registry failure as an HTTP problem, without paths or other internals.
  public static func problem(_ error: RegistryError) -> HTTPResponse {
    switch error {
    case .busy:
      return .problem(
        503, "the registry is busy; retry shortly", headers: [.init("Retry-After", "1")])
    case .fenced, .syncFailed:
      return .problem(
        503, "the registry refuses writes until an operator checks it",
        headers: [.init("Retry-After", "60")])
    case .io(let system) where system.operation.hasPrefix("sync"):
      return .problem(
        503, "the registry refuses writes until an operator checks it",
        headers: [.init("Retry-After", "60")])
    case .unreachable:
      // A database registry restarting or out of reach: nothing was recorded; retry.
      return .problem(
        503, "the registry cannot be reached; retry shortly", headers: [.init("Retry-After", "5")])
    case .missing, .vanished, .alreadyExists, .damaged, .io, .database, .schemaVersion:
      return .problem(500, "the registry cannot answer; an operator must check it")
    }
  }
}
