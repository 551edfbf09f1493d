import FoundationEssentials
import VoucherKit
import VoucherRegistry

#if canImport(Glibc)
  import Glibc
#endif

/// `voucher issue`: writes a campaign channel's codes for a print shop.
enum IssueCommand {
  static let spec = CommandSpec(
    name: "voucher issue",
    overview: """
      Write codes of one campaign channel. Without --first, serials continue after the last ones \
      issued, so two runs never print the same codes; --first regenerates a range for a reprint.
      """,
    usage:
      "--campaign <id> --channel <name> --count <n> [--first <serial>] [--format text|csv|json] [--output <file>] [--force]",
    options: [
      .value("campaign", "id", "The campaign."),
      .value("channel", "name", "The distribution channel."),
      .value("count", "n", "How many codes."),
      .value("first", "serial", "Regenerate codes from this serial (a reprint)."),
      .value("format", "format", "text (one code per line, default), csv (serial,code) or json."),
      .value(
        "output", "file",
        "Write to this file (atomically; a device or FIFO directly) instead of standard output."),
      .flag("force", "Replace an existing output file."),
      .value("threads", "n", "Threads making codes (default: every core)."),
    ])

  static func run(_ arguments: [String], _ context: Context) throws -> Int32 {
    guard let options = try parse(spec, arguments, context) else { return ExitStatus.success }
    _ = try options.positionals(0, "")
    guard let campaignID = CampaignID(try options.required("campaign")) else {
      throw CommandError.usage("--campaign must be 1 to 32 of a-z, 0-9 and -")
    }
    guard let channel = ChannelID(try options.required("channel")) else {
      throw CommandError.usage("--channel must be 1 to 32 of a-z, 0-9 and -")
    }
    _ = try options.required("count")
    let count = try options.integer("count", in: 1...Campaign.codeSpacePerKey)!
    let first = try options.integer("first", in: 1...Campaign.codeSpacePerKey)
    let format = try options.choice("format", IssueFormat.self) ?? .text
    let threads =
      try options.integer("threads", in: 1...256) ?? ProcessInfo.processInfo.activeProcessorCount
    try Output.checkOptions(path: options.value("output"), force: options.has("force"))
    let ring = try context.keyRing()
    guard let campaign = try context.campaigns().campaign(campaignID) else {
      throw CampaignError.unknownCampaign(campaignID)
    }
    guard let channelIndex = campaign.channelIndex(channel) else {
      throw CampaignError.unknownChannel(campaignID, channel)
    }
    let issuer = try Issuer(campaign: campaign, keyRing: ring)
    if ring.info(for: campaign.slot)?.isDemo == true {
      context.console.warning(
        "issuing with the demo key (slot \(campaign.slot)): its secret is public, so anyone can forge these codes"
      )
    }

    // The first issue of a home creates its registry: from then on a missing registry is a disk
    // that did not mount, which every command refuses (never a fresh start).
    _ = try context.registry.open(campaigns: try context.campaigns(), create: true)

    // Open the output first: an unwritable folder or an existing file fails before any serial
    // is reserved.
    let output = try Output(
      path: options.value("output"), force: options.has("force"), console: context.console)
    let log = context.home.issueLog(campaignID)
    var recorded: ClosedRange<Int>?
    do {
      let showProgress = context.console.errorIsTerminal && count >= 200_000
      var lastShown = Date.distantPast
      func write(_ serials: ClosedRange<Int>) throws {
        try issuer.write(
          channel: channelIndex, serials: serials, format: format, threads: threads,
          to: { bytes in try output.write(raw: bytes) },
          progress: { done in
            guard showProgress, Date().timeIntervalSince(lastShown) > 0.25 || done == count else {
              return
            }
            lastShown = Date()
            context.console.writeError("\rissued \(done) of \(count) codes")
            if done == count { context.console.writeError("\n") }
          })
      }
      if output.isStaged {
        // A file: the codes are written and synced to its temporary file before the range is
        // recorded (under the log's lock), so a failed write records nothing. The file moves into
        // place only after the range is recorded: a code that anyone can see is always on record,
        // so no later run can hand it out again.
        recorded = try log.reserve(
          campaign: campaign, channel: channel, count: count, first: first, now: context.now,
          beforeRecording: { serials in
            try write(serials)
            try output.finishWriting()
          })
      } else {
        // Standard output, a device, a FIFO or a terminal: what is written cannot be taken back,
        // so the range is recorded first.
        let serials = try log.reserve(
          campaign: campaign, channel: channel, count: count, first: first, now: context.now)
        recorded = serials
        try write(serials)
      }
      try output.commit(force: options.has("force"))
    } catch {
      output.discard()
      guard let recorded else { throw error }
      // The range is on record though the output failed: say so, and how to print it again.
      let failure = CommandError(error)
      throw CommandError(
        failure.status,
        "\(failure.message); serials \(recorded.lowerBound) to \(recorded.upperBound) are recorded as issued: print them again with 'voucher issue --campaign \(campaignID) --channel \(channel) --first \(recorded.lowerBound) --count \(recorded.count)'"
      )
    }
    if let path = output.path, let serials = recorded {
      try context.console.print(
        "wrote \(count) codes of campaign \(campaignID), channel \(channel), serials \(serials.lowerBound) to \(serials.upperBound), to \(path)\n"
      )
    }
    return ExitStatus.success
  }
}
