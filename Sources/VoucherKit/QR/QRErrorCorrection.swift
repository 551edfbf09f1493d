/// How much of a QR code may be damaged and still read: the four levels of ISO/IEC 18004.
///
/// A higher level spends more of the symbol on Reed-Solomon error correction, so the same text
/// may need a larger version. Medium is the usual choice for print.
public enum QRErrorCorrection: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
  /// About 7 % of the codewords may be restored.
  case low = "L"
  /// About 15 % (the default).
  case medium = "M"
  /// About 25 %.
  case quartile = "Q"
  /// About 30 %.
  case high = "H"

  public var description: String { rawValue }

  /// The row of the level in ``QRTables``' tables (L, M, Q, H).
  var index: Int {
    switch self {
    case .low: return 0
    case .medium: return 1
    case .quartile: return 2
    case .high: return 3
    }
  }

  /// The two bits that name the level in the format information (not in L, M, Q, H order).
  var formatBits: Int {
    switch self {
    case .low: return 0b01
    case .medium: return 0b00
    case .quartile: return 0b11
    case .high: return 0b10
    }
  }
}
