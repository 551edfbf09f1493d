import FoundationEssentials
import VoucherKit
import VoucherRegistry

/// `voucher report`: issued, claimed, redeemed and voided codes per campaign and group, with
/// rates and the online-to-store funnel, as a table, CSV, JSON, an SVG chart or an HTML page.
enum ReportCommand {
  static let spec = CommandSpec(
    name: "voucher report",
    overview: """
      Report each campaign: codes issued, claimed online, redeemed and voided, redemption and \
      claim rates, the share of redemptions linked to a customer profile, and claimed codes later \
      redeemed; per channel, store, till, day, week or month. Days are counted in the zone of \
      --tz (or VOUCHER_TZ), else UTC.
      """,
    usage:
      "[--campaign <id>] [--by channel|store|terminal|day|week|month] [--matrix day|week|month] [--since <date>] [--until <date>] [--format table|csv|json|svg|html] [--output <file>] [--force]",
    options: [
      .value("campaign", "id", "Only this campaign (default: every campaign)."),
      .value(
        "by", "group",
        "channel (default), store, terminal (store/till, S12/T1), day, week (ISO, 2026-W49) or month (2026-12)."
      ),
      .value(
        "matrix", "period",
        "With --by channel, store or terminal and --format csv: a table of net redemptions, one row per group and one column per day, week or month."
      ),
      .value(
        "since", "date",
        "Only events from this day (YYYY-MM-DD, a local day with --tz) or moment (ISO 8601)."),
      .value("until", "date", "Only events up to the end of this day, or up to this moment."),
      .value(
        "format", "format",
        "table (default), csv, json, svg (charts) or html (one self-contained page)."),
      .value(
        "output", "file",
        "Write to this file (atomically; a device or FIFO directly) instead of standard output."),
      .flag("force", "Replace an existing output file."),
    ])

  enum Format: String, CaseIterable {
    case table, csv, json, svg, html
  }

  static func run(_ arguments: [String], _ context: Context) throws -> Int32 {
    guard let options = try parse(spec, arguments, context) else { return ExitStatus.success }
    _ = try options.positionals(0, "")
    let grouping = try options.choice("by", ReportGrouping.self) ?? .channel
    let format = try options.choice("format", Format.self) ?? .table
    let matrix = try options.choice("matrix", ReportPeriod.self)
    if matrix != nil {
      guard grouping.period == nil else {
        throw CommandError.usage("--matrix needs --by channel, store or terminal")
      }
      guard format == .csv else { throw CommandError.usage("--matrix needs --format csv") }
    }
    let (since, until) = try window(options, zone: context.zone)
    let book = try context.campaigns()
    let selected = try selectCampaigns(options, book)
    let output = try Output(
      path: options.value("output"), force: options.has("force"), console: context.console)
    do {
      var builder = ReportBuilder(
        campaigns: try selected.map { campaign in
          let counts = try context.home.issueLog(campaign.id).issuedCounts(until: until)
          return (campaign, campaign.channels.map { counts[$0] ?? 0 })
        }, grouping: grouping, since: since, until: until, zone: context.zone, matrix: matrix)
      if let registry = try context.registry.openIfPresent(campaigns: book) {
        defer { reportWarnings(registry, context) }
        try registry.addEvents(to: &builder)
      }
      let report = builder.finish()
      switch format {
      case .table: try output.write(ReportText.table(report))
      case .csv:
        try output.write(matrix == nil ? ReportText.csv(report) : ReportText.matrix(report))
      case .json: try output.write(try ReportText.json(report))
      case .svg: try output.write(ReportChart.document(report))
      case .html: try output.write(ReportPage.document(report, generated: context.now))
      }
      try output.commit(force: options.has("force"))
    } catch {
      output.discard()
      throw error
    }
    if let path = output.path {
      try context.console.print("wrote the \(format.rawValue) report to \(path)\n")
    }
    return ExitStatus.success
  }

  /// The campaigns a report or export covers: the one named, or every one.
  static func selectCampaigns(_ options: ParsedArguments, _ book: CampaignBook) throws
    -> [Campaign]
  {
    guard let text = options.value("campaign") else { return book.campaigns }
    guard let id = CampaignID(text) else {
      throw CommandError.usage("--campaign must be 1 to 32 of a-z, 0-9 and -")
    }
    guard let campaign = book.campaign(id) else { throw CampaignError.unknownCampaign(id) }
    return [campaign]
  }

  /// The window of `--since` and `--until`: a day (in `zone`), or a moment in ISO 8601.
  static func window(_ options: ParsedArguments, zone: ZoneRules = .utc) throws(CommandError)
    -> (Date?, Date?)
  {
    func date(_ name: String, endOfDay: Bool) throws(CommandError) -> Date? {
      guard let text = options.value(name) else { return nil }
      guard let date = ISO8601.parse(text, endOfDay: endOfDay) else {
        throw .usage(
          "--\(name) must be a date (YYYY-MM-DD) or an ISO 8601 moment, not '\(printable(text))'")
      }
      guard text.utf8.count == 10 else { return date }
      // A bare day is the zone's: it starts at local midnight and ends just before the next.
      return endOfDay
        ? localMidnight(date, zone).addingTimeInterval(-0.001) : localMidnight(date, zone)
    }
    let since = try date("since", endOfDay: false)
    let until = try date("until", endOfDay: true)
    if let since, let until, since > until {
      throw .usage("--since must not be after --until")
    }
    return (since, until)
  }

  /// The instant a zone's clocks show midnight of the UTC midnight `date` (of the same date).
  static func localMidnight(_ date: Date, _ zone: ZoneRules) -> Date {
    // The offset before midnight, then the one in force at the guess (they differ only when a
    // clock change falls near midnight).
    let guess = date.addingTimeInterval(-Double(zone.offset(at: date)))
    return date.addingTimeInterval(-Double(zone.offset(at: guess)))
  }
}
