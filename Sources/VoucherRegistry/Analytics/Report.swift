import FoundationEssentials
import VoucherKit

/// How a report groups each campaign's events.
public enum ReportGrouping: String, Sendable, Hashable, CaseIterable, Codable {
  /// By distribution channel (flyer, e-mail, receipt, ...).
  case channel
  /// By store; online redemptions form the group `online`.
  case store
  /// By day of the event, in the report's zone (`2026-12-01`).
  case day
  /// By till, keyed by store and till (`S12/T1`: `T1` in two stores are two tills); a
  /// redemption without a till is `S12/none`, one online without either is `online`.
  case terminal
  /// By ISO week of the event, in the report's zone (`2026-W49`).
  case week
  /// By month of the event, in the report's zone (`2026-12`).
  case month

  /// The calendar period of a grouping by time; `nil` for channel, store and till.
  public var period: ReportPeriod? {
    switch self {
    case .day: return .day
    case .week: return .week
    case .month: return .month
    case .channel, .store, .terminal: return nil
    }
  }
}

/// The figures of one campaign, or of one group of it.
///
/// Counts are of events in the report's window. Issued and the rates built on it exist only
/// where codes belong to the group (a campaign, a channel); a store or a day has no issued codes
/// of its own.
public struct ReportFigures: Sendable, Hashable, Codable {
  /// Codes issued (distinct serials, reprints counted once), up to the window's end.
  public var issued: Int?
  /// Codes claimed online (linked to a profile) in the window; `nil` for stores and tills, where
  /// no claim happens.
  public var claimed: Int?
  /// Redemptions in the window.
  public var redeemed = 0
  /// Of the claims in the window, how many won a scratch-card prize.
  public var prizesWon = 0
  /// Of those redemptions, how many were undone by a void (at any time since).
  public var voided = 0
  /// Of those redemptions, how many were linked to a customer profile.
  public var linked = 0
  /// Claimed codes redeemed after their claim: an online registration that led to a visit.
  /// Counted once per code, at its first redemption after the claim.
  public var claimedThenRedeemed = 0

  /// Redemptions not undone.
  public var netRedeemed: Int { redeemed - voided }
  /// Net redemptions per issued code: for single-use codes, the share of codes redeemed.
  public var redemptionRate: Double? {
    issued.flatMap { $0 > 0 ? Double(netRedeemed) / Double($0) : nil }
  }
  /// Claimed codes per issued code.
  public var claimRate: Double? {
    guard let issued, issued > 0, let claimed else { return nil }
    return Double(claimed) / Double(issued)
  }
  /// Claimed codes redeemed after their claim per claimed code (both in the window); `nil`
  /// where nothing was claimed.
  public var claimedRedeemedRate: Double? {
    guard let claimed, claimed > 0 else { return nil }
    return Double(claimedThenRedeemed) / Double(claimed)
  }
  /// The share of redemptions linked to a customer profile.
  public var linkedShare: Double? { redeemed > 0 ? Double(linked) / Double(redeemed) : nil }

  public init(issued: Int? = nil, claimed: Int? = nil) {
    self.issued = issued
    self.claimed = claimed
  }

  /// Adds another group's figures to these (all are sums); issued stays.
  mutating func add(_ other: ReportFigures) {
    if let more = other.claimed { claimed = (claimed ?? 0) + more }
    prizesWon += other.prizesWon
    redeemed += other.redeemed
    voided += other.voided
    linked += other.linked
    claimedThenRedeemed += other.claimedThenRedeemed
  }

  mutating func apply(_ change: ReportBuilder.Change) {
    switch change {
    case .claim(let prize):
      claimed = (claimed ?? 0) + 1
      if prize { prizesWon += 1 }
    case .redemption(let linked, let firstAfterClaim):
      redeemed += 1
      if linked { self.linked += 1 }
      if firstAfterClaim { claimedThenRedeemed += 1 }
    case .void:
      voided += 1
    }
  }
}

/// One campaign's part of a report.
public struct CampaignReport: Sendable, Hashable {
  /// The campaign.
  public let campaign: Campaign
  /// The whole campaign.
  public internal(set) var total: ReportFigures
  /// The groups with any figure, sorted by name.
  public internal(set) var groups: [(name: String, figures: ReportFigures)]
  /// Redemptions per day (in the report's zone, `YYYY-MM-DD`) per channel index, for the chart.
  public internal(set) var daily: [(day: String, redeemed: [Int])]
  /// The figures of each channel (by index), whatever the grouping: the funnel per channel.
  public internal(set) var channels: [ReportFigures]
  /// Net redemptions per group and period, when the report was asked for a matrix: the
  /// periods from the report's first redemption to its last, in any campaign (gaps included),
  /// and one row per group with a cell per period.
  public internal(set) var matrix: ReportMatrix?

  public static func == (a: CampaignReport, b: CampaignReport) -> Bool {
    a.campaign == b.campaign && a.total == b.total && a.groups.map(\.name) == b.groups.map(\.name)
      && a.groups.map(\.figures) == b.groups.map(\.figures)
      && a.daily.map(\.day) == b.daily.map(\.day)
      && a.daily.map(\.redeemed) == b.daily.map(\.redeemed) && a.channels == b.channels
      && a.matrix == b.matrix
  }
  public func hash(into hasher: inout Hasher) { hasher.combine(campaign.id) }
}

/// A campaign report: issued, claimed, redeemed and voided codes, rates and the online-to-store
/// funnel, per campaign and per group.
public struct Report: Sendable, Hashable {
  /// How the groups were formed.
  public let grouping: ReportGrouping
  /// The window's first moment, if any.
  public let since: Date?
  /// The window's last moment, if any.
  public let until: Date?
  /// One part per campaign, sorted by campaign id.
  public let campaigns: [CampaignReport]
  /// The zone whose days the report counts (`UTC`, `Europe/Amsterdam`).
  public let zone: String
  /// The period of the group × period matrix, if one was asked for.
  public let matrix: ReportPeriod?
}

/// Net redemptions (redeemed less voided) per group and period.
public struct ReportMatrix: Sendable, Hashable {
  /// The periods' names, oldest first (`2026-12-01`, `2026-W49`, `2026-12`).
  public let periods: [String]
  /// One row per group, in the report's group order, with one cell per period.
  public let rows: [Row]

  /// One group's cells.
  public struct Row: Sendable, Hashable {
    /// The group's name.
    public let name: String
    /// Net redemptions per period.
    public let cells: [Int]
  }
}

/// Builds a report in one pass over the journal (see ``Registry/addEvents(to:)``).
///
/// Memory holds one flag byte per code of each campaign with claims (to know a code's claim when
/// it is redeemed) and one row per group and day, never the events themselves.
public struct ReportBuilder {
  private let grouping: ReportGrouping
  private let zone: ZoneRules
  private let matrix: ReportPeriod?
  private let since: Int64
  private let until: Int64
  private var parts: [Part] = []
  /// Each part's code range, apart from the parts so that finding one touches no reference.
  private let ranges: [(slot: UInt8, base: Int, span: Int, capacity: Int)]
  private var current = 0
  /// Store or till names, numbered in order of appearance.
  private var names = Interner()
  /// The last day seen: days come in runs.
  private var lastDay: (start: Int64, end: Int64, day: Int64) = (1, 0, 0)

  /// Flags per code.
  private static let claimedFlag: UInt8 = 1
  private static let countedFlag: UInt8 = 2

  private struct Part {
    let campaign: Campaign
    var total: ReportFigures
    var channelGroups: [ReportFigures]
    /// Days with events, in order of first appearance, with each day's figures and redemptions
    /// per channel.
    var days: [Int64] = []
    var dayIndex: [Int64: Int] = [:]
    var lastDay = -1
    var dayFigures: [ReportFigures] = []
    var dayRedeemed: [[Int]] = []
    /// By interned name.
    var namedGroups: [ReportFigures?] = []
    /// Net redemptions per group (channel index or interned name) and day, for the matrix.
    var cells: [MatrixKey: Int] = [:]
    var flags: [UInt8] = []

    /// The index of a day's rows, made on first use.
    mutating func slot(of day: Int64) -> Int {
      if lastDay >= 0 && days[lastDay] == day { return lastDay }
      if let found = dayIndex[day] {
        lastDay = found
        return found
      }
      days.append(day)
      dayFigures.append(ReportFigures(claimed: 0))
      dayRedeemed.append([Int](repeating: 0, count: campaign.channels.count))
      lastDay = days.count - 1
      dayIndex[day] = lastDay
      return lastDay
    }
  }

  struct MatrixKey: Hashable {
    let group: Int
    let day: Int64
  }

  /// What a void needs to know of the redemption it undid.
  struct Undone {
    let time: Int64
    let store: String?
    let terminal: String?
  }

  /// Starts a report.
  ///
  /// - Parameters:
  ///   - campaigns: The campaigns to report, each with its issued codes per channel index.
  ///   - grouping: How to group each campaign's events.
  ///   - since: The window's first moment.
  ///   - until: The window's last moment.
  ///   - zone: The zone whose calendar days count (UTC unless given).
  ///   - matrix: Also count net redemptions per group and this period (for channel, store and
  ///     till groupings).
  public init(
    campaigns: [(Campaign, issued: [Int])], grouping: ReportGrouping, since: Date?, until: Date?,
    zone: ZoneRules = .utc, matrix: ReportPeriod? = nil
  ) {
    self.grouping = grouping
    self.zone = zone
    self.matrix = grouping.period == nil ? matrix : nil
    self.since = since.map { Int64(($0.timeIntervalSince1970 * 1000).rounded(.up)) } ?? .min
    self.until = until.map { Int64(($0.timeIntervalSince1970 * 1000).rounded(.down)) } ?? .max
    parts = campaigns.map { campaign, issued in
      Part(
        campaign: campaign, total: ReportFigures(issued: issued.reduce(0, +), claimed: 0),
        channelGroups: campaign.channels.indices.map {
          ReportFigures(issued: issued[$0], claimed: 0)
        })
    }
    ranges = campaigns.map { ($0.0.slot.rawValue, $0.0.base, $0.0.span, $0.0.capacity) }
  }

  /// Finds the part of a code, and its channel and serial; `nil` for a campaign not reported.
  private mutating func locate(slot: UInt8, payload: UInt32) -> (channel: Int, index: Int)? {
    let value = Int(payload)
    guard !ranges.isEmpty else { return nil }
    var range = ranges[current]
    if range.slot != slot || value < range.base || value >= range.base + range.span {
      guard
        let found = ranges.firstIndex(where: {
          $0.slot == slot && value >= $0.base && value < $0.base + $0.span
        })
      else {
        return nil
      }
      current = found
      range = ranges[found]
    }
    let index = value - range.base
    return (index / range.capacity, index)
  }

  /// Whether a code belongs to a campaign of this report.
  func reports(slot: UInt8, payload: UInt32) -> Bool {
    let value = Int(payload)
    return ranges.contains { $0.slot == slot && value >= $0.base && value < $0.base + $0.span }
  }

  /// Adds one record.
  mutating func add(_ record: RawRecord, undone: Undone?) {
    guard record.type <= 3 else { return }
    add(
      type: record.type, slot: record.slot, payload: record.payload, time: record.time,
      linked: !record.profile.isEmpty, store: record.store, terminal: record.terminal,
      undone: undone, prize: !record.prize.isEmpty)
  }

  /// Adds one code event of another store (a database row). A void names what the report needs
  /// of the redemption it undid: its time, store and till.
  package mutating func add(
    _ event: JournalEvent, undoneTime: Int64?, undoneStore: String?, undoneTerminal: String?
  ) {
    guard let code = event.code else { return }
    let type: UInt8 =
      switch event.kind {
      case .redeemed: 1
      case .voided: 2
      default: 3
      }
    let undone = undoneTime.map { Undone(time: $0, store: undoneStore, terminal: undoneTerminal) }
    var store = event.store ?? ""
    var terminal = event.terminal ?? ""
    store.withUTF8 { store in
      terminal.withUTF8 { terminal in
        add(
          type: type, slot: code.slot, payload: code.payload, time: event.time,
          linked: event.isLinked, store: UnsafeRawBufferPointer(store),
          terminal: UnsafeRawBufferPointer(terminal), undone: undone, prize: event.prize != nil)
      }
    }
  }

  /// Adds one code event (1 redemption, 2 void, 3 claim).
  private mutating func add(
    type: UInt8, slot: UInt8, payload: UInt32, time: Int64, linked: Bool,
    store: UnsafeRawBufferPointer, terminal: UnsafeRawBufferPointer, undone: Undone?,
    prize: Bool = false
  ) {
    guard let (channel, index) = locate(slot: slot, payload: payload) else { return }
    let inWindow = time >= since && time <= until
    switch type {
    case 3:
      if parts[current].flags.isEmpty {
        parts[current].flags = [UInt8](repeating: 0, count: ranges[current].span)
      }
      parts[current].flags[index] |= Self.claimedFlag
      guard inWindow else { return }
      parts[current].total.apply(.claim(prize: prize))
      update(time: time, channel: channel, store: nil, terminal: nil, .claim(prize: prize))
    case 1:
      var firstAfterClaim = false
      if !parts[current].flags.isEmpty,
        parts[current].flags[index] & (Self.claimedFlag | Self.countedFlag) == Self.claimedFlag
      {
        parts[current].flags[index] |= Self.countedFlag
        firstAfterClaim = true
      }
      guard inWindow else { return }
      let change = Change.redemption(linked: linked, firstAfterClaim: firstAfterClaim)
      parts[current].total.apply(change)
      let needsNames = grouping == .store || grouping == .terminal
      update(
        time: time, channel: channel, store: needsNames ? store : nil,
        terminal: needsNames ? terminal : nil, change)
      let day = day(of: time)
      let slot = parts[current].slot(of: day)
      parts[current].dayRedeemed[slot][channel] += 1
    default:
      // A void counts against the redemption it undid, in that redemption's window and group.
      guard let undone, undone.time >= since, undone.time <= until else { return }
      parts[current].total.apply(.void)
      var store = undone.store ?? ""
      var terminal = undone.terminal ?? ""
      store.withUTF8 { store in
        terminal.withUTF8 { terminal in
          update(
            time: undone.time, channel: channel, store: UnsafeRawBufferPointer(store),
            terminal: UnsafeRawBufferPointer(terminal), .void)
        }
      }
    }
  }

  /// The report.
  public func finish() -> Report {
    // One span of matrix periods for every campaign, so that their rows share the columns.
    let cellDays = parts.flatMap { $0.cells.keys.map(\.day) }
    let span = cellDays.min().flatMap { first in cellDays.max().map { (first, $0) } }
    let campaigns = parts.sorted { $0.campaign.id < $1.campaign.id }.map { part in
      let order = part.days.indices.sorted { part.days[$0] < part.days[$1] }
      let groups: [(name: String, figures: ReportFigures)]
      // Group ids in the order their rows are shown, for the matrix.
      var ids: [(name: String, id: Int)] = []
      switch grouping {
      case .channel:
        groups = part.campaign.channels.indices.map {
          (part.campaign.channels[$0].rawValue, part.channelGroups[$0])
        }
        ids = part.campaign.channels.indices.map { (part.campaign.channels[$0].rawValue, $0) }
      case .day, .week, .month:
        // Figures are sums, so a week or month is the sum of its days.
        let period = grouping.period!
        var periods: [(start: Int64, figures: ReportFigures)] = []
        for index in order {
          let start = period.start(of: part.days[index])
          if periods.last?.start != start { periods.append((start, ReportFigures(claimed: 0))) }
          periods[periods.count - 1].figures.add(part.dayFigures[index])
        }
        groups = periods.map { (period.name(of: $0.start), $0.figures) }
      case .store, .terminal:
        ids = part.namedGroups.indices.compactMap { id in
          part.namedGroups[id] == nil ? nil : (names.names[id], id)
        }.sorted { Self.naturalOrder($0.name, $1.name) }
        groups = ids.map { ($0.name, part.namedGroups[$0.id]!) }
      }
      // Days with claims or voids only have no redemptions to chart.
      let daily = order.filter { part.dayRedeemed[$0].contains { $0 > 0 } }.map {
        (Self.dayName(part.days[$0]), part.dayRedeemed[$0])
      }
      return CampaignReport(
        campaign: part.campaign, total: part.total, groups: groups, daily: daily,
        channels: part.channelGroups,
        matrix: matrix.map { Self.matrix(part.cells, rows: ids, period: $0, span: span) })
    }
    return Report(
      grouping: grouping,
      since: since == .min ? nil : Date(timeIntervalSince1970: Double(since) / 1000),
      until: until == .max ? nil : Date(timeIntervalSince1970: Double(until) / 1000),
      campaigns: campaigns, zone: zone.name, matrix: matrix)
  }

  /// The matrix of net redemptions per group and period, every period of the days in `span`
  /// (at most about ten years of days).
  static func matrix(
    _ cells: [MatrixKey: Int], rows: [(name: String, id: Int)], period: ReportPeriod,
    span: (first: Int64, last: Int64)?
  ) -> ReportMatrix {
    var sums: [Int: [Int64: Int]] = [:]
    for (key, count) in cells {
      sums[key.group, default: [:]][period.start(of: key.day), default: 0] += count
    }
    var periods: [Int64] = []
    if let span {
      var start = period.start(of: span.first)
      let last = period.start(of: span.last)
      while start <= last && periods.count < 3_660 {
        periods.append(start)
        // The next period starts within 31 days; find its first day.
        var next = start + 1
        while period.start(of: next) == start { next += 1 }
        start = next
      }
    }
    return ReportMatrix(
      periods: periods.map(period.name(of:)),
      rows: rows.compactMap { row in
        guard let counts = sums[row.id] else { return nil }
        return ReportMatrix.Row(name: row.name, cells: periods.map { counts[$0] ?? 0 })
      })
  }

  /// What an event changes in its groups' figures.
  enum Change {
    case claim(prize: Bool)
    case redemption(linked: Bool, firstAfterClaim: Bool)
    case void
  }

  /// Applies `change` to the group of an event of the current campaign.
  private mutating func update(
    time: Int64, channel: Int, store: UnsafeRawBufferPointer?, terminal: UnsafeRawBufferPointer?,
    _ change: Change
  ) {
    // Each channel's figures are kept whatever the grouping: the funnel is drawn per channel.
    parts[current].channelGroups[channel].apply(change)
    var group = channel
    switch grouping {
    case .channel:
      break
    case .day, .week, .month:
      let slot = parts[current].slot(of: day(of: time))
      parts[current].dayFigures[slot].apply(change)
    case .store, .terminal:
      // Claims happen online, at no store or till.
      if case .claim = change { return }
      let store = store ?? .empty
      let terminal = terminal ?? .empty
      let id: Int
      if grouping == .store {
        id = store.isEmpty ? names.id(of: "online") : names.id(of: store)
      } else if store.isEmpty && terminal.isEmpty {
        id = names.id(of: "online")
      } else {
        // A till is known by its store: T1 in S1 and T1 in S2 are two tills.
        var key = store.isEmpty ? Array("online".utf8) : Array(store)
        key.append(0x2F)
        key += terminal.isEmpty ? Array("none".utf8) : Array(terminal)
        id = key.withUnsafeBytes { names.id(of: $0) }
      }
      if parts[current].namedGroups.count <= id {
        parts[current].namedGroups += [ReportFigures?](
          repeating: nil, count: id + 1 - parts[current].namedGroups.count)
      }
      var figures = parts[current].namedGroups[id] ?? ReportFigures()
      figures.apply(change)
      parts[current].namedGroups[id] = figures
      group = id
    }
    if matrix != nil {
      let net: Int
      switch change {
      case .claim: return
      case .redemption: net = 1
      case .void: net = -1
      }
      parts[current].cells[MatrixKey(group: group, day: day(of: time)), default: 0] += net
    }
  }

  /// Days since 1970 in the report's zone of a time in milliseconds, remembering the last day.
  private mutating func day(of milliseconds: Int64) -> Int64 {
    if milliseconds >= lastDay.start && milliseconds <= lastDay.end { return lastDay.day }
    let seconds = Self.floorDivide(milliseconds, 1000)
    let offset = Int64(zone.offset(at: seconds))
    let day = Self.floorDivide(seconds + offset, 86_400)
    let start = (day * 86_400 - offset) * 1000
    let end = start + 86_399_999
    // A day whose offset changes (a daylight saving switch) is looked up per event.
    if Int64(zone.offset(at: start / 1000)) == offset
      && Int64(zone.offset(at: Self.floorDivide(end, 1000))) == offset
    {
      lastDay = (start, end, day)
    } else {
      lastDay = (1, 0, 0)
    }
    return day
  }

  /// `value / divisor` rounded towards minus infinity.
  static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
    value >= 0 ? value / divisor : (value + 1) / divisor - 1
  }

  /// Whether `a` sorts before `b` with runs of digits compared as numbers (`S2` before `S10`),
  /// then bytewise.
  static func naturalOrder(_ a: String, _ b: String) -> Bool {
    var left = Array(a.utf8)[...]
    var right = Array(b.utf8)[...]
    func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
    while let x = left.first, let y = right.first {
      if isDigit(x) && isDigit(y) {
        let l = left.prefix(while: isDigit)
        let r = right.prefix(while: isDigit)
        let lt = l.drop(while: { $0 == 0x30 })
        let rt = r.drop(while: { $0 == 0x30 })
        if lt.count != rt.count { return lt.count < rt.count }
        if !lt.elementsEqual(rt) { return lt.lexicographicallyPrecedes(rt) }
        left = left.dropFirst(l.count)
        right = right.dropFirst(r.count)
      } else {
        if x != y { return x < y }
        left = left.dropFirst()
        right = right.dropFirst()
      }
    }
    // A prefix first; equal apart from leading zeros (`S01`, `S1`): bytewise.
    if left.isEmpty != right.isEmpty { return left.isEmpty }
    return a < b
  }

  /// `YYYY-MM-DD` of a day since 1970.
  static func dayName(_ day: Int64) -> String { ReportPeriod.day.name(of: day) }
}

/// Numbers byte strings in order of appearance, without making a `String` of one seen before.
struct Interner {
  private(set) var names: [String] = []
  private var bytes: [[UInt8]] = []
  /// Open addressing: slot → id + 1 (0: empty).
  private var slots = [Int](repeating: 0, count: 64)

  mutating func id(of text: String) -> Int {
    var text = text
    return text.withUTF8 { id(of: UnsafeRawBufferPointer($0)) }
  }

  mutating func id(of text: UnsafeRawBufferPointer) -> Int {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in text { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
    var slot = Int(hash & UInt64(slots.count - 1))
    while slots[slot] != 0 {
      let id = slots[slot] - 1
      if bytes[id].elementsEqual(text) { return id }
      slot = (slot + 1) & (slots.count - 1)
    }
    let id = names.count
    names.append(String(decoding: text, as: UTF8.self))
    bytes.append(Array(text))
    slots[slot] = id + 1
    if names.count * 2 > slots.count { grow() }
    return id
  }

  private mutating func grow() {
    slots = [Int](repeating: 0, count: slots.count * 2)
    for (id, name) in bytes.enumerated() {
      var hash: UInt64 = 0xCBF2_9CE4_8422_2325
      for byte in name { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
      var slot = Int(hash & UInt64(slots.count - 1))
      while slots[slot] != 0 { slot = (slot + 1) & (slots.count - 1) }
      slots[slot] = id + 1
    }
  }
}
