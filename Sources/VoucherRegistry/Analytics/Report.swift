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

/// Builds a report in one pass over the journal.
///
/// Memory holds one flag byte per code of each campaign with events (to know a code's claim when
/// it is redeemed) and one row per group and day, never the events themselves.
public struct ReportBuilder {
  private let grouping: ReportGrouping
  private let since: Int64
  private let until: Int64
  private var parts: [Part] = []
  private let partIndex: [CampaignID: Int]
  private var lastPart = 0

  /// Flags per code.
  private static let claimedFlag: UInt8 = 1
  private static let countedFlag: UInt8 = 2

  private struct Part {
    let campaign: Campaign
    var total: ReportFigures
    var channelGroups: [ReportFigures]
    var dayGroups: [Int64: ReportFigures] = [:]
    var namedGroups: [String: ReportFigures] = [:]
    var daily: [Int64: [Int]] = [:]
    var flags: [UInt8] = []
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
    partIndex = Dictionary(uniqueKeysWithValues: campaigns.enumerated().map { ($1.0.id, $0) })
  }

  /// Adds one event; `undone` is the redemption a void undid (see ``Registry/event(at:)``).
  public mutating func add(_ event: JournalEvent, undone: JournalEvent? = nil) {
    if lastPart >= parts.count || parts[lastPart].campaign != event.campaign {
      guard let found = partIndex[event.campaign.id] else { return }
      lastPart = found
    }
    Self.add(
      event, undone: undone, to: &parts[lastPart], grouping: grouping, window: since...until)
  }

  private static func add(
    _ event: JournalEvent, undone: JournalEvent?, to part: inout Part, grouping: ReportGrouping,
    window: ClosedRange<Int64>
  ) {
    let index = (event.serial - 1) + event.channelIndex * event.campaign.capacity
    switch event.kind {
    case .claimed:
      if part.flags.isEmpty { part.flags = [UInt8](repeating: 0, count: part.campaign.span) }
      part.flags[index] |= claimedFlag
      guard window.contains(event.time) else { return }
      part.total.claimed? += 1
      update(&part, event, grouping) { $0.claimed = ($0.claimed ?? 0) + 1 }
    case .redeemed:
      var firstAfterClaim = false
      if !part.flags.isEmpty,
        part.flags[index] & (claimedFlag | countedFlag) == claimedFlag
      {
        part.flags[index] |= countedFlag
        firstAfterClaim = true
      }
      guard window.contains(event.time) else { return }
      let linked = event.isLinked
      let count = { (figures: inout ReportFigures) in
        figures.redeemed += 1
        if linked { figures.linked += 1 }
        if firstAfterClaim { figures.claimedThenRedeemed += 1 }
      }
      count(&part.total)
      update(&part, event, grouping, count)
      let channels = part.campaign.channels.count
      part.daily[day(event.time), default: [Int](repeating: 0, count: channels)][
        event.channelIndex] += 1
    case .voided:
      // A void counts against the redemption it undid, in that redemption's window and group.
      guard let undone, undone.kind == .redeemed, window.contains(undone.time) else { return }
      part.total.voided += 1
      update(&part, undone, grouping) { $0.voided += 1 }
    case .blocked, .unblocked:
      return
    }
  }

  /// The report.
  public func finish() -> Report {
    let campaigns = parts.sorted { $0.campaign.id < $1.campaign.id }.map { part in
      let groups: [(name: String, figures: ReportFigures)]
      switch grouping {
      case .channel:
        groups = part.campaign.channels.indices.map {
          (part.campaign.channels[$0].rawValue, part.channelGroups[$0])
        }
      case .day:
        groups = part.dayGroups.sorted { $0.key < $1.key }.map { (Self.dayName($0.key), $0.value) }
      case .store, .terminal:
        groups = part.namedGroups.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
      }
      let daily = part.daily.sorted { $0.key < $1.key }.map { (Self.dayName($0.key), $0.value) }
      return CampaignReport(
        campaign: part.campaign, total: part.total, groups: groups, daily: daily)
    }
    return Report(
      grouping: grouping,
      since: since == .min ? nil : Date(timeIntervalSince1970: Double(since) / 1000),
      until: until == .max ? nil : Date(timeIntervalSince1970: Double(until) / 1000),
      campaigns: campaigns)
  }

  /// Applies `change` to the event's group.
  private static func update(
    _ part: inout Part, _ event: JournalEvent, _ grouping: ReportGrouping,
    _ change: (inout ReportFigures) -> Void
  ) {
    switch grouping {
    case .channel:
      change(&part.channelGroups[event.channelIndex])
    case .day:
      change(&part.dayGroups[day(event.time), default: ReportFigures(claimed: 0)])
    case .store:
      guard event.kind != .claimed else { return }
      change(&part.namedGroups[event.store ?? "online", default: ReportFigures()])
    case .terminal:
      guard event.kind != .claimed else { return }
      change(&part.namedGroups[event.terminal ?? "none", default: ReportFigures()])
    }
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
