import FoundationEssentials
import VoucherKit
import VoucherRegistry
import VoucherService

/// `voucher history CODE`: every event of a code, oldest first.
enum HistoryCommand {
  static let spec = CommandSpec(
    name: "voucher history",
    overview: "Show every event of a code, oldest first: redemptions, voids, claims, blocks.",
    usage: "<code> [--format text|json]",
    arguments: [("<code>", "The code as typed.")],
    options: [.value("format", "format", "text (default) or json.")])

  /// One event as JSON shows it.
  struct Shown: Encodable {
    let event: String
    let time: String
    let venue: String?
    let store: String?
    let terminal: String?
    let profile: String?
    let profileErased: Bool?
    let request: String?
    let reason: String?
  }

  static func run(_ arguments: [String], _ context: Context) throws -> Int32 {
    guard let options = try parse(spec, arguments, context) else { return ExitStatus.success }
    let text = try options.positionals(1, "code")[0]
    let format = try options.choice("format", OutputFormat.self) ?? .text
    guard
      let (voucher, campaigns) = try genuineVoucher(
        text, venue: nil, acceptInvalidDates: true, format: format, context)
    else {
      return ExitStatus.rejected
    }
    var events: [Event] = []
    if let registry = try context.registry.openIfPresent(campaigns: campaigns) {
      defer { reportWarnings(registry, context) }
      events = try registry.history(of: voucher)
    }
    let shown = events.map {
      Shown(
        event: $0.kind.rawValue, time: ISO8601.format($0.time), venue: $0.venue?.rawValue,
        store: $0.store, terminal: $0.terminal,
        profile: $0.profile, profileErased: $0.profileErased ? true : nil, request: $0.request,
        reason: $0.reason)
    }
    if format == .json {
      try printJSON(shown, context.console)
      return ExitStatus.success
    }
    var out =
      "\(voucher.code)  campaign \(voucher.campaign.id), channel \(voucher.channel), serial \(voucher.serial)\n"
    if shown.isEmpty { out += "  no events\n" }
    for event in shown {
      var line = "  \(event.time)  \(event.event)"
      if event.event == "redeemed" { line += event.store.map { " in store \($0)" } ?? " online" }
      if let terminal = event.terminal { line += ", terminal \(terminal)" }
      if let profile = event.profile { line += ", profile \(profile)" }
      if event.profileErased == true { line += ", profile erased" }
      if let request = event.request { line += ", request \(request)" }
      if let reason = event.reason { line += ": \(reason)" }
      out += line + "\n"
    }
    try context.console.print(out)
    return ExitStatus.success
  }
}
