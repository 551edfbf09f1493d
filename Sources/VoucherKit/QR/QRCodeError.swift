/// Why a text could not become a QR code.
public enum QRCodeError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The text does not fit version 40 at the level asked for.
  case tooLong(bytes: Int, level: QRErrorCorrection)
  /// A mask number outside 0...7 was asked for.
  case invalidMask(Int)

  public var description: String {
    switch self {
    case .tooLong(let bytes, let level):
      return "\(bytes) bytes do not fit a QR code at error correction level \(level)"
    case .invalidMask(let mask):
      return "QR mask \(mask) does not exist; masks are 0 to 7"
    }
  }
}
