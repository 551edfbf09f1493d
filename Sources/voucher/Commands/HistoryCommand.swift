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
    if format == .json {
      try context.console.print(JSONText.indented(Event.json(events, zone: context.zone)) + "\n")
      return ExitStatus.success
    }
    var out =
      "\(voucher.code)  campaign \(voucher.campaign.id), channel \(voucher.channel), serial \(voucher.serial)\n"
    if events.isEmpty { out += "  no events\n" }
    for event in events {
      var line = "  \(context.zone.format(event.time))  \(event.kind.rawValue)"
      if event.kind == .redeemed { line += event.store.map { " in store \($0)" } ?? " online" }
      if let terminal = event.terminal { line += ", terminal \(terminal)" }
      if let profile = event.profile { line += ", profile \(profile)" }
      if event.profileErased { line += ", profile erased" }
      if let request = event.request { line += ", request \(request)" }
      if let reason = event.reason { line += ": \(reason)" }
      out += line + "\n"
    }
    try context.console.print(out)
    return ExitStatus.success
  }
}
