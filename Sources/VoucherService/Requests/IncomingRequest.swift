/// A request as a transport read it, before it is checked: its fields, or why it is no request.
public enum IncomingRequest: Sendable, Hashable {
  /// A flat JSON object's fields (`id`, `op`, `code`, ...; see the serve protocol).
  case fields([String: JSONScalar])
  /// What was read is not a request (not a JSON object, a line too long); the text says why,
  /// and the answer is an error with a `null` id.
  case unreadable(String)

  /// Parses one line (without its line feed; a final carriage return is dropped) as a request.
  ///
  /// - Parameter line: The line's bytes.
  public init(line: [UInt8]) {
    var bytes = line
    if bytes.last == 0x0D { bytes.removeLast() }
    do {
      self = .fields(try JSONLine.parse(bytes))
    } catch {
      self = .unreadable("not a JSON object: \(error.description)")
    }
  }

  /// The request's `id`, echoed in its answer: `null` when it has none or could not be read.
  public var id: JSONScalar {
    if case .fields(let fields) = self { return fields["id"] ?? .null }
    return .null
  }
}
