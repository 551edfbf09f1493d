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
      Memory stays flat however many events there are. Each code is printed again, so the key \
      of every campaign exported is needed.
      """,
    usage:
      "[--campaign <id>] [--since <date>] [--until <date>] [--format csv|jsonl] [--output <file>] [--force]",
    options: [
      .value("campaign", "id", "Only this campaign (default: every campaign)."),
      .value("since", "date", "Only events from this day (YYYY-MM-DD) or moment (ISO 8601)."),
      .value("until", "date", "Only events up to the end of this day, or up to this moment."),
      .value("format", "format", "csv (default) or jsonl."),
      .value(
        "output", "file",
        "Write to this file (atomically; a device or FIFO directly) instead of standard output."),
      .flag("force", "Replace an existing output file."),
    ])

  enum Format: String, CaseIterable {
    case csv, jsonl
  }

  /// The columns, in order; JSON Lines use the same names.
  static let columns = [
    "event", "time", "campaign", "channel", "serial", "lastSerial", "code", "venue", "store",
    "terminal", "profile", "profileErased", "request", "reason", "id", "undoes", "prize",
  ]

  static func run(_ arguments: [String], _ context: Context) throws -> Int32 {
    guard let options = try parse(spec, arguments, context) else { return ExitStatus.success }
    _ = try options.positionals(0, "")
    let format = try options.choice("format", Format.self) ?? .csv
    let (since, until) = try ReportCommand.window(options, zone: context.zone)
    let book = try context.campaigns()
    let selected = try ReportCommand.selectCampaigns(options, book)
    // Codes are printed again from their serials, so the key ring is needed: a missing key
    // ring or key (66), or a key file others can read (78), fails before anything is written,
    // never an export with its code column left empty.
    let rowText = try ExportRows(
      campaigns: selected, ring: try context.keyRing())
    let first = since.map { Int64(($0.timeIntervalSince1970 * 1000).rounded(.up)) } ?? .min
    let last = until.map { Int64(($0.timeIntervalSince1970 * 1000).rounded(.down)) } ?? .max
    let output = try Output(
      path: options.value("output"), force: options.has("force"), console: context.console)
    var rows = 0
    do {
      if format == .csv { try output.write(CSV.line(columns)) }
      if let registry = try context.registry.openIfPresent(campaigns: book) {
        defer { reportWarnings(registry, context) }
        let only =
          selected.count == 1 && selected.count < book.campaigns.count ? selected[0].id : nil
        // Events are written in batches, each made on both cores (rows in order).
        var batch: [JournalEvent] = []
        batch.reserveCapacity(2048)
        func flush() throws {
          for part in rowText.rows(batch, json: format == .jsonl) {
            try part.withUnsafeBytes { try output.write(raw: $0) }
          }
          rows += batch.count
          batch.removeAll(keepingCapacity: true)
        }
        try registry.forEachEvent(campaign: only) { event in
          guard event.time >= first, event.time <= last else { return }
          batch.append(event)
          if batch.count == 2048 { try flush() }
        }
        try flush()
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

}
