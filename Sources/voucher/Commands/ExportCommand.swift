import FoundationEssentials
import VoucherKit
import VoucherRegistry

/// `voucher export`: one row per event, streamed, for a CRM or a spreadsheet.
enum ExportCommand {
  static let spec = CommandSpec(
    name: "voucher export",
    overview: """
      Export every event (redeemed, voided, claimed, blocked, unblocked), oldest first, one row \
      each: CSV safe to open in a spreadsheet, or JSON Lines that keep every field exactly. \
      Memory stays flat however many events there are.
      """,
    usage:
      "[--campaign <id>] [--since <date>] [--until <date>] [--format csv|jsonl] [--output <file>] [--force]",
    options: [
      .value("campaign", "id", "Only this campaign (default: every campaign)."),
      .value("since", "date", "Only events from this day (YYYY-MM-DD) or moment (ISO 8601)."),
      .value("until", "date", "Only events up to the end of this day, or up to this moment."),
      .value("format", "format", "csv (default) or jsonl."),
      .value("output", "file", "Write to this file (atomically) instead of standard output."),
      .flag("force", "Replace an existing output file."),
    ])

  enum Format: String, CaseIterable {
    case csv, jsonl
  }

  /// The columns, in order; JSON Lines use the same names.
  static let columns = [
    "event", "time", "campaign", "channel", "serial", "lastSerial", "code", "venue", "store",
    "terminal", "profile", "profileErased", "request", "reason", "id", "undoes",
  ]

  static func run(_ arguments: [String], _ context: Context) throws -> Int32 {
    guard let options = try parse(spec, arguments, context) else { return ExitStatus.success }
    _ = try options.positionals(0, "")
    let format = try options.choice("format", Format.self) ?? .csv
    let (since, until) = try ReportCommand.window(options)
    let book = try context.home.campaignStore.load()
    let selected = try ReportCommand.selectCampaigns(options, book)
    // Codes are printed again from their serials; without the key, the code column stays empty.
    let ring = try? KeyRing.load(from: context.home.keys)
    var issuers: [CampaignID: Issuer?] = [:]
    let first = since.map { Int64(($0.timeIntervalSince1970 * 1000).rounded(.up)) } ?? .min
    let last = until.map { Int64(($0.timeIntervalSince1970 * 1000).rounded(.down)) } ?? .max
    let output = try Output(
      path: options.value("output"), force: options.has("force"), console: context.console)
    var rows = 0
    do {
      if format == .csv { try output.write(CSV.line(columns)) }
      if Registry.exists(in: context.home) {
        let registry = try Registry.open(
          home: context.home, campaigns: book, create: false, lockTimeout: lockTimeout(context))
        defer { reportWarnings(registry, context) }
        let only =
          selected.count == 1 && selected.count < book.campaigns.count ? selected[0].id : nil
        try registry.forEachEvent(campaign: only) { event in
          guard event.time >= first, event.time <= last else { return }
          var code: String?
          if event.kind != .blocked && event.kind != .unblocked {
            let issuer =
              issuers[event.campaign.id]
              ?? {
                let made = ring.flatMap { try? Issuer(campaign: event.campaign, keyRing: $0) }
                issuers[event.campaign.id] = made
                return made
              }()
            code = issuer?.code(channel: event.channelIndex, serial: event.serial).description
          }
          switch format {
          case .csv: try output.write(csvRow(event, code: code))
          case .jsonl: try output.write(jsonRow(event, code: code))
          }
          rows += 1
        }
      }
      try output.commit(force: options.has("force"))
    } catch {
      output.discard()
      throw error
    }
    if let path = output.path {
      try context.console.print("wrote \(rows) events to \(path)\n")
    }
    return ExitStatus.success
  }

  static func csvRow(_ event: JournalEvent, code: String?) -> String {
    let isBlock = event.kind == .blocked || event.kind == .unblocked
    return CSV.line([
      event.kind.rawValue, ISO8601.format(event.date), event.campaign.id.rawValue,
      event.channel.rawValue, String(event.serial), isBlock ? String(event.lastSerial) : "",
      code ?? "", event.venue?.rawValue ?? "", event.store ?? "", event.terminal ?? "",
      event.profile ?? "", event.profileErased ? "true" : "", event.request ?? "",
      event.reason ?? "", String(event.offset), event.undoes.map { String($0) } ?? "",
    ])
  }

  static func jsonRow(_ event: JournalEvent, code: String?) -> String {
    let isBlock = event.kind == .blocked || event.kind == .unblocked
    var line = JSONWriter()
    // Every column is present; a field that does not apply is null.
    func text(_ name: StaticString, _ value: String?) {
      if let value { line.add(name, value) } else { line.add(raw: name, "null") }
    }
    func number(_ name: StaticString, _ value: Int?) {
      if let value { line.add(name, value) } else { line.add(raw: name, "null") }
    }
    text("event", event.kind.rawValue)
    text("time", ISO8601.format(event.date))
    text("campaign", event.campaign.id.rawValue)
    text("channel", event.channel.rawValue)
    number("serial", event.serial)
    number("lastSerial", isBlock ? event.lastSerial : nil)
    text("code", code)
    text("venue", event.venue?.rawValue)
    text("store", event.store)
    text("terminal", event.terminal)
    text("profile", event.profile)
    line.add("profileErased", event.profileErased)
    text("request", event.request)
    text("reason", event.reason)
    number("id", Int(event.offset))
    number("undoes", event.undoes.map { Int($0) })
    return line.line + "\n"
  }
}
