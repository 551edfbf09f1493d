import FoundationEssentials

/// A time zone's rules read from the system's tz database (Debian's `tzdata`, TZif files as
/// RFC 8536 defines them), without ICU: the offset from UTC at any instant, for local days in
/// reports and local times on a till.
///
/// Instants before the file's last transition use its transition table; later ones its footer,
/// a POSIX TZ string (`CET-1CEST,M3.5.0,M10.5.0/3`) that states the rule from then on.
public struct ZoneRules: Sendable, Hashable {
  /// The zone's name (`Europe/Amsterdam`), or `UTC`.
  public let name: String
  /// Transition instants, seconds since 1970, ascending.
  private let transitions: [Int64]
  /// The offset (seconds east of UTC) in force from each transition on.
  private let offsets: [Int32]
  /// The offset before the first transition.
  private let initialOffset: Int32
  /// The rule after the last transition.
  private let rule: PosixRule?

  /// Coordinated Universal Time: offset zero, always.
  public static let utc = ZoneRules(
    name: "UTC", transitions: [], offsets: [], initialOffset: 0, rule: nil)

  /// Whether this is UTC itself (times then end in `Z`).
  public var isUTC: Bool { transitions.isEmpty && initialOffset == 0 && rule == nil }

  private init(
    name: String, transitions: [Int64], offsets: [Int32], initialOffset: Int32, rule: PosixRule?
  ) {
    self.name = name
    self.transitions = transitions
    self.offsets = offsets
    self.initialOffset = initialOffset
    self.rule = rule
  }

  /// What can go wrong loading a zone.
  public enum LoadError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Not a zone name: empty, absolute, with `.` or `..` parts or other characters.
    case invalidName
    /// No such zone in the tz database.
    case unknown(String)
    /// The file is not a TZif file this reader understands.
    case malformed(String)

    public var description: String {
      switch self {
      case .invalidName:
        return "a time zone is a tz database name such as Europe/Amsterdam, or UTC"
      case .unknown(let name): return "no time zone \(name) in the tz database"
      case .malformed(let name): return "the tz database file of \(name) is malformed"
      }
    }
  }

  /// The folders searched for zone files: `$TZDIR`'s if set, else Debian's.
  public static let defaultFolder = "/usr/share/zoneinfo"

  /// Loads a zone by its tz database name.
  ///
  /// - Parameters:
  ///   - name: `Europe/Amsterdam`, `America/New_York`, `UTC`, ...
  ///   - folder: The tz database's folder.
  /// - Throws: ``LoadError``.
  public static func named(_ name: String, in folder: String = defaultFolder) throws(LoadError)
    -> ZoneRules
  {
    if name == "UTC" || name == "Etc/UTC" { return .utc }
    let parts = name.split(separator: "/", omittingEmptySubsequences: false)
    guard !name.isEmpty, name.utf8.count <= 128,
      parts.allSatisfy({ part in
        !part.isEmpty && part.first != "." && part.utf8.allSatisfy { byte in
          (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
            || (0x30...0x39).contains(byte) || byte == 0x5F || byte == 0x2D || byte == 0x2B
        }
      })
    else {
      throw .invalidName
    }
    let bytes: [UInt8]
    do {
      bytes = try FileSystem.read(folder + "/" + name, limit: 1 << 20).bytes
    } catch {
      throw .unknown(name)
    }
    guard let rules = parse(bytes, name: name) else { throw .malformed(name) }
    return rules
  }

  /// Reads a TZif file: its 64-bit data block and footer when the version has them (2 and
  /// later), else its 32-bit block.
  static func parse(_ bytes: [UInt8], name: String) -> ZoneRules? {
    struct Reader {
      let bytes: [UInt8]
      var at = 0
      mutating func take(_ count: Int) -> ArraySlice<UInt8>? {
        guard count >= 0, at + count <= bytes.count else { return nil }
        defer { at += count }
        return bytes[at..<at + count]
      }
      mutating func integer(_ size: Int) -> Int64? {
        guard let slice = take(size) else { return nil }
        var value: Int64 = 0
        for byte in slice { value = value << 8 | Int64(byte) }
        // Sign-extend.
        let shift = Int64(64 - size * 8)
        return (value << shift) >> shift
      }
    }
    var reader = Reader(bytes: bytes)
    func header() -> (version: UInt8, counts: [Int])? {
      guard reader.take(4).map(Array.init) == Array("TZif".utf8), let version = reader.take(1)?.first,
        reader.take(15) != nil
      else { return nil }
      var counts: [Int] = []
      for _ in 0..<6 {
        guard let count = reader.integer(4), (0...1_000_000).contains(count) else { return nil }
        counts.append(Int(count))
      }
      return (version, counts)
    }
    guard var (version, counts) = header() else { return nil }
    var timeSize = 4
    if version >= 0x32 {
      // Skip the 32-bit block: its lengths follow from the counts.
      let (isUT, isStd, leap, time, type, chars) = (
        counts[0], counts[1], counts[2], counts[3], counts[4], counts[5]
      )
      guard reader.take(time * 5 + type * 6 + chars + leap * 8 + isStd + isUT) != nil,
        let second = header()
      else { return nil }
      (version, counts) = second
      timeSize = 8
    }
    let (isUT, isStd, leap, time, type, chars) = (
      counts[0], counts[1], counts[2], counts[3], counts[4], counts[5]
    )
    guard type >= 1 else { return nil }
    var transitions: [Int64] = []
    for _ in 0..<time {
      guard let instant = reader.integer(timeSize) else { return nil }
      transitions.append(instant)
    }
    guard let indices = reader.take(time).map(Array.init), indices.allSatisfy({ Int($0) < type })
    else { return nil }
    var typeOffsets: [Int32] = []
    for _ in 0..<type {
      guard let offset = reader.integer(4), reader.take(2) != nil,
        (-89_999...93_599).contains(offset)
      else { return nil }
      typeOffsets.append(Int32(offset))
    }
    guard reader.take(chars + leap * (timeSize + 4) + isStd + isUT) != nil else { return nil }
    var rule: PosixRule?
    if timeSize == 8 {
      // The footer: a POSIX TZ string between two line feeds, possibly empty.
      guard reader.take(1)?.first == 0x0A, let end = bytes[reader.at...].firstIndex(of: 0x0A)
      else { return nil }
      let text = String(decoding: bytes[reader.at..<end], as: UTF8.self)
      if !text.isEmpty {
        guard let parsed = PosixRule(text) else { return nil }
        rule = parsed
      }
    }
    guard zip(transitions, transitions.dropFirst()).allSatisfy({ $0 < $1 }) else { return nil }
    return ZoneRules(
      name: name, transitions: transitions, offsets: indices.map { typeOffsets[Int($0)] },
      initialOffset: typeOffsets[0], rule: rule)
  }

  /// The offset from UTC, in seconds east, at an instant (seconds since 1970).
  public func offset(at instant: Int64) -> Int {
    if let last = transitions.last, instant >= last, let rule {
      return rule.offset(at: instant)
    }
    if transitions.isEmpty, let rule { return rule.offset(at: instant) }
    // The last transition at or before the instant.
    var low = 0
    var high = transitions.count
    while low < high {
      let middle = (low + high) / 2
      if transitions[middle] <= instant { low = middle + 1 } else { high = middle }
    }
    return Int(low == 0 ? initialOffset : offsets[low - 1])
  }

  /// The offset at a date.
  public func offset(at date: Date) -> Int {
    offset(at: Int64(date.timeIntervalSince1970.rounded(.down)))
  }

  /// The local calendar day of an instant, as days since 1970-01-01.
  public func day(of instant: Int64) -> Int64 {
    let local = instant + Int64(offset(at: instant))
    return local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
  }

  /// A moment in ISO 8601 as this zone's clocks show it: `2026-12-01T10:00:00+01:00`, or with
  /// `Z` in UTC.
  public func format(_ date: Date) -> String {
    if isUTC { return ISO8601.format(date) }
    let offset = offset(at: date)
    var text = ISO8601.format(date.addingTimeInterval(Double(offset)))
    text.removeLast()
    let minutes = abs(offset) / 60
    func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
    return text + (offset < 0 ? "-" : "+") + two(minutes / 60) + ":" + two(minutes % 60)
  }
}

/// A POSIX TZ string's rule, as TZif footers hold it (RFC 8536 section 3.3): a standard offset,
/// optionally a daylight offset and the rules for the switches.
struct PosixRule: Sendable, Hashable {
  /// Offsets east of UTC (the string's are west).
  let standard: Int
  let daylight: Int?
  /// When daylight time starts and ends, each as a date rule and a local time of day in seconds
  /// (which may be negative or beyond 24 hours).
  let start: (DateRule, Int)?
  let end: (DateRule, Int)?

  enum DateRule: Hashable {
    /// `Jn`: day 1 to 365, February 29 never counted.
    case julian(Int)
    /// `n`: day 0 to 365, February 29 counted in leap years.
    case zeroBased(Int)
    /// `Mm.w.d`: day `d` (0 Sunday) of week `w` (5: the last) of month `m`.
    case month(Int, Int, Int)

    /// The day (days since 1970) this rule names in a year.
    func day(in year: Int64) -> Int64 {
      let january1 = ISO8601.days(year: year, month: 1, day: 1)
      switch self {
      case .julian(let n):
        return january1 + Int64(n - 1) + (ISO8601.isLeap(year) && n >= 60 ? 1 : 0)
      case .zeroBased(let n):
        return january1 + Int64(n)
      case .month(let month, let week, let weekday):
        let first = ISO8601.days(year: year, month: Int64(month), day: 1)
        // 1970-01-01 was a Thursday (4).
        let firstWeekday = ((first % 7) + 7 + 4) % 7
        var day = first + (Int64(weekday) - firstWeekday + 7) % 7 + Int64(week - 1) * 7
        let nextMonth =
          month == 12
          ? ISO8601.days(year: year + 1, month: 1, day: 1)
          : ISO8601.days(year: year, month: Int64(month + 1), day: 1)
        while day >= nextMonth { day -= 7 }
        return day
      }
    }
  }

  static func == (lhs: PosixRule, rhs: PosixRule) -> Bool {
    lhs.standard == rhs.standard && lhs.daylight == rhs.daylight
      && lhs.start?.0 == rhs.start?.0 && lhs.start?.1 == rhs.start?.1
      && lhs.end?.0 == rhs.end?.0 && lhs.end?.1 == rhs.end?.1
  }

  func hash(into hasher: inout Hasher) {
    hasher.combine(standard)
    hasher.combine(daylight)
  }

  init?(_ text: String) {
    var scalars = Array(text.unicodeScalars)[...]
    func name() -> Bool {
      if scalars.first == "<" {
        guard let close = scalars.firstIndex(of: ">") else { return false }
        scalars = scalars[(close + 1)...]
        return true
      }
      let count = scalars.prefix { $0.properties.isAlphabetic }.count
      guard count >= 3 else { return false }
      scalars = scalars.dropFirst(count)
      return true
    }
    /// `[+-]hh[:mm[:ss]]` in seconds.
    func duration(maxHours: Int) -> Int? {
      var sign = 1
      if scalars.first == "+" || scalars.first == "-" {
        if scalars.first == "-" { sign = -1 }
        scalars = scalars.dropFirst()
      }
      var parts: [Int] = []
      while parts.count < 3 {
        let digits = scalars.prefix { ("0"..."9").contains($0) }
        guard !digits.isEmpty, digits.count <= 3, let value = Int(String(String.UnicodeScalarView(digits)))
        else { return nil }
        parts.append(value)
        scalars = scalars.dropFirst(digits.count)
        guard scalars.first == ":" else { break }
        scalars = scalars.dropFirst()
      }
      guard parts[0] <= maxHours, parts.dropFirst().allSatisfy({ $0 < 60 }) else { return nil }
      let seconds = parts[0] * 3600 + (parts.count > 1 ? parts[1] * 60 : 0)
        + (parts.count > 2 ? parts[2] : 0)
      return sign * seconds
    }
    func number() -> Int? {
      let digits = scalars.prefix { ("0"..."9").contains($0) }
      guard !digits.isEmpty, digits.count <= 3 else { return nil }
      scalars = scalars.dropFirst(digits.count)
      return Int(String(String.UnicodeScalarView(digits)))
    }
    func dateRule() -> (DateRule, Int)? {
      let rule: DateRule
      if scalars.first == "J" {
        scalars = scalars.dropFirst()
        guard let n = number(), (1...365).contains(n) else { return nil }
        rule = .julian(n)
      } else if scalars.first == "M" {
        scalars = scalars.dropFirst()
        guard let month = number(), (1...12).contains(month), scalars.popFirst() == ".",
          let week = number(), (1...5).contains(week), scalars.popFirst() == ".",
          let weekday = number(), (0...6).contains(weekday)
        else { return nil }
        rule = .month(month, week, weekday)
      } else {
        guard let n = number(), (0...365).contains(n) else { return nil }
        rule = .zeroBased(n)
      }
      var time = 7200
      if scalars.first == "/" {
        scalars = scalars.dropFirst()
        guard let parsed = duration(maxHours: 167) else { return nil }
        time = parsed
      }
      return (rule, time)
    }
    guard name(), let west = duration(maxHours: 24) else { return nil }
    standard = -west
    if scalars.isEmpty {
      daylight = nil
      start = nil
      end = nil
      return
    }
    guard name() else { return nil }
    if scalars.isEmpty || scalars.first == "," {
      daylight = standard + 3600
    } else {
      guard let west = duration(maxHours: 24) else { return nil }
      daylight = -west
    }
    guard scalars.popFirst() == ",", let start = dateRule(), scalars.popFirst() == ",",
      let end = dateRule(), scalars.isEmpty
    else { return nil }
    self.start = start
    self.end = end
  }

  /// The offset at an instant under this rule.
  func offset(at instant: Int64) -> Int {
    guard let daylight, let start, let end else { return standard }
    // The switches of the instant's year (and its neighbours, for rules that cross a year's
    // end) as UTC instants: the start is given in standard time, the end in daylight time.
    let local = instant + Int64(standard)
    let year = ISO8601.civil(fromDays: local >= 0 ? local / 86_400 : (local - 86_399) / 86_400).0
    var inDaylight = false
    var latest = Int64.min
    for candidate in [year - 1, year, year + 1] {
      let on = start.0.day(in: candidate) * 86_400 + Int64(start.1) - Int64(standard)
      let off = end.0.day(in: candidate) * 86_400 + Int64(end.1) - Int64(daylight)
      // On a tie (daylight all year: an end at the next start) the later switch wins.
      for (switchAt, toDaylight) in [(on, true), (off, false)]
      where switchAt <= instant && switchAt >= latest {
        latest = switchAt
        inDaylight = toDaylight
      }
    }
    if latest == Int64.min {
      // No switch before the instant in these years: whatever held before the earliest one.
      inDaylight = false
    }
    return inDaylight ? daylight : standard
  }
}
