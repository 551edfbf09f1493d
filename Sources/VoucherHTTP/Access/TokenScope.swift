/// What an API token may do.
public enum TokenScope: String, Sendable, Hashable, CaseIterable {
  /// A till in one store: verify, redeem in its store, void and read a code's history.
  case till
  /// The web shop's backend: verify, claim and redeem online.
  case web
  /// The CRM: reports and the event feed.
  case crm
}

/// One token as the home keeps it: its name, scope, store, and the SHA-256 of its secret (never
/// the secret).
public struct APIToken: Sendable, Hashable {
  /// The name it is listed and revoked by.
  public let name: String
  /// What it may do.
  public let scope: TokenScope
  /// The store a till token acts as; `nil` for other scopes.
  public let store: String?
  /// SHA-256 of the secret.
  let digest: [UInt8]
}
