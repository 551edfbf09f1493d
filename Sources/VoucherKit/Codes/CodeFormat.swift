/// Layout of code format version 1.
///
/// ```
/// symbol 0        key slot, in clear (0-30; 31 is reserved for a later format)
/// symbols 1...n   body: tag (T bits) followed by the masked payload (30 bits), big-endian
/// symbol n+1      Damm check symbol over every symbol before it
/// ```
///
/// The payload numbers a code within its key slot's space: a campaign owns the range
/// `base ..< base + channels × capacity`. The code's length gives the tag length, so one key ring
/// serves campaigns with different tag lengths.
enum CodeFormat {
  /// The format version bound into every tag.
  static let version: UInt8 = 1
  /// Bits of payload in a code: 2³⁰ codes per key slot.
  static let payloadBits = 30
  /// All payload values of one key slot.
  static let payloadSpace = 1 << payloadBits
  /// Tag lengths a campaign may ask for; the effective length is rounded up to whole symbols.
  static let requestableTagBits = 32...60
  /// The tag length a campaign gets unless it asks otherwise.
  static let defaultTagBits = 40
  /// Shortest and longest codes, in symbols, separators not counted.
  static let symbolCounts = 15...20

  /// The tag length actually used for a requested one: rounded up to a multiple of 5.
  static func effectiveTagBits(requested: Int) -> Int { (requested + 4) / 5 * 5 }

  /// Symbols in a code whose tag has `tagBits` bits (a multiple of 5).
  static func symbolCount(tagBits: Int) -> Int { 2 + (tagBits + payloadBits) / 5 }

  /// The tag length of a code of `symbolCount` symbols, or `nil` if no code has that length.
  static func tagBits(symbolCount: Int) -> Int? {
    symbolCounts.contains(symbolCount) ? (symbolCount - 2) * 5 - payloadBits : nil
  }
}
