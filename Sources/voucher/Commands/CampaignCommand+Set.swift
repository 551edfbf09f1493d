import FoundationEssentials
import VoucherKit
import VoucherRegistry

/// `voucher campaign set`: changes a running campaign's settings, each change recorded in its
/// file; `campaign end` goes the same way.
extension CampaignCommand {
  /// The settings `campaign set` changes, each by the option of its name. One more is a row
  /// here and a case of `CampaignEdit.Field`.
  static let settable:
    [(option: String, placeholder: String, field: CampaignEdit.Field, help: String)] = [
      ("starts", "date", .starts, "First valid day or moment, ISO 8601; not after a redemption."),
      ("ends", "date", .ends, "Last valid day (inclusive) or moment, ISO 8601."),
      (
        "title", "text", .title,
        "What cashiers and reports show: 1 to 200 characters, no control characters."
      ),
      (
        "uses", "n", .uses,
        "Redemptions allowed per code, 1 to 255; not fewer than a code already has."
      ),
      (
        "per-profile", "n", .perProfile,
        "Codes one profile may redeem per period, 1 to 1,000,000 (the period stays as added)."
      ),
    ]

  static let setSpec = CommandSpec(
    name: "voucher campaign set",
    overview: """
      Change a running campaign: each change is kept in its file with its time, and shown by \
      'campaign show'. A change that would strand codes already redeemed (a start after a \
      redemption, fewer uses than a code has) is refused (exit 65). With a PostgreSQL registry \
      the change is the chain's: every till sees it on its next command; a running 'serve' sees \
      it at its next request.
      """,
    usage:
      "<id> [--ends <date> | --no-end] [--starts <date>] [--title <text>] [--uses <n>] [--per-profile <n>] [--format text|json]",
    arguments: [("<id>", "The campaign id.")],
    options: settable.map { .value($0.option, $0.placeholder, $0.help) }
      + [
        .flag("no-end", "The campaign runs without an end."),
        .value("format", "format", "text (default) or json: the campaign as changed."),
      ])

  static func set(_ arguments: [String], _ context: Context) throws -> Int32 {
    guard let options = try parse(setSpec, arguments, context) else { return ExitStatus.success }
    let id = try campaignID(options)
    let format = try options.choice("format", OutputFormat.self) ?? .text
    if options.has("no-end") && options.value("ends") != nil {
      throw CommandError.usage("give either --ends <date> or --no-end")
    }
    var edits: [CampaignEdit] = []
    for (option, _, field, _) in settable {
      guard var value = options.value(option) else { continue }
      if field == .uses, let uses = try options.integer(option, in: 1...255) { value = "\(uses)" }
      if field == .perProfile, let most = try options.integer(option, in: 1...1_000_000) {
        value = "\(most)"
      }
      edits.append(CampaignEdit(field, value))
    }
    if options.has("no-end") { edits.append(CampaignEdit(.ends, nil)) }
    guard !edits.isEmpty else {
      let names = (settable.map(\.option) + ["no-end"]).map { "--\($0)" }
      throw CommandError.usage(
        "nothing to change: give one or more of \(names.joined(separator: ", "))")
    }
    let (before, after) = try change(id, edits, by: "campaign set", context)
    if format == .json {
      try printJSON(after, context.console)
      return ExitStatus.success
    }
    let made = after.changes.dropFirst(before.changes.count)
    guard !made.isEmpty else {
      try context.console.print("campaign \(id) unchanged\n")
      return ExitStatus.success
    }
    var text = ""
    for change in made {
      text += "campaign \(id) \(describe(change))\n"
    }
    try context.console.print(text)
    return ExitStatus.success
  }

  /// The campaign id argument.
  static func campaignID(_ options: ParsedArguments) throws -> CampaignID {
    let text = try options.positionals(1, "campaign id")[0]
    guard let id = CampaignID(text) else {
      throw CommandError.usage("'\(printable(text))' is not a campaign id")
    }
    return id
  }

  /// Makes `edits` to a campaign: in the chain's table first, with a PostgreSQL registry (under
  /// a row lock, so two tills changing it at once both land), then in the home's file when the
  /// home has the campaign (atomically, under the campaigns' lock). A refused change writes
  /// nothing anywhere.
  ///
  /// - Returns: The campaign before and after.
  static func change(
    _ id: CampaignID, _ edits: [CampaignEdit], by: String, _ context: Context
  ) throws -> (before: Campaign, after: Campaign) {
    let book = try context.campaigns()
    guard let current = book.campaign(id) else { throw CampaignError.unknownCampaign(id) }
    // The registry is asked only when a change could strand codes: a start or fewer uses.
    var usage = CampaignUsage.none
    if edits.contains(where: { $0.field == .starts || $0.field == .uses }),
      let registry = try context.registry.openIfPresent(campaigns: book)
    {
      usage = try registry.usage(of: id)
      reportWarnings(registry, context)
    }
    let apply = { (campaign: Campaign) throws(CampaignError) -> Campaign in
      try campaign.applying(edits, usage: usage, now: context.now, by: by)
    }
    let store = context.home.campaignStore
    let homeHas = try store.load().campaign(id) != nil
    var changed: (before: Campaign, after: Campaign)
    if let shared = try context.share(changing: id, apply) {
      if homeHas { _ = try store.change(id) { _ in shared.after } }
      changed = shared
    } else {
      guard homeHas else { throw CampaignError.unknownCampaign(id) }
      var before = current
      let after = try store.change(id) { (campaign) throws(CampaignError) in
        before = campaign
        return try apply(campaign)
      }
      changed = (before, after)
    }
    // An end moved into the past or the coming week may be a typo of the year: say what it means.
    if changed.after.ends != changed.before.ends { warnIfEnding(changed.after, context) }
    return changed
  }

  /// One change in words: `ends 2026-08-31 (was 2026-09-30)`.
  static func describe(_ change: CampaignChange) -> String {
    func shown(_ value: String?) -> String {
      guard let value else { return change.field == .ends ? "no end" : "none" }
      return change.field == .title ? "\"\(terminalSafe(value))\"" : terminalSafe(value)
    }
    if change.field == .ends && change.new == nil {
      return "has no end (was \(shown(change.old)))"
    }
    return "\(change.field.rawValue) \(shown(change.new)) (was \(shown(change.old)))"
  }
}

/// The changes section of `campaign show`: one line per change, oldest first, with its time
/// in the command's zone and what made it.
func changesText(_ campaign: Campaign) -> String {
  guard !campaign.changes.isEmpty else { return "" }
  var text = "changes\n"
  for change in campaign.changes {
    let by = change.by.map { " by \(terminalSafe($0))" } ?? ""
    text += "  \(terminalSafe(change.time)): \(CampaignCommand.describe(change))\(by)\n"
  }
  return text
}
