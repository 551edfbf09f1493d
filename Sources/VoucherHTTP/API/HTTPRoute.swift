/// The API's routes, exactly these paths: what a request asks for, before who asks is checked.
public enum HTTPRoute: Sendable, Hashable {
  /// `GET /v1/codes/{code}`: verify, with the registry's state.
  case verify(String)
  /// `POST /v1/codes/{code}/redeem`.
  case redeem(String)
  /// `POST /v1/codes/{code}/void`.
  case void(String)
  /// `POST /v1/codes/{code}/claim`.
  case claim(String)
  /// `GET /v1/codes/{code}/history`.
  case history(String)
  /// `GET /v1/report`.
  case report
  /// `GET /v1/events`.
  case events
  /// `GET /v1/health`, without a token.
  case health
  /// `GET /v1/openapi.json`, without a token.
  case openAPI

  /// Every route as the OpenAPI document lists it: method and path template.
  public static let documented: [(method: String, path: String)] = [
    ("GET", "/v1/codes/{code}"),
    ("POST", "/v1/codes/{code}/redeem"),
    ("POST", "/v1/codes/{code}/void"),
    ("POST", "/v1/codes/{code}/claim"),
    ("GET", "/v1/codes/{code}/history"),
    ("GET", "/v1/report"),
    ("GET", "/v1/events"),
    ("GET", "/v1/health"),
    ("GET", "/v1/openapi.json"),
  ]

  /// The route of a method and path, or the error answer: 404 for a path that is none of them,
  /// 405 (with `Allow`) for a known path asked with another method, 400 for a code whose
  /// percent-encoding is broken or not UTF-8.
  public static func match(method: String, path: Substring) -> Result<HTTPRoute, HTTPResponse> {
    func expect(_ allowed: String, _ route: HTTPRoute) -> Result<HTTPRoute, HTTPResponse> {
      guard method == allowed else {
        return .failure(
          .problem(
            405, "\(path) takes \(allowed) only", headers: [HTTPResponse.Header("Allow", allowed)])
        )
      }
      return .success(route)
    }
    // The segments after `/v1/`, taken one at a time (no array per request).
    guard path.utf8.starts(with: "/v1/".utf8) else { return .failure(notFound(path)) }
    var rest = path.dropFirst(4)
    func segment() -> Substring? {
      guard let slash = rest.utf8.firstIndex(of: 0x2F) else { return nil }
      let taken = rest[..<slash]
      rest = rest[rest.utf8.index(after: slash)...]
      return taken
    }
    guard let resource = segment() else {
      switch rest {
      case "health": return expect("GET", .health)
      case "openapi.json": return expect("GET", .openAPI)
      case "report": return expect("GET", .report)
      case "events": return expect("GET", .events)
      default: return .failure(notFound(path))
      }
    }
    guard resource == "codes" else { return .failure(notFound(path)) }
    let text = segment() ?? rest
    let action: Substring? = text.endIndex == rest.endIndex ? nil : rest
    guard !text.isEmpty, action?.utf8.contains(0x2F) != true else {
      return .failure(notFound(path))
    }
    guard let code = percentDecoded(text, plusIsSpace: false) else {
      return .failure(.problem(400, "the code in the path is not valid percent-encoded UTF-8"))
    }
    switch action {
    case nil: return expect("GET", .verify(code))
    case "redeem": return expect("POST", .redeem(code))
    case "void": return expect("POST", .void(code))
    case "claim": return expect("POST", .claim(code))
    case "history": return expect("GET", .history(code))
    default: return .failure(notFound(path))
    }
  }

  private static func notFound(_ path: Substring) -> HTTPResponse {
    .problem(404, "no route; see /v1/openapi.json")
  }

  /// A query's parameters; `nil` when one is repeated or not valid percent-encoded UTF-8.
  public static func parameters(_ query: Substring) -> [String: String]? {
    var result: [String: String] = [:]
    for pair in query.split(separator: "&") {
      let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      guard let name = percentDecoded(parts[0], plusIsSpace: true),
        let value = percentDecoded(parts.count > 1 ? parts[1] : "", plusIsSpace: true),
        result[name] == nil
      else { return nil }
      result[name] = value
    }
    return result
  }

  /// Decodes `%XX` escapes (and `+` as a space in a query); `nil` for a broken escape or bytes
  /// that are not UTF-8.
  static func percentDecoded(_ text: Substring, plusIsSpace: Bool) -> String? {
    if !text.utf8.contains(where: { $0 == 0x25 || ($0 == 0x2B && plusIsSpace) }) {
      return String(text)
    }
    var bytes: [UInt8] = []
    var iterator = text.utf8.makeIterator()
    func hex(_ byte: UInt8?) -> UInt8? {
      switch byte {
      case .some(let b) where b >= 0x30 && b <= 0x39: return b - 0x30
      case .some(let b) where b >= 0x41 && b <= 0x46: return b - 0x41 + 10
      case .some(let b) where b >= 0x61 && b <= 0x66: return b - 0x61 + 10
      default: return nil
      }
    }
    while let byte = iterator.next() {
      switch byte {
      case 0x25:
        guard let high = hex(iterator.next()), let low = hex(iterator.next()) else { return nil }
        bytes.append(high << 4 | low)
      case 0x2B where plusIsSpace: bytes.append(0x20)
      default: bytes.append(byte)
      }
    }
    return String(validating: bytes, as: UTF8.self)
  }
}
