/// Why text cannot be read as a voucher code at all.
public enum MalformedCode: Error, Sendable, Hashable, CustomStringConvertible {
  /// The text holds no symbols.
  case empty
  /// A character that is no symbol and no separator, at a 1-based character position.
  case invalidCharacter(position: Int, character: Unicode.Scalar)
  /// More symbols than the longest code has.
  case tooLong(symbols: Int)
  /// A symbol count no code format has.
  case wrongLength(symbols: Int)

  public var description: String {
    let range = "\(CodeFormat.symbolCounts.lowerBound) to \(CodeFormat.symbolCounts.upperBound)"
    switch self {
    case .empty:
      return "no code given"
    case .invalidCharacter(let position, let character):
      return "character \(position) (\(character.escaped(asASCII: true))) cannot be part of a code"
    case .tooLong:
      return "too long: a code has \(range) symbols"
    case .wrongLength(let symbols):
      return "\(symbols) symbols: a code has \(range)"
    }
  }
}
