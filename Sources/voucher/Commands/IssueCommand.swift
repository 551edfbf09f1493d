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
      "--campaign <id> --channel <name> --count <n> [--first <serial>] [--format text|csv|json] [--columns <list>] [--url <template>] [--output <file>] [--per-file <n>] [--qr svg [--qr-level L|M|Q|H]] [--force] [--threads <n>]",
    options: [
      .value("campaign", "id", "The campaign."),
      .value("channel", "name", "The distribution channel."),
      .value("count", "n", "How many codes."),
      .value("first", "serial", "Regenerate codes from this serial (a reprint)."),
      .value("format", "format", "text (one code per line, default), csv (serial,code) or json."),
      .value(
        "output", "file",
        "Write to this file (atomically, with FILE.manifest.json beside it; a device or FIFO directly) instead of standard output."
      ),
      .value(
        "columns", "list",
        "CSV and JSON columns, in order, from serial, code, url, campaign, channel, ends (default: serial,code, and url with --url)."
      ),
      .value(
        "url", "template",
        "A registration link per code, {code} standing for the code (HTTPS://SHOP.EXAMPLE/R/{code}): a url column, and what QR codes hold."
      ),
      .value(
        "per-file", "n",
        "Split the output into files of n codes (boxes): FILE-0001.csv, FILE-0002.csv, ..."),
      .value(
        "qr", "svg",
        "Write one QR code per code as an SVG file into the folder --output names, named by channel and serial."
      ),
      .value("qr-level", "level", "QR error correction: L, M (default), Q or H."),
      .flag("force", "Replace existing output files."),
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
    let request = try Request(options, format: format)
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
    warnIfEnding(campaign, context)

    // The first issue of a home creates its registry: from then on a missing registry is a disk
    // that did not mount, which every command refuses (never a fresh start).
    _ = try context.registry.open(campaigns: try context.campaigns(), create: true)

    let run = Run(
      context: context, campaign: campaign, channel: channel, channelIndex: channelIndex,
      issuer: issuer, ring: ring, count: count, first: first, threads: threads,
      force: options.has("force"))
    if let qr = request.qr {
      return try run.writeQR(folder: options.value("output")!, qr: qr, url: request.url)
    }
    if let path = options.value("output"), Output.isFileDestination(path) {
      return try run.writeFiles(path: path, layout: request.layout, perFile: request.perFile)
    }
    if request.perFile != nil {
      throw CommandError(
        ExitStatus.cannotCreate, "--per-file writes regular files; --output names a device or FIFO")
    }
    return try run.writeStream(
      output: try Output(
        path: options.value("output"), force: options.has("force"), console: context.console),
      layout: request.layout)
  }
}
