import FoundationEssentials
import VoucherKit
import VoucherRegistry
import VoucherService

/// `voucher prizes add|show|winners|reveal`: scratch-card prizes fixed before printing,
/// revealed at registration, provable after the campaign.
enum PrizesCommand {
  static let subcommands = CommandTable([
    Command(
      "add", "Fix winning serials per tier in a print run; prints the commitment to publish.",
      run: add),
    Command("show", "Per tier: allocated, won, not yet claimed; the commitments.", run: show),
    Command(
      "winners", "Export the prizes won (pseudonymous profile ids) for fulfilment.", run: winners),
    Command(
      "reveal", "Once the campaign has ended: each run's seed and winning serials.", run: reveal),
  ])

  static let spec = CommandSpec(
    name: "voucher prizes",
    overview:
      "Instant-win prizes per print run, from a secret seed per run (HOME/Prizes, mode 0600).",
    usage: "<subcommand>",
    subcommands: subcommands.helpRows)

  static func run(_ arguments: [String], _ context: Context) throws -> Int32 {
    try subcommands.dispatch(arguments, spec: spec, group: "prizes", context)
  }

  static let campaignOption = OptionSpec.value("campaign", "id", "The campaign.")
  private static let formatOption = OptionSpec.value("format", "format", "text (default) or json.")

  /// The campaign `--campaign` names, from the home's campaigns.
  static func campaign(_ options: ParsedArguments, _ context: Context) throws -> Campaign {
    guard let id = CampaignID(try options.required("campaign")) else {
      throw CommandError.usage("--campaign must be 1 to 32 of a-z, 0-9 and -")
    }
    guard let campaign = try context.campaigns().campaign(id) else {
      throw CampaignError.unknownCampaign(id)
    }
    return campaign
  }

  /// `A-B` as a range of serials.
  static func serials(_ text: String) throws(CommandError) -> ClosedRange<Int> {
    let parts = text.split(separator: "-", omittingEmptySubsequences: false)
    guard (1...2).contains(parts.count),
      parts.allSatisfy({
        !$0.isEmpty && $0.count <= 10 && $0.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
      }),
      let first = Int(parts[0]), let last = Int(parts[parts.count - 1]), first >= 1, first <= last
    else {
      throw .usage("--serials must be A-B with 1 <= A <= B, not '\(printable(text))'")
    }
    return first...last
  }

  /// `NAME:COUNT` as a tier.
  static func tier(_ text: String) throws(CommandError) -> PrizeTier {
    let parts = text.split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count == 2, let name = PrizeName(String(parts[0])),
      !parts[1].isEmpty, parts[1].count <= 9,
      parts[1].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let count = Int(parts[1]), count >= 1
    else {
      throw .usage(
        "--tier must be NAME:COUNT (a name of 1 to 32 of a-z, 0-9 and -, a count of at least 1), not '\(printable(text))'"
      )
    }
    return PrizeTier(name: name, count: count)
  }

  static func add(_ arguments: [String], _ context: Context) throws -> Int32 {
    let spec = CommandSpec(
      name: "voucher prizes add",
      overview:
        "Fix exactly COUNT winning serials per tier among serials A to B of a channel (a print run), chosen by a keyed selection from a fresh secret seed. Prints the commitment to publish before the cards go out. Runs of a channel never overlap; a reprint of the run has the same winners.",
      usage:
        "--campaign <id> --channel <name> --serials <a-b> --tier <name:count> [--tier <name:count> ...] [--format text|json]",
      options: [
        campaignOption,
        .value("channel", "name", "The channel."),
        .value("serials", "a-b", "The print run's serials."),
        .repeated(
          "tier", "name:count",
          "A prize and how many serials win it; repeat for more tiers, first tier first."),
        formatOption,
      ])
    guard let options = try parse(spec, arguments, context) else { return ExitStatus.success }
    _ = try options.positionals(0, "")
    let format = try options.choice("format", OutputFormat.self) ?? .text
    let campaign = try campaign(options, context)
    guard let channel = ChannelID(try options.required("channel")) else {
      throw CommandError.usage("--channel must be 1 to 32 of a-z, 0-9 and -")
    }
    guard campaign.channelIndex(channel) != nil else {
      throw CampaignError.unknownChannel(campaign.id, channel)
    }
    let range = try serials(try options.required("serials"))
    let texts = options.all("tier")
    guard !texts.isEmpty else { throw CommandError.usage("--tier is required") }
    var tiers: [PrizeTier] = []
    for text in texts { tiers.append(try tier(text)) }
    let book = PrizeBook(home: context.home, campaign: campaign.id)
    try book.check(channel: channel, serials: range, tiers: tiers, capacity: campaign.capacity)
    // Prizes are fixed before registration: a serial claimed already could never win its prize.
    let claimed = try claims(campaign, context).filter {
      $0.channel == channel && range.contains($0.serial)
    }
    if let first = claimed.first {
      throw CommandError(
        ExitStatus.cannotCreate,
        "\(claimed.count) code\(claimed.count == 1 ? " of these serials is" : "s of these serials are") claimed already (serial \(first.serial) first); fix prizes before the cards are registered"
      )
    }
    let allocation = try book.add(
      channel: channel, serials: range, tiers: tiers, capacity: campaign.capacity,
      now: context.now, timeout: context.lockTimeout)
    if format == .json {
      try printJSON(Shown(campaign.id, allocation, won: [:]), context.console)
    } else {
      try context.console.print(
        "allocated \(allocation.prizes) prize\(allocation.prizes == 1 ? "" : "s") in serials \(range.lowerBound) to \(range.upperBound) of campaign \(campaign.id), channel \(channel)\ncommitment: \(allocation.commitment)\n"
      )
    }
    return ExitStatus.success
  }

  /// An allocation as `show` and `add` print it in JSON: never its seed.
  struct Shown: Encodable {
    struct Tier: Encodable {
      let name: String
      let allocated: Int
      let won: Int
      let unclaimed: Int
    }
    let campaign: String
    let channel: String
    let first: Int
    let last: Int
    let commitment: String
    let created: String
    let tiers: [Tier]

    init(_ campaign: CampaignID, _ allocation: PrizeAllocation, won: [String: Int]) {
      self.campaign = campaign.rawValue
      channel = allocation.channel.rawValue
      first = allocation.first
      last = allocation.last
      commitment = allocation.commitment
      created = allocation.created
      tiers = allocation.tiers.map {
        let count = won[$0.name.rawValue, default: 0]
        return Tier(
          name: $0.name.rawValue, allocated: $0.count, won: count,
          unclaimed: max(0, $0.count - count))
      }
    }
  }

  /// The campaign's claims, oldest first.
  static func claims(_ campaign: Campaign, _ context: Context) throws -> [JournalEvent] {
    let book = try context.campaigns()
    guard let registry = try context.registry.openIfPresent(campaigns: book) else { return [] }
    defer { reportWarnings(registry, context) }
    var claims: [JournalEvent] = []
    try registry.forEachEvent(campaign: campaign.id) { event in
      if event.kind == .claimed, event.campaign.id == campaign.id { claims.append(event) }
    }
    return claims
  }

  /// The claims that won a prize, oldest first.
  static func prizeClaims(_ campaign: Campaign, _ context: Context) throws -> [JournalEvent] {
    try claims(campaign, context).filter { $0.prize != nil }
  }

  /// Per allocation, in order, its prizes not won yet: each tier's name as often as it is
  /// unclaimed.
  static func unclaimed(_ allocations: [PrizeAllocation], won claims: [JournalEvent]) -> [String] {
    var prizes: [String] = []
    for allocation in allocations {
      var won: [String: Int] = [:]
      for claim in claims
      where claim.channel == allocation.channel && allocation.serials.contains(claim.serial) {
        if let prize = claim.prize { won[prize, default: 0] += 1 }
      }
      for tier in allocation.tiers {
        let left = max(0, tier.count - won[tier.name.rawValue, default: 0])
        prizes += Array(repeating: tier.name.rawValue, count: left)
      }
    }
    return prizes
  }

  static func show(_ arguments: [String], _ context: Context) throws -> Int32 {
    let spec = CommandSpec(
      name: "voucher prizes show",
      overview:
        "Show a campaign's prize allocations: per tier allocated, won (claimed), not yet claimed; and each run's commitment. Never a seed or a winning serial.",
      usage: "--campaign <id> [--format text|json]", options: [campaignOption, formatOption])
    guard let options = try parse(spec, arguments, context) else { return ExitStatus.success }
    _ = try options.positionals(0, "")
    let format = try options.choice("format", OutputFormat.self) ?? .text
    let campaign = try campaign(options, context)
    let allocations = try PrizeBook(home: context.home, campaign: campaign.id).allocations()
    let claims = try prizeClaims(campaign, context)
    let shown = allocations.map { allocation in
      var won: [String: Int] = [:]
      for tier in allocation.tiers {
        won[tier.name.rawValue] =
          tier.count
          - unclaimed([allocation], won: claims).filter {
            $0 == tier.name.rawValue
          }.count
      }
      return Shown(campaign.id, allocation, won: won)
    }
    if format == .json {
      try printJSON(shown, context.console)
      return ExitStatus.success
    }
    guard !shown.isEmpty else {
      try context.console.print("campaign \(campaign.id) has no prizes\n")
      return ExitStatus.success
    }
    var rows = [["CHANNEL", "SERIALS", "TIER", "ALLOCATED", "WON", "NOT YET CLAIMED"]]
    for allocation in shown {
      for tier in allocation.tiers {
        rows.append([
          allocation.channel, "\(allocation.first)-\(allocation.last)", tier.name,
          "\(tier.allocated)", "\(tier.won)", "\(tier.unclaimed)",
        ])
      }
    }
    var text = table(rows)
    for allocation in shown {
      text +=
        "commitment of \(allocation.channel) \(allocation.first)-\(allocation.last): \(allocation.commitment)\n"
    }
    try context.console.print(text)
    return ExitStatus.success
  }

  static func winners(_ arguments: [String], _ context: Context) throws -> Int32 {
    let spec = CommandSpec(
      name: "voucher prizes winners",
      overview:
        "Export the prizes won, oldest first, for fulfilment: the claim's event id and time, channel, serial, prize and the pseudonymous profile id (empty once erased).",
      usage: "--campaign <id> [--format csv|jsonl] [--output <file>] [--force]",
      options: [
        campaignOption,
        .value("format", "format", "csv (default) or jsonl."),
        .value("output", "file", "Write to this file (atomically) instead of standard output."),
        .flag("force", "Replace an existing output file."),
      ])
    guard let options = try parse(spec, arguments, context) else { return ExitStatus.success }
    _ = try options.positionals(0, "")
    let format = try options.choice("format", ExportCommand.Format.self) ?? .csv
    let campaign = try campaign(options, context)
    let claims = try prizeClaims(campaign, context)
    let output = try Output(
      path: options.value("output"), force: options.has("force"), console: context.console)
    do {
      if format == .csv {
        try output.write(
          CSV.line(["id", "time", "campaign", "channel", "serial", "prize", "profile"]))
      }
      for claim in claims {
        let time = ISO8601.format(claim.date)
        switch format {
        case .csv:
          try output.write(
            CSV.line([
              String(claim.offset), time, campaign.id.rawValue, claim.channel.rawValue,
              String(claim.serial), claim.prize ?? "", claim.profile ?? "",
            ]))
        case .jsonl:
          var writer = JSONWriter()
          writer.add("campaign", campaign.id.rawValue)
          writer.add("channel", claim.channel.rawValue)
          writer.add("id", Int(claim.offset))
          writer.add(raw: "profile", claim.profile.map(JSONWriter.quoted) ?? "null")
          writer.add("prize", claim.prize)
          writer.add("serial", claim.serial)
          writer.add("time", time)
          try output.write(writer.line + "\n")
        }
      }
      try output.commit(force: options.has("force"))
    } catch {
      output.discard()
      throw error
    }
    if let path = output.path {
      try context.console.print("wrote \(claims.count) prizes won to \(path)\n")
    }
    return ExitStatus.success
  }

  static func reveal(_ arguments: [String], _ context: Context) throws -> Int32 {
    let spec = CommandSpec(
      name: "voucher prizes reveal",
      overview:
        "Once the campaign has ended, print each print run's seed and winning serials, so that anyone can recompute them and check the commitment published before (the algorithm is in the Prizes article). Refused, exit 1, before the campaign's end.",
      usage: "--campaign <id> [--format text|json]", options: [campaignOption, formatOption])
    guard let options = try parse(spec, arguments, context) else { return ExitStatus.success }
    _ = try options.positionals(0, "")
    let format = try options.choice("format", OutputFormat.self) ?? .text
    let campaign = try campaign(options, context)
    guard let end = campaign.endDate, context.now >= end else {
      throw CommandError(
        ExitStatus.rejected,
        campaign.ends.map {
          "campaign '\(campaign.id)' has not ended (it ends \($0)); its prize seeds stay secret until then"
        } ?? "campaign '\(campaign.id)' has no end date; its prize seeds stay secret")
    }
    let revealed = try PrizeBook(home: context.home, campaign: campaign.id).reveal()
    if format == .json {
      struct Winner: Encodable {
        let serial: Int
        let prize: String
      }
      struct Revealed: Encodable {
        let campaign: String
        let channel: String
        let first: Int
        let last: Int
        let tiers: [PrizeTier]
        let commitment: String
        let seed: String
        let winners: [Winner]
      }
      try printJSON(
        revealed.map {
          Revealed(
            campaign: campaign.id.rawValue, channel: $0.allocation.channel.rawValue,
            first: $0.allocation.first, last: $0.allocation.last, tiers: $0.allocation.tiers,
            commitment: $0.allocation.commitment, seed: $0.seed,
            winners: $0.winners.map { Winner(serial: $0.serial, prize: $0.prize.rawValue) })
        }, context.console)
      return ExitStatus.success
    }
    var text = ""
    for run in revealed {
      let allocation = run.allocation
      text +=
        "campaign \(campaign.id), channel \(allocation.channel), serials \(allocation.first)-\(allocation.last)\n"
      text += "commitment: \(allocation.commitment)\nseed: \(run.seed)\n"
      for tier in allocation.tiers {
        let serials = run.winners.filter { $0.prize == tier.name }.map { String($0.serial) }
        text += "\(tier.name) (\(tier.count)): \(serials.joined(separator: " "))\n"
      }
    }
    try context.console.print(text.isEmpty ? "campaign \(campaign.id) has no prizes\n" : text)
    return ExitStatus.success
  }
}
