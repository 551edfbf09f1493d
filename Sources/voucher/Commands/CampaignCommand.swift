import FoundationEssentials
import VoucherKit

/// `voucher campaign add|end|set|list|show`.
enum CampaignCommand {
  static let subcommands = CommandTable([
    Command("add", "Add a campaign with its channels and rules.", run: add),
    Command(
      "end", label: "end <id>", "Change a campaign's last valid day (extend or cut it short).",
      run: end),
    Command(
      "set", label: "set <id>",
      "Change a running campaign's dates, title or uses; each change is kept.", run: set),
    Command("list", "List the campaigns.", run: list),
    Command("show", "Show one campaign and what was issued.", run: show),
  ])

  static let spec = CommandSpec(
    name: "voucher campaign",
    overview:
      "Add, change, list and show campaigns. With a PostgreSQL registry, what is added or changed is shared with every till of the chain.",
    usage: "<subcommand>",
    subcommands: subcommands.helpRows)

  static let addSpec = CommandSpec(
    name: "voucher campaign add",
    overview: "Add a campaign. Its codes are signed by the newest active key, or by --key.",
    usage:
      "<id> --channels <name,name...> [--starts <date>] [--ends <date>] [--uses <n>] [--redeem-at store|online|any] [--tag-bits <b>] [--capacity <n>] [--title <text>] [--key <slot>] [--per-profile <n> [--per-profile-period day|week|month|campaign]] [--claims-per-profile <n>] [--format text|json]",
    arguments: [("<id>", "The campaign id: 1 to 32 of a-z, 0-9 and -.")],
    options: [
      .value("channels", "names", "Comma-separated distribution channels (flyer,receipt,email)."),
      .value(
        "starts", "date",
        "First valid day or moment, ISO 8601 (2026-12-01 or 2026-12-01T08:00+01:00)."),
      .value("ends", "date", "Last valid day (inclusive) or moment, ISO 8601."),
      .value("uses", "n", "Redemptions allowed per code, 1 to 255 (default 1)."),
      .value("redeem-at", "venue", "store, online or any (default any)."),
      .value(
        "tag-bits", "b", "Signature bits, 32 to 60, rounded up to a multiple of 5 (default 40)."),
      .value("capacity", "n", "Codes per channel (default 1000000)."),
      .value("title", "text", "What cashiers and reports show."),
      .value("key", "slot", "Sign with this key slot instead of the newest active key."),
      .value(
        "per-profile", "n",
        "Codes one customer profile may redeem per period, 1 to 1000000: the profile given with redeem --profile or inherited from a claim; a void gives the use back; refusals answer profile-limit."
      ),
      .value(
        "per-profile-period", "period",
        "day, week (ISO, from Monday), month or campaign (default: no reset), in the --tz zone given when the campaign is added."
      ),
      .value(
        "claims-per-profile", "n", "Codes one customer profile may claim, 1 to 1000000."),
      .value("format", "format", "text (default) or json."),
    ])

  static let listSpec = CommandSpec(
    name: "voucher campaign list", overview: "List the campaigns.", usage: "[--format text|json]",
    options: [.value("format", "format", "text (default) or json.")])

  static let showSpec = CommandSpec(
    name: "voucher campaign show",
    overview: "Show one campaign and the serials issued per channel.",
    usage: "<id> [--format text|json]", arguments: [("<id>", "The campaign id.")],
    options: [.value("format", "format", "text (default) or json.")])

  static func run(_ arguments: [String], _ context: Context) throws -> Int32 {
    try subcommands.dispatch(arguments, spec: spec, group: "campaign", context)
  }

  static func add(_ arguments: [String], _ context: Context) throws -> Int32 {
    guard let options = try parse(addSpec, arguments, context) else { return ExitStatus.success }
    let idText = try options.positionals(1, "campaign id")[0]
    guard let id = CampaignID(idText) else {
      throw CommandError.usage(
        "campaign id '\(printable(idText))' must be 1 to 32 of a-z, 0-9 and -")
    }
    var channels: [ChannelID] = []
    for name in try options.required("channels").split(
      separator: ",", omittingEmptySubsequences: false)
    {
      guard let channel = ChannelID(String(name)) else {
        throw CommandError.usage("channel '\(printable(name))' must be 1 to 32 of a-z, 0-9 and -")
      }
      channels.append(channel)
    }
    var spec = CampaignSpec(id: id, channels: channels)
    spec.starts = options.value("starts")
    spec.ends = options.value("ends")
    spec.uses = try options.integer("uses", in: 1...255) ?? 1
    spec.redeemAt = try options.choice("redeem-at", RedemptionPolicy.self) ?? .any
    spec.tagBits = try options.integer("tag-bits", in: 32...60) ?? 40
    spec.capacity = try options.integer("capacity", in: 1...Campaign.codeSpacePerKey) ?? 1_000_000
    spec.title = options.value("title")
    if let slot = try options.integer("key", in: 0...Int(KeySlot.maximum)) {
      spec.slot = KeySlot(slot)
    }
    spec.limits = try profileLimits(options, context)
    let format = try options.choice("format", OutputFormat.self) ?? .text
    let ring = try context.keyRing()
    // The chain's registry is reached before the home changes: a campaign is shared or not added.
    let chain = try context.campaigns()
    if chain.campaign(spec.id) != nil { throw CampaignError.duplicateCampaign(spec.id) }
    let campaign = try context.home.campaignStore.add(spec, keyRing: ring, now: context.now)
    try context.share(campaigns: [campaign])
    warnIfEnding(campaign, context)
    if format == .json {
      try printJSON(campaign, context.console)
    } else {
      try context.console.print(
        "added campaign \(campaign.id): \(campaign.channels.count) channel(s) of \(campaign.capacity) codes, \(campaign.codeLength)-symbol codes signed by key slot \(campaign.slot)\n"
      )
    }
    return ExitStatus.success
  }

  static let endSpec = CommandSpec(
    name: "voucher campaign end",
    overview: """
      Change a campaign's last valid day or moment: codes verify until then. With a PostgreSQL \
      registry the change is the chain's: every till sees it on its next command.
      """,
    usage: "<id> (--ends <date> | --no-end)", arguments: [("<id>", "The campaign id.")],
    options: [
      .value("ends", "date", "Last valid day (inclusive) or moment, ISO 8601."),
      .flag("no-end", "The campaign runs without an end."),
    ])

  static func end(_ arguments: [String], _ context: Context) throws -> Int32 {
    guard let options = try parse(endSpec, arguments, context) else { return ExitStatus.success }
    let text = try options.positionals(1, "campaign id")[0]
    guard let id = CampaignID(text) else {
      throw CommandError.usage("'\(printable(text))' is not a campaign id")
    }
    let ends = options.value("ends")
    guard (ends == nil) == options.has("no-end") else {
      throw CommandError.usage("give either --ends <date> or --no-end")
    }
    // The same path as `campaign set --ends`, recorded in the campaign's changes as this command.
    _ = try change(id, [CampaignEdit(.ends, ends)], by: "campaign end", context)
    try context.console.print(
      "campaign \(id) \(ends.map { "ends \(printable($0))" } ?? "has no end")\n")
    return ExitStatus.success
  }

  static func list(_ arguments: [String], _ context: Context) throws -> Int32 {
    guard let options = try parse(listSpec, arguments, context) else { return ExitStatus.success }
    _ = try options.positionals(0, "")
    let format = try options.choice("format", OutputFormat.self) ?? .text
    let campaigns = try context.campaigns().campaigns
    if format == .json {
      try printJSON(campaigns, context.console)
      return ExitStatus.success
    }
    var rows = [["ID", "CHANNELS", "USES", "REDEEM-AT", "STARTS", "ENDS", "KEY", "TITLE"]]
    for campaign in campaigns {
      rows.append([
        campaign.id.rawValue, campaign.channels.map(\.rawValue).joined(separator: ","),
        "\(campaign.uses)",
        campaign.redeemAt.rawValue, campaign.starts ?? "-", campaign.ends ?? "-",
        "\(campaign.slot)", campaign.title,
      ])
    }
    try context.console.print(table(rows))
    return ExitStatus.success
  }

  /// A campaign with the serials issued per channel, as `show --format json` prints it.
  struct Shown: Encodable {
    let campaign: Campaign
    let issued: [String: Int]
    let codeLength: Int
  }

  static func show(_ arguments: [String], _ context: Context) throws -> Int32 {
    guard let options = try parse(showSpec, arguments, context) else { return ExitStatus.success }
    let idText = try options.positionals(1, "campaign id")[0]
    let format = try options.choice("format", OutputFormat.self) ?? .text
    guard let id = CampaignID(idText),
      let campaign = try context.campaigns().campaign(id)
    else {
      throw CommandError(
        ExitStatus.noInput, "no campaign '\(printable(idText))'; 'voucher campaign list' shows them"
      )
    }
    let entries = try context.home.issueLog(id).entries()
    var issued: [String: Int] = [:]
    for channel in campaign.channels {
      issued[channel.rawValue] =
        (entries.filter { $0.channel == channel }.map { $0.first + $0.count - 1 }.max() ?? 0)
    }
    if format == .json {
      try printJSON(
        Shown(campaign: campaign, issued: issued, codeLength: campaign.codeLength), context.console)
      return ExitStatus.success
    }
    var limitsLine = ""
    if let limits = campaign.limits { limitsLine = "limits      " + limitsText(limits) + "\n" }
    var text = """
      campaign    \(campaign.id)
      title       \(campaign.title)
      valid       \(campaign.starts ?? "from now") to \(campaign.ends ?? "no end")
      uses        \(campaign.uses) per code, redeemable at \(campaign.redeemAt)
      codes       \(campaign.codeLength) symbols, \(campaign.tagBits)-bit signature, key slot \(campaign.slot)
      capacity    \(campaign.capacity) per channel
      created     \(campaign.created)
      \(limitsLine)channels

      """
    for channel in campaign.channels {
      text += "  \(channel.rawValue): serials 1 to \(issued[channel.rawValue]!) issued\n"
    }
    text += changesText(campaign)
    try context.console.print(text)
    return ExitStatus.success
  }
}

/// The per-profile limits of `campaign add`, checked: each count from 1 to 1,000,000, a period
/// only with `--per-profile`; the period's zone is the command's `--tz`.
func profileLimits(_ options: ParsedArguments, _ context: Context) throws(CommandError)
  -> ProfileLimits?
{
  let redemptions = try options.integer("per-profile", in: 1...1_000_000)
  let period = try options.choice("per-profile-period", LimitPeriod.self)
  let claims = try options.integer("claims-per-profile", in: 1...1_000_000)
  if period != nil && redemptions == nil {
    throw .usage("--per-profile-period needs --per-profile <n>")
  }
  guard redemptions != nil || claims != nil else { return nil }
  return ProfileLimits(
    redemptions: redemptions, period: period ?? .campaign, claims: claims,
    zone: context.zone.isUTC ? nil : context.zone.name)
}

/// A campaign's limits in words, as `campaign show` prints them.
func limitsText(_ limits: ProfileLimits) -> String {
  var parts: [String] = []
  if let most = limits.redemptions {
    let period =
      limits.period == .campaign
      ? "for the whole campaign" : "per \(limits.period.rawValue) (\(limits.zone ?? "UTC"))"
    parts.append("\(most) redemption\(most == 1 ? "" : "s") per profile \(period)")
  }
  if let most = limits.claims {
    parts.append("\(most) claim\(most == 1 ? "" : "s") per profile")
  }
  return parts.joined(separator: "; ")
}

/// Aligned text columns, two spaces apart.
func table(_ rows: [[String]]) -> String {
  guard let columns = rows.first?.count else { return "" }
  let widths = (0..<columns).map { column in rows.map { $0[column].count }.max() ?? 0 }
  return rows.map { row in
    row.enumerated().map { column, cell in
      column == columns - 1
        ? cell : cell + String(repeating: " ", count: widths[column] - cell.count + 2)
    }.joined()
  }.joined(separator: "\n") + "\n"
}

/// Warns when a campaign has ended, or ends within a week: its codes would answer `expired`, or
/// soon will (`campaign add` and `issue` go on; a reprint of an old campaign is legitimate).
func warnIfEnding(_ campaign: Campaign, _ context: Context) {
  guard let end = campaign.endDate, let ends = campaign.ends else { return }
  let left = end.timeIntervalSince(context.now)
  if left < 0 {
    context.console.warning(
      "campaign \(campaign.id) ended \(ends): its codes answer expired")
  } else if left < 7 * 86_400 {
    let days = Int((left / 86_400).rounded(.up))
    context.console.warning(
      "campaign \(campaign.id) ends \(ends), within \(days) day\(days == 1 ? "" : "s"): its codes will answer expired after that"
    )
  }
}
