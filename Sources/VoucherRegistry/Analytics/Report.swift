import FoundationEssentials
import VoucherKit

/// How a report groups each campaign's events.
public enum ReportGrouping: String, Sendable, Hashable, CaseIterable, Codable {
  /// By distribution channel (flyer, e-mail, receipt, ...).
  case channel
  /// By store; online redemptions form the group `online`.
  case store
  /// By day (UTC) of the event.
  case day
  /// By till; redemptions without one form the group `none`.
  case terminal
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
  /// The share of redemptions linked to a customer profile.
  public var linkedShare: Double? { redeemed > 0 ? Double(linked) / Double(redeemed) : nil }

  public init(issued: Int? = nil, claimed: Int? = nil) {
    self.issued = issued
    self.claimed = claimed
  }

  mutating func apply(_ change: ReportBuilder.Change) {
    switch change {
    case .claim:
      claimed = (claimed ?? 0) + 1
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
  /// Redemptions per day (UTC, `YYYY-MM-DD`) per channel index, for the chart.
  public internal(set) var daily: [(day: String, redeemed: [Int])]

  public static func == (a: CampaignReport, b: CampaignReport) -> Bool {
    a.campaign == b.campaign && a.total == b.total && a.groups.map(\.name) == b.groups.map(\.name)
      && a.groups.map(\.figures) == b.groups.map(\.figures)
      && a.daily.map(\.day) == b.daily.map(\.day)
      && a.daily.map(\.redeemed) == b.daily.map(\.redeemed)
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
}

/// Builds a report in one pass over the journal (see ``Registry/addEvents(to:)``).
///
/// Memory holds one flag byte per code of each campaign with claims (to know a code's claim when
/// it is redeemed) and one row per group and day, never the events themselves.
public struct ReportBuilder {
  private let grouping: ReportGrouping
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
  public init(
    campaigns: [(Campaign, issued: [Int])], grouping: ReportGrouping, since: Date?, until: Date?
  ) {
    self.grouping = grouping
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
      undone: undone)
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
          terminal: UnsafeRawBufferPointer(terminal), undone: undone)
      }
    }
  }

  /// Adds one code event (1 redemption, 2 void, 3 claim).
  private mutating func add(
    type: UInt8, slot: UInt8, payload: UInt32, time: Int64, linked: Bool,
    store: UnsafeRawBufferPointer, terminal: UnsafeRawBufferPointer, undone: Undone?
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
      parts[current].total.apply(.claim)
      update(time: time, channel: channel, store: nil, terminal: nil, .claim)
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
    let campaigns = parts.sorted { $0.campaign.id < $1.campaign.id }.map { part in
      let order = part.days.indices.sorted { part.days[$0] < part.days[$1] }
      let groups: [(name: String, figures: ReportFigures)]
      switch grouping {
      case .channel:
        groups = part.campaign.channels.indices.map {
          (part.campaign.channels[$0].rawValue, part.channelGroups[$0])
        }
      case .day:
        groups = order.map { (Self.dayName(part.days[$0]), part.dayFigures[$0]) }
      case .store, .terminal:
        groups = part.namedGroups.indices.compactMap { id in
          part.namedGroups[id].map { (names.names[id], $0) }
        }.sorted { $0.0 < $1.0 }
      }
      // Days with claims or voids only have no redemptions to chart.
      let daily = order.filter { part.dayRedeemed[$0].contains { $0 > 0 } }.map {
        (Self.dayName(part.days[$0]), part.dayRedeemed[$0])
      }
      return CampaignReport(
        campaign: part.campaign, total: part.total, groups: groups, daily: daily)
    }
    return Report(
      grouping: grouping,
      since: since == .min ? nil : Date(timeIntervalSince1970: Double(since) / 1000),
      until: until == .max ? nil : Date(timeIntervalSince1970: Double(until) / 1000),
      campaigns: campaigns)
  }

  /// What an event changes in its groups' figures.
  enum Change {
    case claim
    case redemption(linked: Bool, firstAfterClaim: Bool)
    case void
  }

  /// Applies `change` to the group of an event of the current campaign.
  private mutating func update(
    time: Int64, channel: Int, store: UnsafeRawBufferPointer?, terminal: UnsafeRawBufferPointer?,
    _ change: Change
  ) {
    switch grouping {
    case .channel:
      parts[current].channelGroups[channel].apply(change)
    case .day:
      let slot = parts[current].slot(of: day(of: time))
      parts[current].dayFigures[slot].apply(change)
    case .store, .terminal:
      // Claims happen online, at no store or till.
      if case .claim = change { return }
      let bytes = (grouping == .store ? store : terminal) ?? .empty
      let id =
        bytes.isEmpty
        ? names.id(of: grouping == .store ? "online" : "none") : names.id(of: bytes)
      if parts[current].namedGroups.count <= id {
        parts[current].namedGroups += [ReportFigures?](
          repeating: nil, count: id + 1 - parts[current].namedGroups.count)
      }
      var figures = parts[current].namedGroups[id] ?? ReportFigures()
      figures.apply(change)
      parts[current].namedGroups[id] = figures
    }
  }

  /// Days since 1970 (UTC) of a time in milliseconds, remembering the last day.
  private mutating func day(of milliseconds: Int64) -> Int64 {
    if milliseconds >= lastDay.start && milliseconds <= lastDay.end { return lastDay.day }
    let day = Self.day(milliseconds)
    lastDay = (day * 86_400_000, day * 86_400_000 + 86_399_999, day)
    return day
  }

  /// Days since 1970 (UTC) of a time in milliseconds.
  static func day(_ milliseconds: Int64) -> Int64 {
    milliseconds >= 0 ? milliseconds / 86_400_000 : (milliseconds + 1) / 86_400_000 - 1
  }

  /// `YYYY-MM-DD` of a day since 1970.
  static func dayName(_ day: Int64) -> String {
    String(ISO8601.format(Date(timeIntervalSince1970: Double(day) * 86_400)).prefix(10))
  }
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
