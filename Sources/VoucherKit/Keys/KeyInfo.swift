/// What may be shown about a key: everything but its secret.
public struct KeyInfo: Sendable, Hashable {
  /// The key's slot, printed in clear as the first symbol of its codes.
  public let slot: KeySlot
  /// Whether it issues, only verifies, or is revoked.
  public var state: KeyState
  /// When it was made, as ISO 8601 text.
  public let created: String
  /// Whether this is a published demonstration key, whose codes anyone can forge.
  public let isDemo: Bool
  /// The secret's length in bits.
  public let bits: Int
}
