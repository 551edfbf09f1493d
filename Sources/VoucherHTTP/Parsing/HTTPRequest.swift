/// One HTTP/1.1 request, as the parser framed it: checked for framing, not for meaning.
public struct HTTPRequest: Sendable, Hashable {
  /// The method, as sent (methods are case-sensitive: `GET`, `POST`).
  public let method: String
  /// The request target, in origin form (`/v1/codes/ABC?at=store`), as sent.
  public let target: String
  /// The minor version: 1 for HTTP/1.1, 0 for HTTP/1.0.
  public let minorVersion: Int
  /// The header fields in order, names in lower case, values without surrounding spaces.
  public let headers: [(name: String, value: String)]
  /// The body, decoded from its chunks when it was chunked.
  public let body: [UInt8]

  /// A request as framed.
  ///
  /// - Parameters:
  ///   - method: The method.
  ///   - target: The origin-form target.
  ///   - minorVersion: 1 for HTTP/1.1, 0 for HTTP/1.0.
  ///   - headers: The fields, names in lower case.
  ///   - body: The decoded body.
  public init(
    method: String, target: String, minorVersion: Int, headers: [(name: String, value: String)],
    body: [UInt8]
  ) {
    self.method = method
    self.target = target
    self.minorVersion = minorVersion
    self.headers = headers
    self.body = body
  }

  /// The first value of a header field, by its name in lower case.
  public func header(_ name: String) -> String? {
    headers.first { $0.name == name }?.value
  }

  /// Every value of a header field, split at commas (`Connection: keep-alive, Upgrade`).
  public func tokens(_ name: String) -> [String] {
    headers.filter { $0.name == name }.flatMap {
      $0.value.split(separator: ",").map { $0.trimmingSpaces.lowercased() }
    }
  }

  /// Whether the connection stays open after the answer: HTTP/1.1 unless `Connection: close`,
  /// HTTP/1.0 only with `Connection: keep-alive`.
  public var keepAlive: Bool {
    let connection = tokens("connection")
    if connection.contains("close") { return false }
    return minorVersion >= 1 || connection.contains("keep-alive")
  }

  /// The path of the target, before any `?`.
  public var path: Substring {
    guard let mark = target.utf8.firstIndex(of: 0x3F) else { return target[...] }
    return target[..<mark]
  }

  /// The query of the target after its `?`, or empty.
  public var query: Substring {
    guard let mark = target.utf8.firstIndex(of: 0x3F) else { return "" }
    return target[target.utf8.index(after: mark)...]
  }

  public static func == (a: HTTPRequest, b: HTTPRequest) -> Bool {
    a.method == b.method && a.target == b.target && a.minorVersion == b.minorVersion
      && a.headers.map(\.name) == b.headers.map(\.name)
      && a.headers.map(\.value) == b.headers.map(\.value) && a.body == b.body
  }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(method)
    hasher.combine(target)
    hasher.combine(body)
  }
}

extension Substring {
  /// Without leading and trailing spaces and tabs.
  var trimmingSpaces: Substring {
    var text = self
    while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
    while let last = text.last, last == " " || last == "\t" { text.removeLast() }
    return text
  }
}
