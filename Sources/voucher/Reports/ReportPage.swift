import FoundationEssentials
import VoucherKit
import VoucherRegistry

/// A report as one self-contained HTML page: the tables and the charts inline, no scripts, and a
/// content security policy that forbids every request, so the page works offline and leaks
/// nothing when opened. It prints one campaign per page, and reads on a phone: the charts scale
/// to the window and wide tables scroll sideways in their own box.
enum ReportPage {
  static func document(_ report: Report, generated: Date) -> String {
    let window =
      "\(report.since.map(ISO8601.format) ?? "the start") to \(report.until.map(ISO8601.format) ?? ISO8601.format(generated))"
    var out = """
      <!DOCTYPE html>
      <html lang="en">
      <head>
      <meta charset="utf-8">
      <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
      <meta name="viewport" content="width=device-width, initial-scale=1">
      <title>Campaign report</title>
      <style>
      body { font-family: sans-serif; margin: 2em; color: #222; background: #fff; }
      h1 { font-size: 1.5em; }
      h2 { font-size: 1.2em; margin-top: 2em; overflow-wrap: anywhere; }
      .scroll { overflow-x: auto; max-width: 100%; }
      table { border-collapse: collapse; margin: 1em 0; }
      th, td { border-bottom: 1px solid #ccc; padding: 0.3em 0.7em; text-align: right; \
      white-space: nowrap; }
      th:first-child, td:first-child { text-align: left; }
      tr.total td { font-weight: bold; }
      p.note { color: #555; font-size: 0.9em; max-width: 60em; }
      svg { display: block; max-width: 100%; height: auto; }
      .chart { overflow-x: auto; max-width: 100%; margin: 1em 0; }
      .side { display: flex; flex-wrap: wrap; gap: 1em 2em; align-items: flex-start; }
      .side > .scroll { flex: 0 1 auto; }
      .side > .chart { flex: 1 1 20em; max-width: 440px; margin: 0; }
      @media (max-width: 600px) {
        body { margin: 0.6em; font-size: 14px; }
        th, td { padding: 0.25em 0.4em; }
        /* Charts keep a readable size and scroll sideways, as wide tables do. */
        .chart svg.panels { width: 640px; max-width: none; }
      }
      @media print {
        body { margin: 0; }
        section { page-break-after: always; break-after: page; }
        section:last-of-type { page-break-after: auto; break-after: auto; }
      }
      </style>
      </head>
      <body>
      <h1>Campaign report</h1>
      <p>Grouped by \(report.grouping.rawValue); events from \(ReportChart.escape(window)); \
      days in \(ReportChart.escape(report.zone)). Generated \(ISO8601.format(generated)).</p>

      """
    if report.campaigns.count > 1 { out += comparison(report) }
    for part in report.campaigns {
      out += "<section>\n<h2>\(ReportChart.escape(part.campaign.id.rawValue)): "
      out += "\(ReportChart.escape(part.campaign.title))</h2>\n"
      out += table(part, grouping: report.grouping)
      out += "<div class=\"chart\">" + ReportChart.inline(part, report: report)
      out += "</div>\n</section>\n"
    }
    if report.campaigns.isEmpty { out += "<p>No campaigns.</p>\n" }
    out += """
      <p class="note">Redemption rate: net redemptions (not undone by a void) per issued code. \
      Claim rate: codes claimed online per issued code. Linked: share of redemptions linked to a \
      customer profile. Claimed → redeemed: codes redeemed after an online claim, and their share \
      of the codes claimed. Days are counted in \(ReportChart.escape(report.zone)); stores and \
      tills have no issued codes of their own; a till is named by its store (S12/T1).</p>
      </body>
      </html>\n
      """
    return out
  }

  /// The campaigns' key rates in one table, beside a chart of them.
  static func comparison(_ report: Report) -> String {
    let dash = "–"
    var out = "<section class=\"comparison\">\n<h2>The campaigns compared</h2>\n"
    out += "<div class=\"side\">\n<div class=\"scroll\"><table>\n<thead><tr>"
    for header in [
      "campaign", "issued", "redeemed (net)", "redemption rate", "claim rate",
      "claimed → redeemed", "linked",
    ] {
      out += "<th>\(header)</th>"
    }
    out += "</tr></thead>\n<tbody>\n"
    for part in report.campaigns {
      let figures = part.total
      let cells = [
        part.campaign.id.rawValue, figures.issued.map(ReportChart.thousands) ?? dash,
        ReportChart.thousands(figures.netRedeemed),
        figures.redemptionRate.map(ReportText.percent) ?? dash,
        figures.claimRate.map(ReportText.percent) ?? dash,
        figures.claimedRedeemedRate.map(ReportText.percent) ?? dash,
        figures.linkedShare.map(ReportText.percent) ?? dash,
      ]
      out += "<tr>" + cells.map { "<td>\(ReportChart.escape($0))</td>" }.joined() + "</tr>\n"
    }
    out += "</tbody>\n</table></div>\n<div class=\"chart\">" + ReportChart.inlineComparison(report)
    out += "</div>\n</div>\n</section>\n"
    return out
  }

  static func table(_ part: CampaignReport, grouping: ReportGrouping) -> String {
    var out = "<div class=\"scroll\"><table>\n<thead><tr>"
    for header in [
      grouping.rawValue, "issued", "claimed", "redeemed", "voided", "redemption rate",
      "claim rate", "linked", "claimed → redeemed", "of claimed",
    ] {
      out += "<th>\(header)</th>"
    }
    out += "</tr></thead>\n<tbody>\n"
    for (index, row) in ([("all", part.total)] + part.groups.map { ($0.name, $0.figures) })
      .enumerated()
    {
      let figures = row.1
      let dash = "–"
      var cells = [row.0, figures.issued.map(ReportChart.thousands) ?? dash]
      cells.append(figures.claimed.map(ReportChart.thousands) ?? dash)
      cells += [ReportChart.thousands(figures.redeemed), ReportChart.thousands(figures.voided)]
      cells.append(figures.redemptionRate.map(ReportText.percent) ?? dash)
      cells.append(figures.claimRate.map(ReportText.percent) ?? dash)
      cells.append(figures.linkedShare.map(ReportText.percent) ?? dash)
      cells.append(ReportChart.thousands(figures.claimedThenRedeemed))
      cells.append(figures.claimedRedeemedRate.map(ReportText.percent) ?? dash)
      out += index == 0 ? "<tr class=\"total\">" : "<tr>"
      for cell in cells { out += "<td>\(ReportChart.escape(cell))</td>" }
      out += "</tr>\n"
    }
    out += "</tbody>\n</table></div>\n"
    return out
  }
}
