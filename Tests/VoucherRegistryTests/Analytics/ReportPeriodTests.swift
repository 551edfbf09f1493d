import Foundation
import Testing
import VoucherKit
import VoucherRegistry

@Suite("Report periods: days, ISO weeks and months")
struct ReportPeriodTests {
  /// Days since 1970 of a `YYYY-MM-DD` date.
  func day(_ text: String) -> Int64 {
    Int64((ISO8601.parse(text)!.timeIntervalSince1970 / 86_400).rounded(.down))
  }

  @Test("ISO week names at the turns of years, known answers")
  func weeks() {
    // ISO 8601: week 1 holds the year's first Thursday; a week's year is its Thursday's.
    let cases = [
      ("2020-12-31", "2020-W53"), ("2021-01-03", "2020-W53"), ("2021-01-04", "2021-W01"),
      ("2024-12-30", "2025-W01"), ("2025-12-28", "2025-W52"), ("2025-12-29", "2026-W01"),
      ("2026-12-01", "2026-W49"), ("1970-01-01", "1970-W01"), ("1969-12-29", "1970-W01"),
      ("1969-12-28", "1969-W52"), ("2004-12-31", "2004-W53"), ("2000-02-29", "2000-W09"),
    ]
    for (date, week) in cases {
      let start = ReportPeriod.week.start(of: day(date))
      #expect(ReportPeriod.week.name(of: start) == week, "\(date)")
      // The start is a Monday at most six days before.
      #expect(day(date) - start >= 0 && day(date) - start <= 6)
      #expect(((start + 3) % 7 + 7) % 7 == 0, "\(date) starts on a Monday")
    }
  }

  @Test("every day of 1960 to 2040 against Foundation's ISO 8601 calendar and its month")
  func againstFoundation() {
    var calendar = Calendar(identifier: .iso8601)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    for day in day("1960-01-01")...day("2040-12-31") {
      let date = Date(timeIntervalSince1970: Double(day) * 86_400)
      let parts = calendar.dateComponents(
        [.yearForWeekOfYear, .weekOfYear, .year, .month], from: date)
      let week = String(format: "%04d-W%02d", parts.yearForWeekOfYear!, parts.weekOfYear!)
      let month = String(format: "%04d-%02d", parts.year!, parts.month!)
      #expect(ReportPeriod.week.name(of: ReportPeriod.week.start(of: day)) == week)
      #expect(ReportPeriod.month.name(of: ReportPeriod.month.start(of: day)) == month)
      #expect(ReportPeriod.day.name(of: day) == String(ISO8601.format(date).prefix(10)))
    }
  }
}
