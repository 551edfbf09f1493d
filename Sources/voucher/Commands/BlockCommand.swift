import FoundationEssentials
import VoucherKit
import VoucherRegistry

/// `voucher block` and `voucher unblock`: a lost or stolen box of cards.
enum BlockCommand {
  static func spec(_ name: String) -> CommandSpec {
    CommandSpec(
      name: "voucher \(name)",
      overview: name == "block"
        ? "Block a range of serials (a lost or stolen batch): its codes answer blocked."
        : "Unblock a range of serials blocked before.",
      usage: "--campaign <id> --channel <name> --serials <a-b> [--reason <text>]",
      options: [
        .value("campaign", "id", "The campaign."),
        .value("channel", "name", "The channel."),
        .value("serials", "a-b", "The serials, as A-B or a single serial."),
        .value("reason", "text", "Why (1 to 200 characters)."),
      ])
  }

  static func run(_ arguments: [String], _ context: Context, unblock: Bool) throws -> Int32 {
    guard let options = try parse(spec(unblock ? "unblock" : "block"), arguments, context) else {
      return ExitStatus.success
    }
    _ = try options.positionals(0, "")
    guard let id = CampaignID(try options.required("campaign")) else {
      throw CommandError.usage("--campaign must be 1 to 32 of a-z, 0-9 and -")
    }
    guard let channel = ChannelID(try options.required("channel")) else {
      throw CommandError.usage("--channel must be 1 to 32 of a-z, 0-9 and -")
    }
    let serialsText = try options.required("serials")
    let parts = serialsText.split(separator: "-", omittingEmptySubsequences: false)
    guard (1...2).contains(parts.count),
      parts.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }),
      let first = Int(parts[0]), let last = Int(parts[parts.count - 1]), first >= 1, first <= last
    else {
      throw CommandError.usage(
        "--serials must be A-B with 1 <= A <= B, not '\(printable(serialsText))'")
    }
    let reason = try options.value("reason").map { text in
      try field { () throws(InvalidField) in try Reason(text) }
    }
    let campaigns = try context.campaigns()
    guard let campaign = campaigns.campaign(id) else { throw CampaignError.unknownCampaign(id) }
    guard campaign.channelIndex(channel) != nil else {
      throw CampaignError.unknownChannel(id, channel)
    }
    guard last <= campaign.capacity else {
      throw CommandError(
        ExitStatus.dataError, "campaign '\(id)' has serials 1 to \(campaign.capacity)")
    }
    let registry = try context.registry.open(campaigns: campaigns, create: true)
    defer { reportWarnings(registry, context) }
    let count = try registry.block(
      campaign: campaign, channel: channel, serials: first...last, reason: reason, unblock: unblock,
      now: context.now)
    try context.console.print(
      "\(unblock ? "unblocked" : "blocked") serials \(first) to \(last) of campaign \(id), channel \(channel) (\(count) codes)\n"
    )
    if !unblock { try warnIfNeverIssued(id, channel, first...last, context) }
    return ExitStatus.success
  }

  /// Warns when a block holds serials this home never issued (a typo in the range, the wrong
  /// channel): the block is recorded all the same, so a later issue of them is blocked too.
  static func warnIfNeverIssued(
    _ id: CampaignID, _ channel: ChannelID, _ range: ClosedRange<Int>, _ context: Context
  ) throws {
    let gaps = try context.home.issueLog(id).neverIssued(channel: channel, in: range)
    guard !gaps.isEmpty else { return }
    let count = gaps.reduce(0) { $0 + $1.count }
    let shown = gaps.prefix(3).map {
      $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound) to \($0.upperBound)"
    }
    let more = gaps.count > 3 ? " and \(gaps.count - 3) more range(s)" : ""
    context.console.warning(
      "\(count) of the blocked serials were never issued from this home (\(shown.joined(separator: ", "))\(more)): check the campaign, channel and range; the block holds for them too"
    )
  }
}
