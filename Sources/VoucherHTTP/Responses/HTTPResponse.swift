import VoucherKit
import VoucherService

/// One HTTP answer: a status, its header fields and a body, written with a `Content-Length`.
public struct HTTPResponse: Sendable, Hashable, Error {
  /// The status code.
  public var status: Int
  /// Header fields besides `Content-Length`, `Connection` and `Date`.
  public var headers: [Header]
  /// The body.
  public var body: [UInt8]

  /// A header field.
  public struct Header: Sendable, Hashable {
    /// The field's name, as written.
    public let name: String
    /// Its value.
    public let value: String
    /// A field.
    public init(_ name: String, _ value: String) {
      self.name = name
      self.value = value
    }
  }

  /// An answer.
  ///
  /// - Parameters:
  ///   - status: The status code.
  ///   - headers: Fields besides `Content-Length` and `Connection`.
  ///   - body: The body.
  public init(status: Int, headers: [Header] = [], body: [UInt8] = []) {
    self.status = status
    self.headers = headers
    self.body = body
  }

  /// A JSON body (`application/json`).
  public static func json(_ status: Int, _ text: String) -> HTTPResponse {
    HTTPResponse(
      status: status, headers: [Header("Content-Type", "application/json")],
      body: Array((text + "\n").utf8))
  }

  /// An RFC 9457 problem (`application/problem+json`): `type` is `about:blank`, `title` the
  /// status's reason phrase, `detail` what was wrong with the request, in words.
  public static func problem(_ status: Int, _ detail: String?, headers: [Header] = [])
    -> HTTPResponse
  {
    var writer = JSONWriter()
    writer.add("detail", detail)
    writer.add("status", status)
    writer.add("title", reason(status))
    writer.add("type", "about:blank")
    return HTTPResponse(
      status: status, headers: [Header("Content-Type", "application/problem+json")] + headers,
      body: Array((writer.line + "\n").utf8))
  }

  /// The first value of a header field, by name (case-insensitive).
  public func header(_ name: String) -> String? {
    headers.first { $0.name.lowercased() == name.lowercased() }?.value
  }

  /// The bytes on the wire: status line, fields, `Content-Length`, and `Connection: close` when
  /// the connection ends after it.
  ///
  /// - Parameters:
  ///   - close: Whether the connection is closed after this answer.
  ///   - head: Whether only the head is sent (an answer to `HEAD`).
  public func bytes(close: Bool, head: Bool = false) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(128 + body.count)
    append(to: &out, close: close, head: head)
    return out
  }

  /// Appends the bytes on the wire to `out` (see ``bytes(close:head:)``), written byte by byte
  /// rather than through text: a connection writes its pipelined answers into one buffer.
  public func append(to out: inout [UInt8], close: Bool, head: Bool = false) {
    out.append(contentsOf: "HTTP/1.1 ".utf8)
    out.appendDecimal(status)
    out.append(0x20)
    out.append(contentsOf: Self.reason(status).utf8)
    out.append(contentsOf: "\r\n".utf8)
    for header in headers {
      out.append(contentsOf: header.name.utf8)
      out.append(contentsOf: ": ".utf8)
      out.append(contentsOf: header.value.utf8)
      out.append(contentsOf: "\r\n".utf8)
    }
    out.append(contentsOf: "Content-Length: ".utf8)
    out.appendDecimal(body.count)
    out.append(contentsOf: "\r\n".utf8)
    if close { out.append(contentsOf: "Connection: close\r\n".utf8) }
    out.append(contentsOf: "\r\n".utf8)
    if !head { out.append(contentsOf: body) }
  }

  /// The reason phrase of a status code.
  public static func reason(_ status: Int) -> String {
    switch status {
    case 200: return "OK"
    case 400: return "Bad Request"
    case 401: return "Unauthorized"
    case 403: return "Forbidden"
    case 404: return "Not Found"
    case 405: return "Method Not Allowed"
    case 408: return "Request Timeout"
    case 409: return "Conflict"
    case 413: return "Content Too Large"
    case 414: return "URI Too Long"
    case 415: return "Unsupported Media Type"
    case 422: return "Unprocessable Content"
    case 429: return "Too Many Requests"
    case 431: return "Request Header Fields Too Large"
    case 500: return "Internal Server Error"
    case 501: return "Not Implemented"
    case 503: return "Service Unavailable"
    case 505: return "HTTP Version Not Supported"
    default: return "Status \(status)"
    }
  }
}
