/// Why an identifier or a reason was refused.
///
/// The field is named as the registry knows it (`store`, `profile`, ...); a front end words it
/// as its own option or key (`--store` on the command line, `'store'` in a JSON request).
public struct InvalidField: Error, Sendable, Hashable, CustomStringConvertible {
  /// Which field: `store`, `terminal`, `request`, `profile` or `reason`.
  public let field: String
  /// Why.
  public let reason: String

  /// A refusal of `field`, saying why.
  public init(field: String, reason: String) {
    self.field = field
    self.reason = reason
  }

  /// The field's name and why it was refused: "store must be 1 to 64 of ...".
  public var description: String { "\(field) \(reason)" }
}

/// The grammar of every identifier a till or a CRM sends: 1 to 64 of `A-Z a-z 0-9 . _ : -`.
func checkOpaque(_ text: String, field: String) throws(InvalidField) {
  let bytes = text.utf8
  guard (1...64).contains(bytes.count), bytes.allSatisfy(isOpaqueByte) else {
    throw InvalidField(
      field: field, reason: "must be 1 to 64 of A-Z, a-z, 0-9, '.', '_', ':' and '-'")
  }
}

private func isOpaqueByte(_ byte: UInt8) -> Bool {
  switch byte {
  case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2E, 0x5F, 0x3A, 0x2D: return true
  default: return false
  }
}

/// A store's identifier (`S12`, `berlin-mitte`).
public struct StoreID: Sendable, Hashable, Comparable, CustomStringConvertible {
  /// The identifier's text.
  public let rawValue: String
  /// Checks and wraps a store id.
  public init(_ text: String) throws(InvalidField) {
    try checkOpaque(text, field: "store")
    rawValue = text
  }
  public var description: String { rawValue }
  public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// A till's identifier within a store.
public struct TerminalID: Sendable, Hashable, CustomStringConvertible {
  /// The identifier's text.
  public let rawValue: String
  /// Checks and wraps a terminal id.
  public init(_ text: String) throws(InvalidField) {
    try checkOpaque(text, field: "terminal")
    rawValue = text
  }
  public var description: String { rawValue }
}

/// A client's idempotency key: a request repeated with the same id gets the original answer.
public struct RequestID: Sendable, Hashable, CustomStringConvertible {
  /// The identifier's text.
  public let rawValue: String
  /// Checks and wraps a request id.
  public init(_ text: String) throws(InvalidField) {
    try checkOpaque(text, field: "request")
    rawValue = text
  }
  public var description: String { rawValue }
}

/// A pseudonymous customer profile id from the CRM. Customers are people, not data sources: a
/// value that looks like an e-mail address or a phone number is refused.
public struct ProfileID: Sendable, Hashable, Comparable, CustomStringConvertible {
  /// The identifier's text.
  public let rawValue: String

  /// Checks and wraps a profile id.
  ///
  /// - Throws: ``InvalidField`` for an e-mail address, a phone number, or text outside the
  ///   identifier grammar.
  public init(_ text: String) throws(InvalidField) {
    if text.contains("@") {
      throw InvalidField(
        field: "profile",
        reason:
          "looks like an e-mail address; store the CRM's pseudonymous profile id, never contact data"
      )
    }
    let digits = text.unicodeScalars.filter { !" -./()+".unicodeScalars.contains($0) }
    if (7...15).contains(digits.count), digits.allSatisfy({ ("0"..."9").contains($0) }) {
      throw InvalidField(
        field: "profile",
        reason:
          "looks like a phone number; store the CRM's pseudonymous profile id, never contact data")
    }
    try checkOpaque(text, field: "profile")
    rawValue = text
  }

  public var description: String { rawValue }
  public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// Free text explaining a void or a block: 1 to 200 characters, no control characters.
public struct Reason: Sendable, Hashable, CustomStringConvertible {
  /// The text.
  public let rawValue: String

  /// Checks and wraps a reason.
  public init(_ text: String) throws(InvalidField) {
    guard (1...200).contains(text.unicodeScalars.count) else {
      throw InvalidField(field: "reason", reason: "must be 1 to 200 characters")
    }
    guard !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
      throw InvalidField(field: "reason", reason: "must not contain control characters")
    }
    rawValue = text
  }

  public var description: String { rawValue }
}
