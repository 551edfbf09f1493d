import FoundationEssentials
import VoucherKit
import VoucherRegistry

/// A report drawn as SVG: per campaign, a line chart of redemptions per day with one series per
/// channel, and the funnel issued → claimed → redeemed. Plain SVG 1.1, no scripts, no fonts or
/// images from elsewhere.
enum ReportChart {
  static let width = 880
  static let chartHeight = 300
  static let funnelHeight = 150
  /// Series colours, distinct in colour and in grey (for print).
  static let palette = [
    "#1b6ca8", "#d1495b", "#2a9d8f", "#edae49", "#6a4c93", "#3d405b", "#8ab17d", "#e76f51",
  ]

  /// A standalone SVG document with every campaign's panels, one under the other.
  static func document(_ report: Report) -> String {
    var body = ""
    var y = 0
    for part in report.campaigns {
      body += "<g transform=\"translate(0,\(y))\">\n" + panels(part) + "</g>\n"
      y += chartHeight + funnelHeight + 40
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
      \(body)</svg>\n
      """
  }

  /// One campaign's panels as an inline `<svg>` element (for the HTML page).
  static func inline(_ part: CampaignReport) -> String {
    let height = chartHeight + funnelHeight + 40
    return """
      <svg role="img" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" \
      font-family="sans-serif" font-size="12">
      <title>\(escape(part.campaign.id.rawValue)): redemptions per day and funnel</title>
      \(panels(part, titled: false))</svg>
      """
  }

  /// The title (unless the page shows it already), the line chart and the funnel of one
  /// campaign, starting at y = 0.
  static func panels(_ part: CampaignReport, titled: Bool = true) -> String {
    let title = "\(part.campaign.id.rawValue): \(part.campaign.title)"
    var out =
      titled
      ? "<text x=\"10\" y=\"22\" font-size=\"16\" font-weight=\"bold\">\(escape(title))</text>\n"
      : ""
    out += lineChart(part, top: 30)
    out += funnel(part.total, top: 30 + chartHeight)
    return out
  }

  /// Redemptions per day, one polyline per channel.
  static func lineChart(_ part: CampaignReport, top: Int) -> String {
    let left = 60
    let right = width - 170
    let plotTop = top + 20
    let bottom = top + chartHeight - 40
    var out = "<g class=\"chart\">\n"
    out +=
      "<text x=\"\(left)\" y=\"\(top + 10)\" font-weight=\"bold\">Redemptions per day and channel (UTC)</text>\n"
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
    let peak = max(1, counts.joined().max() ?? 0)
    func x(_ index: Int) -> Int {
      days.count <= 1 ? (left + right) / 2 : left + (right - left) * index / (days.count - 1)
    }
    func y(_ value: Int) -> Int { bottom - (bottom - plotTop) * value / peak }
    // Axes and grid lines at 0, half and the peak.
    out +=
      "<line x1=\"\(left)\" y1=\"\(bottom)\" x2=\"\(right)\" y2=\"\(bottom)\" stroke=\"#333\"/>\n"
    out +=
      "<line x1=\"\(left)\" y1=\"\(plotTop)\" x2=\"\(left)\" y2=\"\(bottom)\" stroke=\"#333\"/>\n"
    for tick in Set([0, peak / 2, peak]).sorted() {
      out +=
        "<line x1=\"\(left)\" y1=\"\(y(tick))\" x2=\"\(right)\" y2=\"\(y(tick))\" stroke=\"#ddd\"/>\n"
      out +=
        "<text x=\"\(left - 6)\" y=\"\(y(tick) + 4)\" text-anchor=\"end\">\(tick)</text>\n"
    }
    if days.isEmpty {
      out +=
        "<text x=\"\((left + right) / 2)\" y=\"\((plotTop + bottom) / 2)\" text-anchor=\"middle\" fill=\"#666\">no redemptions in the window</text>\n"
    } else {
      let labelled = Set([0, days.count / 2, days.count - 1])
      for index in labelled.sorted() {
        out +=
          "<text x=\"\(x(index))\" y=\"\(bottom + 16)\" text-anchor=\"middle\">\(days[index])</text>\n"
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
        "<rect x=\"\(right + 20)\" y=\"\(legendY - 9)\" width=\"14\" height=\"4\" fill=\"\(colour)\"/>\n"
      out +=
        "<text x=\"\(right + 40)\" y=\"\(legendY)\">\(escape(name.rawValue)) (\(total))</text>\n"
      out += "</g>\n"
    }
    out += "</g>\n"
    return out
  }

  /// Issued → claimed → redeemed (net of voids), as bars scaled to the issued codes.
  static func funnel(_ figures: ReportFigures, top: Int) -> String {
    let left = 160
    let maxWidth = width - left - 200
    let stages: [(String, Int?)] = [
      ("issued", figures.issued), ("claimed online", figures.claimed),
      ("redeemed (net)", figures.netRedeemed),
    ]
    let scale = max(1, stages.compactMap(\.1).max() ?? 1)
    var out = "<g class=\"funnel\">\n"
    out +=
      "<text x=\"10\" y=\"\(top + 10)\" font-weight=\"bold\">Funnel: issued → claimed → redeemed</text>\n"
    for (index, stage) in stages.enumerated() {
      let y = top + 24 + index * 36
      let value = stage.1 ?? 0
      let barWidth = max(value > 0 ? 1 : 0, maxWidth * value / scale)
      var label = String(value)
      if let issued = figures.issued, issued > 0, index > 0 {
        label += " (" + ReportText.percent(Double(value) / Double(issued)) + ")"
      }
      out += "<text x=\"10\" y=\"\(y + 17)\">\(stage.0)</text>\n"
      out +=
        "<rect class=\"stage\" data-stage=\"\(stage.0)\" x=\"\(left)\" y=\"\(y)\" width=\"\(barWidth)\" height=\"24\" fill=\"\(palette[index])\"/>\n"
      out += "<text x=\"\(left + barWidth + 8)\" y=\"\(y + 17)\">\(label)</text>\n"
    }
    out += "</g>\n"
    return out
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
