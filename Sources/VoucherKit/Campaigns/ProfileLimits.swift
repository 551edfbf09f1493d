import FoundationEssentials

/// How many codes of a campaign one pseudonymous customer profile may redeem, and claim.
///
/// A redemption counts towards its profile whether the profile was given at the till or
/// inherited from an online claim of the code; a void gives the use back. The count of
/// redemptions runs over a period (``LimitPeriod``): a calendar day, an ISO week (Monday to
/// Sunday) or a month in the campaign's zone, or the whole campaign. Claims are counted over the
/// whole campaign.
public struct ProfileLimits: Sendable, Hashable, Codable {
  /// Redemptions per profile and period; `nil`: no limit.
  public var redemptions: Int?
  /// The period the redemptions are counted in.
  public var period: LimitPeriod
  /// Codes claimed per profile; `nil`: no limit.
  public var claims: Int?
  /// The tz database zone whose calendar bounds the periods (`--tz` when the campaign was
  /// added); `nil` or `UTC` for UTC.
  public var zone: String?

  /// Limits; each count must be at least 1.
  ///
  /// - Returns: `nil` when a count is below 1, or neither is given.
  public init?(redemptions: Int?, period: LimitPeriod = .campaign, claims: Int?, zone: String?) {
    guard redemptions != nil || claims != nil,
      (redemptions ?? 1) >= 1, (claims ?? 1) >= 1
    else { return nil }
    self.redemptions = redemptions
    self.period = period
    self.claims = claims
    self.zone = zone
  }

  private enum CodingKeys: String, CodingKey { case redemptions, period, claims, zone }

  /// Reads limits from a campaign file, refusing counts below 1 or limits that limit nothing (a
  /// hand-edited or damaged file), so that a bad file is named rather than refusing everyone.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    guard
      let limits = ProfileLimits(
        redemptions: try container.decodeIfPresent(Int.self, forKey: .redemptions),
        period: try container.decodeIfPresent(LimitPeriod.self, forKey: .period) ?? .campaign,
        claims: try container.decodeIfPresent(Int.self, forKey: .claims),
        zone: try container.decodeIfPresent(String.self, forKey: .zone))
    else {
      throw DecodingError.dataCorrupted(
        .init(
          codingPath: decoder.codingPath,
          debugDescription: "per-profile limits must be at least 1, and limit something"))
    }
    self = limits
  }

  /// The period that holds `now`, in `zone`'s calendar: its first instant and the first instant
  /// after it; `nil` for the whole campaign.
  ///
  /// A period starts at local midnight of its first day (a day, an ISO week's Monday, a
  /// month's first day) and ends at the next period's start, as the zone's clocks show it.
  public func window(at now: Date, zone rules: ZoneRules) -> (start: Date, end: Date)? {
    let calendarPeriod: (first: Int64, next: Int64)
    let today = rules.day(of: Int64(now.timeIntervalSince1970.rounded(.down)))
    switch period {
    case .campaign:
      return nil
    case .day:
      calendarPeriod = (today, today + 1)
    case .week:
      // 1970-01-01 was a Thursday: Monday is 0 in (day + 3) mod 7.
      let monday = today - ((today + 3) % 7 + 7) % 7
      calendarPeriod = (monday, monday + 7)
    case .month:
      let (year, month, _) = ISO8601.civil(fromDays: today)
      calendarPeriod = (
        ISO8601.days(year: year, month: month, day: 1),
        month == 12
          ? ISO8601.days(year: year + 1, month: 1, day: 1)
          : ISO8601.days(year: year, month: month + 1, day: 1)
      )
    }
    return (
      Self.midnight(of: calendarPeriod.first, in: rules),
      Self.midnight(of: calendarPeriod.next, in: rules)
    )
  }

  /// The instant a local day begins in a zone (the offset taken where it applies: the local
  /// midnight's offset, found from the offset the day before's midnight would have).
  static func midnight(of day: Int64, in rules: ZoneRules) -> Date {
    let local = day * 86_400
    var instant = local - Int64(rules.offset(at: local))
    instant = local - Int64(rules.offset(at: instant))
    return Date(timeIntervalSince1970: TimeInterval(instant))
  }
}

/// The period a profile's redemptions are counted in.
public enum LimitPeriod: String, Sendable, Hashable, Codable, CaseIterable {
  /// A calendar day.
  case day
  /// An ISO 8601 week, Monday to Sunday.
  case week
  /// A calendar month.
  case month
  /// The whole campaign: the count never resets.
  case campaign
}
