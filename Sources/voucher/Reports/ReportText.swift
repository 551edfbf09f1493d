import FoundationEssentials
import VoucherKit
import VoucherRegistry

/// A report as a terminal table, CSV or JSON.
enum ReportText {
  /// The columns of the table and the CSV, after the campaign and group.
  static let figureNames = [
    "issued", "claimed", "redeemed", "voided", "netRedeemed", "linked", "claimedThenRedeemed",
    "redemptionRate", "claimRate", "linkedShare", "claimedRedeemedRate", "prizesWon",
  ]

  /// The figures' values as text, in ``figureNames`` order; empty where a figure does not apply.
  static func values(_ figures: ReportFigures) -> [String] {
    [
      figures.issued.map(String.init) ?? "", figures.claimed.map(String.init) ?? "",
      String(figures.redeemed), String(figures.voided), String(figures.netRedeemed),
      String(figures.linked), String(figures.claimedThenRedeemed),
      figures.redemptionRate.map { decimal($0, digits: 4) } ?? "",
      figures.claimRate.map { decimal($0, digits: 4) } ?? "",
      figures.linkedShare.map { decimal($0, digits: 4) } ?? "",
      figures.claimedRedeemedRate.map { decimal($0, digits: 4) } ?? "",
      String(figures.prizesWon),
    ]
  }

  /// Rows of campaign, group and figures: each campaign's total (group `all`), then its groups.
  static func rows(_ report: Report) -> [(
    campaign: CampaignReport, group: String, figures: ReportFigures
  )] {
    report.campaigns.flatMap { part in
      [(part, "all", part.total)] + part.groups.map { (part, $0.name, $0.figures) }
    }
  }

  static func csv(_ report: Report) -> String {
    var out = CSV.line(["campaign", report.grouping.rawValue] + figureNames)
    for row in rows(report) {
      out += CSV.line([row.campaign.campaign.id.rawValue, row.group], numbers: values(row.figures))
    }
    return out
  }

  /// The group × period table: one row per campaign and group, one column per period, each
  /// cell the net redemptions (voids counted on their redemption's day), then the row's total.
  static func matrix(_ report: Report) -> String {
    // Every campaign's matrix has the same periods, from the report's first redemption to its
    // last.
    let columns = report.campaigns.lazy.compactMap(\.matrix).first?.periods ?? []
    var out = CSV.line(["campaign", report.grouping.rawValue] + columns + ["total"])
    for part in report.campaigns {
      guard let matrix = part.matrix else { continue }
      for row in matrix.rows {
        out += CSV.line(
          [part.campaign.id.rawValue, row.name],
          numbers: row.cells.map(String.init) + [String(row.cells.reduce(0, +))])
      }
    }
    return out
  }

  static func table(_ report: Report) -> String {
    let headers = [
      report.grouping.rawValue, "issued", "claimed", "redeemed", "voided", "redemption", "claim",
      "linked", "claimed→redeemed",
    ]
    var out = ""
    if report.since != nil || report.until != nil {
      out +=
        "from \(report.since.map(ISO8601.format) ?? "the start") to \(report.until.map(ISO8601.format) ?? "now")\n"
    }
    out += "days in \(report.zone)\n\n"
    if report.campaigns.isEmpty { out += "no campaigns\n" }
    for part in report.campaigns {
      out += "campaign \(part.campaign.id): \(printable(part.campaign.title, limit: 60))\n"
      var lines: [[String]] = [headers]
      for (name, figures) in [("all", part.total)] + part.groups.map({ ($0.name, $0.figures) }) {
        lines.append([
          name, figures.issued.map(String.init) ?? "-", figures.claimed.map(String.init) ?? "-",
          String(figures.redeemed), String(figures.voided),
          figures.redemptionRate.map(percent) ?? "-", figures.claimRate.map(percent) ?? "-",
          figures.linkedShare.map(percent) ?? "-",
          String(figures.claimedThenRedeemed)
            + (figures.claimedRedeemedRate.map { " (" + percent($0) + ")" } ?? ""),
        ])
      }
      let widths = headers.indices.map { column in
        lines.map { $0[column].unicodeScalars.count }.max()!
      }
      for line in lines {
        var text = "  "
        for (column, cell) in line.enumerated() {
          let pad = String(repeating: " ", count: widths[column] - cell.unicodeScalars.count)
          // The group's name reads left-aligned, figures right-aligned.
          text += column == 0 ? cell + pad : "  " + pad + cell
        }
        out += text + "\n"
      }
      out += "\n"
    }
    out += """
      redemption: net redemptions per issued code; claim: claimed per issued code; linked: \
      redemptions linked to a profile; claimed→redeemed: codes redeemed after an online claim \
      (and their share of the claimed codes).\n
      """
    return out
  }

  /// The report as one JSON document.
  static func json(_ report: Report) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    let data = try encoder.encode(ShownReport(report))
    return String(decoding: data, as: UTF8.self) + "\n"
  }

  /// `0.4321` as `43.2%`.
  static func percent(_ value: Double) -> String { decimal(value * 100, digits: 1) + "%" }

  /// A number with a fixed count of decimals, without Foundation's formatters.
  static func decimal(_ value: Double, digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = Int64((abs(value) * scale).rounded())
    let whole = scaled / Int64(scale)
    var fraction = String(scaled % Int64(scale))
    fraction = String(repeating: "0", count: digits - fraction.count) + fraction
    return (value < 0 && scaled != 0 ? "-" : "") + String(whole)
      + (digits > 0 ? "." + fraction : "")
  }

  /// A rate rounded to four decimals, as JSON carries it.
  static func rounded(_ value: Double?) -> Double? {
    value.map { ($0 * 10_000).rounded() / 10_000 }
  }
}

/// The JSON shape of a report.
private struct ShownReport: Encodable {
  struct Figures: Encodable {
    let figures: ReportFigures

    enum CodingKeys: String, CodingKey {
      case issued, claimed, redeemed, voided, netRedeemed, linked, claimedThenRedeemed,
        redemptionRate, claimRate, linkedShare, claimedRedeemedRate, prizesWon
    }

    func encode(to encoder: any Encoder) throws {
      // Figures that do not apply are written as null, never left out.
      var container = encoder.container(keyedBy: CodingKeys.self)
      try container.encode(figures.issued, forKey: .issued)
      try container.encode(figures.claimed, forKey: .claimed)
      try container.encode(figures.redeemed, forKey: .redeemed)
      try container.encode(figures.voided, forKey: .voided)
      try container.encode(figures.netRedeemed, forKey: .netRedeemed)
      try container.encode(figures.linked, forKey: .linked)
      try container.encode(figures.claimedThenRedeemed, forKey: .claimedThenRedeemed)
      try container.encode(ReportText.rounded(figures.redemptionRate), forKey: .redemptionRate)
      try container.encode(ReportText.rounded(figures.claimRate), forKey: .claimRate)
      try container.encode(ReportText.rounded(figures.linkedShare), forKey: .linkedShare)
      try container.encode(
        ReportText.rounded(figures.claimedRedeemedRate), forKey: .claimedRedeemedRate)
      try container.encode(figures.prizesWon, forKey: .prizesWon)
    }
  }
  struct Group: Encodable {
    let group: String
    let figures: Figures
  }
  struct Day: Encodable {
    let day: String
    let redeemed: [String: Int]
  }
  struct Part: Encodable {
    let campaign: String
    let title: String
    let channels: [String]
    let total: Figures
    let groups: [Group]
    let daily: [Day]
  }
  let by: String
  let zone: String
  let since: String?
  let until: String?
  let campaigns: [Part]

  init(_ report: Report) {
    by = report.grouping.rawValue
    zone = report.zone
    since = report.since.map(ISO8601.format)
    until = report.until.map(ISO8601.format)
    campaigns = report.campaigns.map { part in
      let channels = part.campaign.channels.map(\.rawValue)
      return Part(
        campaign: part.campaign.id.rawValue, title: part.campaign.title, channels: channels,
        total: Figures(figures: part.total),
        groups: part.groups.map { Group(group: $0.name, figures: Figures(figures: $0.figures)) },
        daily: part.daily.map { day in
          Day(
            day: day.day,
            redeemed: Dictionary(uniqueKeysWithValues: zip(channels, day.redeemed)))
        })
    }
  }

  enum CodingKeys: String, CodingKey { case by, zone, since, until, campaigns }

  func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(by, forKey: .by)
    try container.encode(zone, forKey: .zone)
    try container.encode(since, forKey: .since)
    try container.encode(until, forKey: .until)
    try container.encode(campaigns, forKey: .campaigns)
  }
}
