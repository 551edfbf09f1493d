/// Where a key is in its life: it signs, then only verifies, or is withdrawn.
public enum KeyState: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
  /// Issues and verifies codes.
  case active
  /// Verifies the codes it signed but issues no more.
  case retired
  /// Compromised or withdrawn: its codes answer `revoked-key`.
  case revoked

  public var description: String { rawValue }
}
