import VoucherKit

/// A calendar period that report days fall into: the day itself, its ISO week or its month.
///
/// Days are counted since 1970-01-01 in the report's zone (see ``ReportBuilder``); a period is
/// named by its first day.
public enum ReportPeriod: String, Sendable, Hashable, CaseIterable, Codable {
  /// A calendar day, `2026-12-01`.
  case day
  /// An ISO 8601 week (Monday to Sunday), `2026-W49`; its year is its Thursday's.
  case week
  /// A calendar month, `2026-12`.
  case month

  /// The first day of the period that holds `day` (days since 1970).
  public func start(of day: Int64) -> Int64 {
    switch self {
    case .day:
      return day
    case .week:
      // 1970-01-01 was a Thursday: Monday is 0 in (day + 3) mod 7.
      let weekday = ((day + 3) % 7 + 7) % 7
      return day - weekday
    case .month:
      let (year, month, _) = ISO8601.civil(fromDays: day)
      return ISO8601.days(year: year, month: month, day: 1)
    }
  }

  /// The period's name from its first day: `2026-12-01`, `2026-W49` or `2026-12`.
  public func name(of start: Int64) -> String {
    func digits(_ value: Int64, _ width: Int) -> String {
      let text = String(value)
      return String(repeating: "0", count: max(0, width - text.count)) + text
    }
    switch self {
    case .day:
      let (year, month, day) = ISO8601.civil(fromDays: start)
      return "\(digits(year, 4))-\(digits(month, 2))-\(digits(day, 2))"
    case .week:
      // The week belongs to the year of its Thursday; week 1 holds that year's first Thursday.
      let thursday = start + 3
      let (year, _, _) = ISO8601.civil(fromDays: thursday)
      let week = (thursday - ISO8601.days(year: year, month: 1, day: 1)) / 7 + 1
      return "\(digits(year, 4))-W\(digits(week, 2))"
    case .month:
      let (year, month, _) = ISO8601.civil(fromDays: start)
      return "\(digits(year, 4))-\(digits(month, 2))"
    }
  }
}
