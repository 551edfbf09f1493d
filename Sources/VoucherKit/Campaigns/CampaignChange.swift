import FoundationEssentials

/// One change of a running campaign, as its file keeps it: when, which setting, the value before
/// and after, and what made it.
///
/// Values are kept as text, as a campaign file holds its settings (`"2026-08-31"`, `"3"`);
/// `nil` is "none" (a campaign without an end).
public struct CampaignChange: Sendable, Hashable, Codable {
  /// When the change was made, ISO 8601 in UTC (`2026-12-01T09:30:00Z`).
  public let time: String
  /// The setting changed.
  public let field: CampaignEdit.Field
  /// The value before the change.
  public let old: String?
  /// The value after the change.
  public let new: String?
  /// What made the change (`campaign set`, `campaign end`).
  public let by: String?

  /// A change record.
  public init(time: String, field: CampaignEdit.Field, old: String?, new: String?, by: String?) {
    self.time = time
    self.field = field
    self.old = old
    self.new = new
    self.by = by
  }
}

/// A change asked of a campaign's setting: the setting and its new value as text.
public struct CampaignEdit: Sendable, Hashable {
  /// A setting that can change while a campaign runs. Adding one is a case here, its current
  /// value in ``Campaign/value(of:)``, its assignment in `Campaign.Fields.set(_:to:)`, and its
  /// stranding rule, if any, in ``Campaign/applying(_:usage:now:by:)``.
  public enum Field: String, Sendable, Hashable, Codable, CaseIterable {
    case starts, ends, title, uses, perProfile

    /// The setting, as messages name it.
    public var setting: CampaignSetting {
      switch self {
      case .starts: return .starts
      case .ends: return .ends
      case .title: return .title
      case .uses: return .uses
      case .perProfile: return .perProfile
      }
    }
  }

  /// The setting.
  public let field: Field
  /// The new value; `nil` removes it (only an end can be removed).
  public let value: String?

  /// A change of `field` to `value`.
  public init(_ field: Field, _ value: String?) {
    self.field = field
    self.value = value
  }
}

/// What the registry knows of a campaign's redemptions that a change must not contradict.
public struct CampaignUsage: Sendable, Hashable {
  /// The time of its first redemption (voided or not), if it has any.
  public var firstRedemption: Date?
  /// The most live uses (redemptions less voids) any one of its codes has.
  public var mostUses: Int

  /// Usage as read from a registry; `none` for a campaign nothing was redeemed of.
  public init(firstRedemption: Date?, mostUses: Int) {
    self.firstRedemption = firstRedemption
    self.mostUses = mostUses
  }

  /// No redemption at all.
  public static let none = CampaignUsage(firstRedemption: nil, mostUses: 0)
}
