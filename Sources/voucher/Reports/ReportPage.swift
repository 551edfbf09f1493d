import FoundationEssentials
import VoucherKit
import VoucherRegistry

/// A report as one self-contained HTML page: the tables and the charts inline, no scripts, and a
/// content security policy that forbids every request, so the page works offline and leaks
/// nothing when opened. It prints one campaign per page.
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
      body { font-family: sans-serif; margin: 2em; color: #222; }
      h1 { font-size: 1.5em; }
      h2 { font-size: 1.2em; margin-top: 2em; }
      table { border-collapse: collapse; margin: 1em 0; }
      th, td { border-bottom: 1px solid #ccc; padding: 0.3em 0.7em; text-align: right; }
      th:first-child, td:first-child { text-align: left; }
      tr.total td { font-weight: bold; }
      p.note { color: #555; font-size: 0.9em; max-width: 60em; }
      svg { max-width: 100%; height: auto; }
      @media print {
        body { margin: 0; }
        section { page-break-after: always; break-after: page; }
        section:last-of-type { page-break-after: auto; break-after: auto; }
      }
      </style>
      </head>
      <body>
      <h1>Campaign report</h1>
      <p>Grouped by \(report.grouping.rawValue); events from \(ReportChart.escape(window)). \
      Generated \(ISO8601.format(generated)).</p>

      """
    for part in report.campaigns {
      out += "<section>\n<h2>\(ReportChart.escape(part.campaign.id.rawValue)): "
      out += "\(ReportChart.escape(part.campaign.title))</h2>\n"
      out += table(part, grouping: report.grouping)
      out += ReportChart.inline(part) + "\n</section>\n"
    }
    if report.campaigns.isEmpty { out += "<p>No campaigns.</p>\n" }
    out += """
      <p class="note">Redemption rate: net redemptions (not undone by a void) per issued code. \
      Claim rate: codes claimed online per issued code. Linked: share of redemptions linked to a \
      customer profile. Claimed → redeemed: codes redeemed after an online claim. Days are UTC; \
      stores and tills have no issued codes of their own.</p>
      </body>
      </html>\n
      """
    return out
  }

  static func table(_ part: CampaignReport, grouping: ReportGrouping) -> String {
    var out = "<table>\n<thead><tr>"
    for header in [
      grouping.rawValue, "issued", "claimed", "redeemed", "voided", "redemption rate",
      "claim rate", "linked", "claimed → redeemed",
    ] {
      out += "<th>\(header)</th>"
    }
    out += "</tr></thead>\n<tbody>\n"
    for (index, row) in ([("all", part.total)] + part.groups.map { ($0.name, $0.figures) })
      .enumerated()
    {
      let figures = row.1
      let dash = "–"
      var cells = [row.0, figures.issued.map(String.init) ?? dash]
      cells.append(figures.claimed.map(String.init) ?? dash)
      cells += [String(figures.redeemed), String(figures.voided)]
      cells.append(figures.redemptionRate.map(ReportText.percent) ?? dash)
      cells.append(figures.claimRate.map(ReportText.percent) ?? dash)
      cells.append(figures.linkedShare.map(ReportText.percent) ?? dash)
      cells.append(String(figures.claimedThenRedeemed))
      out += index == 0 ? "<tr class=\"total\">" : "<tr>"
      for cell in cells { out += "<td>\(ReportChart.escape(cell))</td>" }
      out += "</tr>\n"
    }
    out += "</tbody>\n</table>\n"
    return out
  }
}
