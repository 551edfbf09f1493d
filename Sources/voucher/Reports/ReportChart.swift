import FoundationEssentials
import VoucherKit
import VoucherRegistry

/// A report drawn as SVG: per campaign, a line chart of redemptions per day with one series per
/// channel, a bar per store, till, week or month when grouped so, and the funnel issued →
/// claimed → claimed then redeemed of each channel with claims; before them, when the report
/// has several campaigns, their rates side by side. Plain SVG 1.1 on a white background, no
/// scripts, no fonts or images from elsewhere.
enum ReportChart {
  static let width = 880
  static let chartHeight = 300
  /// Bars drawn per chart at most; the rest of the stores or tills form one bar `other`.
  static let maxBars = 12
  /// Series colours, distinct in colour and in grey (for print).
  static let palette = [
    "#1b6ca8", "#d1495b", "#2a9d8f", "#edae49", "#6a4c93", "#3d405b", "#8ab17d", "#e76f51",
  ]

  /// A standalone SVG document: the campaigns compared (if several), then every campaign's
  /// panels, one under the other.
  static func document(_ report: Report) -> String {
    var body = ""
    var y = 0
    if report.campaigns.count > 1 {
      let compared = comparison(report.campaigns, top: 0)
      body += compared.svg
      y += compared.height + 20
    }
    for part in report.campaigns {
      let drawn = panels(part, report: report)
      body += "<g transform=\"translate(0,\(y))\">\n" + drawn.svg + "</g>\n"
      y += drawn.height + 20
    }
    if report.campaigns.isEmpty {
      body += "<text x=\"20\" y=\"30\">no campaigns</text>\n"
      y = 50
    }
    return """
      <?xml version="1.0" encoding="UTF-8"?>
      <svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="\(width)" height="\(y)" \
      viewBox="0 0 \(width) \(y)" font-family="sans-serif" font-size="12">
      <title>Campaign report</title>
      <rect class="background" x="0" y="0" width="\(width)" height="\(y)" fill="#fff"/>
      \(body)</svg>\n
      """
  }

  /// One campaign's panels as an inline `<svg>` element (for the HTML page).
  static func inline(_ part: CampaignReport, report: Report) -> String {
    let drawn = panels(part, report: report, titled: false)
    return element(
      drawn.svg, height: drawn.height, kind: "panels",
      title: "\(part.campaign.id.rawValue): redemptions per day, groups and funnel")
  }

  /// The campaigns' rates side by side as an inline `<svg>` element (for the HTML page), narrow
  /// enough to stand beside their table.
  static func inlineComparison(_ report: Report) -> String {
    let drawn = comparison(report.campaigns, top: 0, width: comparisonWidth)
    return element(
      drawn.svg, width: comparisonWidth, height: drawn.height,
      title: "The campaigns' rates side by side")
  }

  /// The width of the comparison chart on the HTML page.
  static let comparisonWidth = 440

  /// An inline `<svg>` that scales to its container, on a white background.
  static func element(
    _ body: String, width: Int = width, height: Int, kind: String = "compared", title: String
  ) -> String {
    """
    <svg class="\(kind)" role="img" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" \
    font-family="sans-serif" font-size="12">
    <title>\(escape(title))</title>
    <rect class="background" x="0" y="0" width="\(width)" height="\(height)" fill="#fff"/>
    \(body)</svg>
    """
  }

  /// The title (unless the page shows it already), the line chart, the group bars and the
  /// funnels of one campaign, starting at y = 0, with their height.
  static func panels(_ part: CampaignReport, report: Report, titled: Bool = true) -> (
    svg: String, height: Int
  ) {
    let title = "\(part.campaign.id.rawValue): \(part.campaign.title)"
    var out =
      titled
      ? "<text x=\"10\" y=\"22\" font-size=\"16\" font-weight=\"bold\">\(escape(title))</text>\n"
      : ""
    var y = titled ? 30 : 10
    out += lineChart(part, top: y, zone: report.zone)
    y += chartHeight
    if report.grouping != .channel && report.grouping != .day {
      let drawn = groupBars(part, grouping: report.grouping, top: y)
      out += drawn.svg
      y += drawn.height
    }
    let drawn = funnels(part, top: y)
    out += drawn.svg
    y += drawn.height
    return (out, y)
  }

  /// Redemptions per day, one polyline per channel.
  static func lineChart(_ part: CampaignReport, top: Int, zone: String) -> String {
    let left = 70
    let right = width - 170
    let plotTop = top + 24
    let bottom = top + chartHeight - 40
    var out = "<g class=\"chart\">\n"
    out +=
      "<text x=\"10\" y=\"\(top + 10)\" font-weight=\"bold\">Redemptions per day and channel (days in \(escape(zone)))</text>\n"
    // Every day from the first to the last, gaps included.
    var days: [String] = []
    var counts: [[Int]] = []
    if let first = part.daily.first.flatMap({ ISO8601.parse($0.day) }),
      let last = part.daily.last.flatMap({ ISO8601.parse($0.day) })
    {
      let byDay = Dictionary(uniqueKeysWithValues: part.daily.map { ($0.day, $0.redeemed) })
      var day = first
      while day <= last && days.count < 3_660 {
        let name = String(ISO8601.format(day).prefix(10))
        days.append(name)
        counts.append(byDay[name] ?? [Int](repeating: 0, count: part.campaign.channels.count))
        day = day.addingTimeInterval(86_400)
      }
    }
    let ticks = niceTicks(upTo: counts.joined().max() ?? 0)
    let peak = ticks.last!
    func x(_ index: Int) -> Int {
      days.count <= 1 ? (left + right) / 2 : left + (right - left) * index / (days.count - 1)
    }
    func y(_ value: Int) -> Int { bottom - (bottom - plotTop) * value / peak }
    // Grid lines at 1-2-5 steps, then the axes over them.
    for tick in ticks {
      out +=
        "<line class=\"grid\" x1=\"\(left)\" y1=\"\(y(tick))\" x2=\"\(right)\" y2=\"\(y(tick))\" stroke=\"#ddd\"/>\n"
      out +=
        "<text class=\"tick\" x=\"\(left - 6)\" y=\"\(y(tick) + 4)\" text-anchor=\"end\">\(thousands(tick))</text>\n"
    }
    out +=
      "<line x1=\"\(left)\" y1=\"\(bottom)\" x2=\"\(right)\" y2=\"\(bottom)\" stroke=\"#333\"/>\n"
    out +=
      "<line x1=\"\(left)\" y1=\"\(plotTop)\" x2=\"\(left)\" y2=\"\(bottom)\" stroke=\"#333\"/>\n"
    if days.isEmpty {
      out +=
        "<text x=\"\((left + right) / 2)\" y=\"\((plotTop + bottom) / 2)\" text-anchor=\"middle\" fill=\"#666\">no redemptions in the window</text>\n"
    } else {
      // At most six dates, evenly spread, the first and last among them.
      let labels = min(days.count, 6)
      let labelled = Set(
        (0..<labels).map { labels == 1 ? 0 : $0 * (days.count - 1) / (labels - 1) })
      for index in labelled.sorted() {
        out +=
          "<line x1=\"\(x(index))\" y1=\"\(bottom)\" x2=\"\(x(index))\" y2=\"\(bottom + 4)\" stroke=\"#333\"/>\n"
        out +=
          "<text x=\"\(x(index))\" y=\"\(bottom + 18)\" text-anchor=\"middle\">\(days[index])</text>\n"
      }
    }
    for (channel, name) in part.campaign.channels.enumerated() {
      let colour = palette[channel % palette.count]
      let dash = channel >= palette.count ? " stroke-dasharray=\"6 3\"" : ""
      out += "<g class=\"series\" data-channel=\"\(escape(name.rawValue))\">\n"
      if !days.isEmpty {
        let points = counts.indices.map { "\(x($0)),\(y(counts[$0][channel]))" }.joined(
          separator: " ")
        out +=
          "<polyline points=\"\(points)\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\"\(dash)/>\n"
        if days.count <= 62 {
          for index in counts.indices {
            out +=
              "<circle cx=\"\(x(index))\" cy=\"\(y(counts[index][channel]))\" r=\"2.5\" fill=\"\(colour)\"/>\n"
          }
        }
      }
      // The legend entry, with the channel's total.
      let total = counts.reduce(0) { $0 + $1[channel] }
      let legendY = plotTop + 18 * channel
      out +=
        "<rect x=\"\(right + 20)\" y=\"\(legendY - 7)\" width=\"14\" height=\"4\" fill=\"\(colour)\"/>\n"
      out +=
        "<text x=\"\(right + 40)\" y=\"\(legendY)\">\(escape(clip(name.rawValue, 14))) (\(thousands(total)))</text>\n"
      out += "</g>\n"
    }
    out += "</g>\n"
    return out
  }

  /// Net redemptions per store or till (most first, the rest as `other`), or per week or
  /// month (in order), as horizontal bars on a 1-2-5 axis.
  static func groupBars(_ part: CampaignReport, grouping: ReportGrouping, top: Int) -> (
    svg: String, height: Int
  ) {
    var bars = part.groups.map { (name: $0.name, value: $0.figures.netRedeemed) }
    var what: String
    switch grouping {
    case .store, .terminal:
      bars.sort { $0.value != $1.value ? $0.value > $1.value : $0.name < $1.name }
      if bars.count > maxBars {
        let rest = bars[(maxBars - 1)...]
        bars =
          Array(bars.prefix(maxBars - 1)) + [
            ("other (\(rest.count))", rest.reduce(0) { $0 + $1.value })
          ]
      }
      what = grouping == .store ? "store" : "till (store/till)"
    default:
      what = grouping.rawValue
    }
    let bar = 18
    let gap = 6
    let left = 170
    let right = width - 90
    let axisY = top + 40
    let ticks = niceTicks(upTo: bars.map(\.value).max() ?? 0)
    let peak = ticks.last!
    func x(_ value: Int) -> Int { left + (right - left) * max(0, value) / peak }
    var out = "<g class=\"groups\" data-by=\"\(grouping.rawValue)\">\n"
    out +=
      "<text x=\"10\" y=\"\(top + 16)\" font-weight=\"bold\">Net redemptions per \(what)</text>\n"
    let bottom = axisY + 8 + bars.count * (bar + gap)
    for tick in ticks {
      out +=
        "<line class=\"grid\" x1=\"\(x(tick))\" y1=\"\(axisY)\" x2=\"\(x(tick))\" y2=\"\(bottom)\" stroke=\"#ddd\"/>\n"
      out +=
        "<text class=\"tick\" x=\"\(x(tick))\" y=\"\(axisY - 6)\" text-anchor=\"middle\">\(thousands(tick))</text>\n"
    }
    if bars.isEmpty {
      out +=
        "<text x=\"\(left)\" y=\"\(axisY + 22)\" fill=\"#666\">no redemptions in the window</text>\n"
    }
    for (index, entry) in bars.enumerated() {
      let y = axisY + 8 + index * (bar + gap)
      out +=
        "<text x=\"\(left - 8)\" y=\"\(y + 13)\" text-anchor=\"end\">\(escape(clip(entry.name, 24)))</text>\n"
      out +=
        "<rect class=\"bar\" data-group=\"\(escape(entry.name))\" data-value=\"\(entry.value)\" x=\"\(left)\" y=\"\(y)\" width=\"\(x(entry.value) - left)\" height=\"\(bar)\" fill=\"\(palette[0])\"/>\n"
      out +=
        "<text x=\"\(x(entry.value) + 6)\" y=\"\(y + 13)\">\(thousands(entry.value))</text>\n"
    }
    out +=
      "<line x1=\"\(left)\" y1=\"\(axisY)\" x2=\"\(left)\" y2=\"\(bottom)\" stroke=\"#333\"/>\n"
    out += "</g>\n"
    return (out, bottom - top + (bars.isEmpty ? 30 : 16))
  }

  /// For each channel with claims: issued → claimed online → claimed then redeemed, as bars
  /// scaled to the channel's issued codes.
  static func funnels(_ part: CampaignReport, top: Int) -> (svg: String, height: Int) {
    let left = 200
    let maxWidth = width - left - 230
    var out = "<g class=\"funnel\">\n"
    out +=
      "<text x=\"10\" y=\"\(top + 16)\" font-weight=\"bold\">Funnel per channel with claims: issued → claimed online → claimed, then redeemed</text>\n"
    var y = top + 30
    let claimed = part.campaign.channels.indices.filter { (part.channels[$0].claimed ?? 0) > 0 }
    if claimed.isEmpty {
      out += "<text x=\"10\" y=\"\(y + 14)\" fill=\"#666\">no online claims in the window</text>\n"
      y += 24
    }
    for channel in claimed {
      let figures = part.channels[channel]
      let name = part.campaign.channels[channel].rawValue
      let issued = figures.issued ?? 0
      let stages: [(String, Int)] = [
        ("issued", issued), ("claimed online", figures.claimed ?? 0),
        ("claimed, then redeemed", figures.claimedThenRedeemed),
      ]
      let scale = max(1, stages.map(\.1).max() ?? 1)
      out += "<g class=\"channel-funnel\" data-channel=\"\(escape(name))\">\n"
      out +=
        "<text x=\"10\" y=\"\(y + 14)\" font-weight=\"bold\">\(escape(clip(name, 28)))</text>\n"
      y += 20
      for (index, stage) in stages.enumerated() {
        let barWidth = max(stage.1 > 0 ? 1 : 0, maxWidth * stage.1 / scale)
        var label = thousands(stage.1)
        if index > 0, issued > 0 {
          label += " (" + ReportText.percent(Double(stage.1) / Double(issued)) + " of issued"
          if index == 2, let rate = figures.claimedRedeemedRate {
            label += ", " + ReportText.percent(rate) + " of claimed"
          }
          label += ")"
        }
        out += "<text x=\"20\" y=\"\(y + 15)\">\(stage.0)</text>\n"
        out +=
          "<rect class=\"stage\" data-stage=\"\(stage.0)\" data-value=\"\(stage.1)\" x=\"\(left)\" y=\"\(y)\" width=\"\(barWidth)\" height=\"20\" fill=\"\(palette[index])\"/>\n"
        out += "<text x=\"\(left + barWidth + 8)\" y=\"\(y + 15)\">\(label)</text>\n"
        y += 26
      }
      out += "</g>\n"
      y += 8
    }
    out += "</g>\n"
    return (out, y - top + 10)
  }

  /// The campaigns' redemption, claim and claimed → redeemed rates as grouped bars.
  static func comparison(_ campaigns: [CampaignReport], top: Int, width: Int = width) -> (
    svg: String, height: Int
  ) {
    let rates: [(String, (ReportFigures) -> Double?)] = [
      ("redemption rate", \.redemptionRate), ("claim rate", \.claimRate),
      ("claimed → redeemed", \.claimedRedeemedRate),
    ]
    let left = 100
    let right = width - 60
    let axisY = top + 64
    let bar = 16
    let perCampaign = rates.count * bar + 14
    // A 1-2-5 axis in percent, up to the highest rate.
    let highest = campaigns.flatMap { part in rates.compactMap { $0.1(part.total) } }.max() ?? 0
    let ticks = niceTicks(upTo: Int((highest * 100).rounded(.up)))
    let peak = Double(ticks.last!)
    func x(_ percent: Double) -> Int { left + Int(Double(right - left) * percent / peak) }
    var out = "<g class=\"comparison\">\n"
    out +=
      "<text x=\"10\" y=\"\(top + 18)\" font-weight=\"bold\">The campaigns compared</text>\n"
    let bottom = axisY + 8 + campaigns.count * perCampaign
    for tick in ticks {
      out +=
        "<line class=\"grid\" x1=\"\(x(Double(tick)))\" y1=\"\(axisY)\" x2=\"\(x(Double(tick)))\" y2=\"\(bottom)\" stroke=\"#ddd\"/>\n"
      out +=
        "<text class=\"tick\" x=\"\(x(Double(tick)))\" y=\"\(axisY - 6)\" text-anchor=\"middle\">\(thousands(tick))%</text>\n"
    }
    // The legend in one row under the title.
    for (index, (name, _)) in rates.enumerated() {
      let x = 10 + [0, 124, 214][index]
      out +=
        "<rect x=\"\(x)\" y=\"\(top + 28)\" width=\"12\" height=\"12\" fill=\"\(palette[index])\"/>\n"
      out += "<text x=\"\(x + 16)\" y=\"\(top + 38)\">\(name)</text>\n"
    }
    for (row, part) in campaigns.enumerated() {
      let y = axisY + 8 + row * perCampaign
      out +=
        "<text x=\"\(left - 8)\" y=\"\(y + Int(Double(rates.count * bar) / 2) + 4)\" text-anchor=\"end\">\(escape(clip(part.campaign.id.rawValue, 16)))</text>\n"
      for (index, (name, rate)) in rates.enumerated() {
        let value = rate(part.total)
        let percent = (value ?? 0) * 100
        let barY = y + index * bar
        out +=
          "<rect class=\"rate\" data-campaign=\"\(escape(part.campaign.id.rawValue))\" data-rate=\"\(name)\" x=\"\(left)\" y=\"\(barY)\" width=\"\(x(percent) - left)\" height=\"\(bar - 2)\" fill=\"\(palette[index])\"/>\n"
        out +=
          "<text x=\"\(x(percent) + 4)\" y=\"\(barY + 11)\" font-size=\"11\">\(value.map(ReportText.percent) ?? "–")</text>\n"
      }
    }
    out +=
      "<line x1=\"\(left)\" y1=\"\(axisY)\" x2=\"\(left)\" y2=\"\(bottom)\" stroke=\"#333\"/>\n"
    out += "</g>\n"
    return (out, bottom - top + 16)
  }

  /// Axis ticks from 0 in steps of 1, 2 or 5 times a power of ten: at most about six, the
  /// last at or above `peak` (and at least 1).
  static func niceTicks(upTo peak: Int) -> [Int] {
    let top = max(1, peak)
    var step = 1
    var candidates = [1, 2, 5]
    while true {
      if let found = candidates.first(where: { (top + $0 - 1) / $0 <= 5 }) {
        step = found
        break
      }
      candidates = candidates.map { $0 * 10 }
    }
    let count = (top + step - 1) / step
    return (0...count).map { $0 * step }
  }

  /// `1234567` as `1,234,567`.
  static func thousands(_ value: Int) -> String {
    let digits = String(value.magnitude)
    var out = ""
    for (index, digit) in digits.enumerated() {
      if index > 0 && (digits.count - index) % 3 == 0 { out += "," }
      out.append(digit)
    }
    return (value < 0 ? "-" : "") + out
  }

  /// A label cut to `limit` characters, with an ellipsis when cut.
  static func clip(_ text: String, _ limit: Int) -> String {
    text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
  }

  /// Text made safe for XML content and attributes; characters XML 1.0 forbids are dropped.
  static func escape(_ text: String) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += "&#39;"
      default:
        let value = scalar.value
        let allowed =
          value == 0x9 || value == 0xA || value == 0xD || (0x20...0xD7FF).contains(value)
          || (0xE000...0xFFFD).contains(value) || value >= 0x10000
        if allowed { out.unicodeScalars.append(scalar) }
      }
    }
    return out
  }
}
