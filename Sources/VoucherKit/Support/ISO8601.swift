import FoundationEssentials

/// ISO 8601 dates and times as voucher reads and writes them, without a formatter object.
///
/// Accepted: `2026-12-31` (a whole day, UTC), `2026-12-31T18:00` and `2026-12-31T18:00:00`,
/// each optionally followed by `Z` or an offset such as `+01:00` (no offset means UTC).
public enum ISO8601 {
  /// A point in time written as `YYYY-MM-DDTHH:MM:SSZ`.
  public static func format(_ date: Date) -> String {
    let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
    let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
    let time = seconds - days * 86_400
    let (year, month, day) = civil(fromDays: days)
    guard (0...9999).contains(year) else {
      func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
      return
        "\(year)-\(two(month))-\(two(day))T\(two(time / 3600)):\(two(time / 60 % 60)):\(two(time % 60))Z"
    }
    // Answers carry timestamps by the thousand: write the 20 bytes directly.
    return String(unsafeUninitializedCapacity: 20) { out in
      func put(_ value: Int64, _ digits: Int, at position: Int) {
        var rest = value
        for index in stride(from: position + digits - 1, through: position, by: -1) {
          out[index] = UInt8(0x30 + rest % 10)
          rest /= 10
        }
      }
      put(year, 4, at: 0)
      out[4] = 0x2D
      put(month, 2, at: 5)
      out[7] = 0x2D
      put(day, 2, at: 8)
      out[10] = 0x54
      put(time / 3600, 2, at: 11)
      out[13] = 0x3A
      put(time / 60 % 60, 2, at: 14)
      out[16] = 0x3A
      put(time % 60, 2, at: 17)
      out[19] = 0x5A
      return 20
    }
  }

  /// Parses a date or date and time.
  ///
  /// - Parameters:
  ///   - text: The text to read.
  ///   - endOfDay: For a bare date, whether to answer the end of that day (the start of the next)
  ///     instead of its start.
  /// - Returns: The instant, or `nil` when the text is not a valid date.
  public static func parse(_ text: String, endOfDay: Bool = false) -> Date? {
    let bytes = Array(text.utf8)
    func number(_ range: Range<Int>) -> Int64? {
      guard range.upperBound <= bytes.count else { return nil }
      var value: Int64 = 0
      for byte in bytes[range] {
        guard (0x30...0x39).contains(byte) else { return nil }
        value = value * 10 + Int64(byte - 0x30)
      }
      return value
    }
    guard bytes.count >= 10, bytes[4] == 0x2D, bytes[7] == 0x2D,
      let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
      (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year)
    else { return nil }
    var seconds = days(year: year, month: month, day: day) * 86_400
    if bytes.count == 10 {
      if endOfDay { seconds += 86_400 }
      return Date(timeIntervalSince1970: TimeInterval(seconds))
    }
    guard bytes[10] == 0x54 || bytes[10] == 0x74 || bytes[10] == 0x20, bytes.count >= 16,
      bytes[13] == 0x3A,
      let hour = number(11..<13), let minute = number(14..<16), hour < 24, minute < 60
    else { return nil }
    seconds += hour * 3600 + minute * 60
    var rest = 16
    if bytes.count >= 19 && bytes[16] == 0x3A {
      guard let second = number(17..<19), second < 60 else { return nil }
      seconds += second
      rest = 19
    }
    if rest == bytes.count { return Date(timeIntervalSince1970: TimeInterval(seconds)) }
    if bytes.count == rest + 1 && (bytes[rest] == 0x5A || bytes[rest] == 0x7A) {
      return Date(timeIntervalSince1970: TimeInterval(seconds))
    }
    guard bytes.count == rest + 6, bytes[rest] == 0x2B || bytes[rest] == 0x2D,
      bytes[rest + 3] == 0x3A,
      let offsetHours = number(rest + 1..<rest + 3),
      let offsetMinutes = number(rest + 4..<rest + 6),
      offsetHours < 24, offsetMinutes < 60
    else { return nil }
    let offset = offsetHours * 3600 + offsetMinutes * 60
    seconds += bytes[rest] == 0x2B ? -offset : offset
    return Date(timeIntervalSince1970: TimeInterval(seconds))
  }

  package static func isLeap(_ year: Int64) -> Bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
  }

  private static func daysIn(month: Int64, year: Int64) -> Int64 {
    switch month {
    case 2: return isLeap(year) ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
  }

  /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
  package static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yearOfEra = y - era * 400
    let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    return era * 146_097 + dayOfEra - 719_468
  }

  package static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
    let z = z0 + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let dayOfEra = z - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let mp = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
  }
}
