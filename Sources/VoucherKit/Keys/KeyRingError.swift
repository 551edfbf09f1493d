/// Errors raised while loading or changing the key ring.
///
/// The description says what is wrong in the key ring's own words; ``remedy`` says what would
/// set it right, as a case that each front end words in its own terms (a command, a flag).
public enum KeyRingError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The home has no `Keys/` folder.
  case missingKeyRing(path: String)
  /// `Keys/` holds no key file.
  case emptyKeyRing(path: String)
  /// A key file is readable or writable by group or others; it must be mode 0600.
  case keyFileTooOpen(path: String, mode: UInt16)
  /// A key's secret is shorter than 128 bits.
  case keyTooShort(path: String, bits: Int)
  /// A key file is not in the key file format.
  case malformedKeyFile(path: String, reason: String)
  /// No key in the ring has this slot.
  case unknownSlot(KeySlot)
  /// Every slot from 0 to 30 is taken.
  case noFreeSlot
  /// The change asked for does not apply to the key's state (for example retiring a revoked key).
  case invalidTransition(slot: KeySlot, from: KeyState, to: KeyState)
  /// No key in the ring may issue codes.
  case noActiveKey
  /// OpenSSL's random generator failed.
  case randomFailed
  /// A key file could not be read or written.
  case io(SystemError)

  /// What would set a key ring error right.
  public enum Remedy: Sendable, Hashable {
    /// Make a signing key.
    case makeKey
    /// Make a signing key, or use the home that holds the key ring.
    case makeKeyOrChooseHome
  }

  /// What would set the error right, when a step can be named.
  public var remedy: Remedy? {
    switch self {
    case .missingKeyRing: return .makeKeyOrChooseHome
    case .emptyKeyRing, .noActiveKey: return .makeKey
    default: return nil
    }
  }

  /// What is wrong, without the remedy.
  public var problem: String {
    switch self {
    case .missingKeyRing(let path):
      return "no key ring at \(path)"
    case .emptyKeyRing(let path):
      return "the key ring at \(path) has no keys"
    case .keyFileTooOpen(let path, let mode):
      return
        "key file \(path) has mode \(String(mode, radix: 8, uppercase: false).leftPadded(to: 4)); others could read the secret. Run: chmod 600 \(path)"
    case .keyTooShort(let path, let bits):
      return "key file \(path) holds a \(bits)-bit secret; at least 128 bits are required"
    case .malformedKeyFile(let path, let reason):
      return "key file \(path) is malformed: \(reason)"
    case .unknownSlot(let slot):
      return "no key in slot \(slot)"
    case .noFreeSlot:
      return "all key slots (0 to \(KeySlot.maximum)) are in use"
    case .invalidTransition(let slot, let from, let to):
      return "the key in slot \(slot) is \(from) and cannot become \(to)"
    case .noActiveKey:
      return "no active key can sign codes"
    case .randomFailed:
      return "OpenSSL's random generator failed"
    case .io(let error):
      return error.description
    }
  }

  /// What is wrong and, in domain words, what would set it right.
  public var description: String {
    switch remedy {
    case nil: return problem
    case .makeKey: return problem + "; make a signing key"
    case .makeKeyOrChooseHome:
      return problem + "; make a signing key, or use the home that holds the key ring"
    }
  }
}

extension String {
  /// The text, padded on the left to `width` characters.
  package func leftPadded(to width: Int, with pad: Character = "0") -> String {
    count >= width ? self : String(repeating: pad, count: width - count) + self
  }
}
