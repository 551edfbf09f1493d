/// A registration link with one `{code}` placeholder, such as
/// `HTTPS://SHOP.EXAMPLE/R/{code}`: what `issue --url` writes in a `url` column and what a QR
/// code holds.
///
/// Uppercase links fit a QR code's alphanumeric mode (`0-9 A-Z space $ % * + - . / :`), which
/// makes the symbol about a third smaller than a link in lower case. Scheme and host are case
/// insensitive, so `HTTPS://SHOP.EXAMPLE/R/` opens the same page as its lower case.
public struct URLTemplate: Sendable, Hashable, CustomStringConvertible {
  /// The placeholder the code replaces.
  public static let placeholder = "{code}"
  /// The longest template accepted, in bytes: a link of this length with a code still fits a QR
  /// code at level H.
  public static let maximumLength = 1000

  /// The text before the code.
  public let prefix: String
  /// The text after the code.
  public let suffix: String

  /// Checks a template.
  ///
  /// - Parameter text: The template.
  /// - Throws: ``URLTemplateError`` for a template without exactly one `{code}`, with a control
  ///   character, that a spreadsheet would read as a formula, or longer than ``maximumLength``.
  public init(_ text: String) throws(URLTemplateError) {
    guard text.utf8.count <= Self.maximumLength else {
      throw .tooLong(bytes: text.utf8.count, maximum: Self.maximumLength)
    }
    if let scalar = text.unicodeScalars.first(where: Self.isControl) {
      throw .controlCharacter(scalar.value)
    }
    let pieces = text.components(separatedBy: Self.placeholder)
    guard pieces.count == 2 else { throw .placeholderCount(pieces.count - 1) }
    if let first = text.first, "=+-@".contains(first) { throw .formulaLike(first) }
    prefix = pieces[0]
    suffix = pieces[1]
  }

  /// The link of a code.
  public func link(_ code: String) -> String { prefix + code + suffix }

  public var description: String { prefix + Self.placeholder + suffix }

  /// Control characters (C0, DEL, C1), line and paragraph separators, and the bidirectional
  /// overrides and isolates that can make a link read differently from what it opens.
  static func isControl(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x00...0x1F, 0x7F...0x9F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069: return true
    default: return false
    }
  }
}

/// Why a `--url` template was refused.
public enum URLTemplateError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The template has this many `{code}` placeholders instead of exactly one.
  case placeholderCount(Int)
  /// The template holds a control character (its code point).
  case controlCharacter(UInt32)
  /// The template starts with `=`, `+`, `-` or `@`, which a spreadsheet reads as a formula.
  case formulaLike(Character)
  /// The template is longer than the maximum.
  case tooLong(bytes: Int, maximum: Int)

  public var description: String {
    switch self {
    case .placeholderCount(let count):
      return "the --url template must hold {code} exactly once, not \(count) times"
    case .controlCharacter(let value):
      return
        "the --url template holds the control character U+\(String(value, radix: 16, uppercase: true).leftPadded(to: 4))"
    case .formulaLike(let first):
      return "the --url template starts with '\(first)', which a spreadsheet reads as a formula"
    case .tooLong(let bytes, let maximum):
      return "the --url template is \(bytes) bytes long; at most \(maximum) are accepted"
    }
  }
}
