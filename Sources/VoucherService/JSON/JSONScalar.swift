/// A scalar JSON value, as a request's fields are.
public enum JSONScalar: Sendable, Hashable {
  /// A string, unescaped.
  case string(String)
  /// A number, as its JSON text (never converted, so an id is echoed exactly).
  case number(String)
  /// `true` or `false`.
  case bool(Bool)
  /// `null`.
  case null

  /// The value when it is a string.
  public var string: String? {
    if case .string(let text) = self { return text }
    return nil
  }

  /// The value as JSON text.
  public var json: String {
    switch self {
    case .string(let text): return JSONWriter.quoted(text)
    case .number(let text): return text
    case .bool(let value): return value ? "true" : "false"
    case .null: return "null"
    }
  }
}
