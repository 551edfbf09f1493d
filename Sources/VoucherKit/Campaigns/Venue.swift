/// Where a code is being used: at a shop's till or online.
public enum Venue: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
  /// In a shop.
  case store
  /// In a web shop or app.
  case online

  public var description: String { rawValue }
}

/// Where a campaign's codes may be redeemed.
public enum RedemptionPolicy: String, Sendable, Hashable, Codable, CaseIterable,
  CustomStringConvertible
{
  /// Only in shops.
  case store
  /// Only online.
  case online
  /// Anywhere.
  case any

  /// Whether a code of this policy may be used at `venue`.
  public func allows(_ venue: Venue) -> Bool {
    switch self {
    case .any: return true
    case .store: return venue == .store
    case .online: return venue == .online
    }
  }

  public var description: String { rawValue }
}
