import FoundationEssentials
import VoucherKit
import VoucherRegistry
import VoucherService

/// `voucher draw`: winners among a campaign's registrations, from a public beacon, with an
/// evidence file anyone can check.
enum DrawCommand {
  static let spec = CommandSpec(
    name: "voucher draw",
    overview:
      "Draw winners among a campaign's claims, deterministically from a public random value published after registration closed (a lottery result, a randomness beacon). Entries are the claims in the window ordered by event id; the same inputs always give the same winners (the algorithm is in the Prizes article). Writes an evidence file: the inputs, the ordered entries, the winners. With --unclaimed-prizes, once the campaign has ended, draws the prizes no claim won among registrants who won none (one per profile).",
    usage:
      "--campaign <id> (--winners <n> | --unclaimed-prizes) --beacon <hex> [--since <date>] [--until <date>] [--per profile|claim] [--out <file>] [--force]",
    options: [
      PrizesCommand.campaignOption,
      .value("winners", "n", "How many distinct entries win (1 to 1000000)."),
      .flag("unclaimed-prizes", "Draw every prize still unclaimed at the campaign's end."),
      .value("beacon", "hex", "The public random value, 16 to 1024 bytes in hexadecimal."),
      .value("since", "date", "Only claims from this day or moment."),
      .value("until", "date", "Only claims up to this day (inclusive) or moment."),
      .value(
        "per", "what",
        "profile: one entry per profile (its first claim); claim (default): every claim."),
      .value(
        "out", "file", "Write the evidence to this file (atomically) instead of standard output."),
      .flag("force", "Replace an existing evidence file."),
    ])

  enum Per: String, CaseIterable {
    case profile, claim
  }

  static func run(_ arguments: [String], _ context: Context) throws -> Int32 {
    guard let options = try parse(spec, arguments, context) else { return ExitStatus.success }
    _ = try options.positionals(0, "")
    let unclaimedPrizes = options.has("unclaimed-prizes")
    let count = try options.integer("winners", in: 1...1_000_000)
    guard (count == nil) == unclaimedPrizes else {
      throw CommandError.usage("give exactly one of --winners <n> and --unclaimed-prizes")
    }
    let beaconText = try options.required("beacon")
    guard let beacon = hexBytes(beaconText), (16...1024).contains(beacon.count) else {
      throw CommandError.usage(
        "--beacon must be 16 to 1024 bytes in hexadecimal, not '\(printable(String(beaconText.prefix(80))))'"
      )
    }
    let per = try options.choice("per", Per.self) ?? (unclaimedPrizes ? .profile : .claim)
    if unclaimedPrizes && per != .profile {
      throw CommandError.usage("--unclaimed-prizes draws one prize per profile: --per profile")
    }
    let (since, until) = try ReportCommand.window(options, zone: context.zone)
    let campaign = try PrizesCommand.campaign(options, context)
    if unclaimedPrizes {
      guard let end = campaign.endDate, context.now >= end else {
        throw CommandError(
          ExitStatus.rejected,
          "campaign '\(campaign.id)' has not ended; its unclaimed prizes are drawn after its end")
      }
    }
    let first = since.map { Int64(($0.timeIntervalSince1970 * 1000).rounded(.up)) } ?? .min
    let last = until.map { Int64(($0.timeIntervalSince1970 * 1000).rounded(.down)) } ?? .max
    let claims = try PrizesCommand.claims(campaign, context)
    let inWindow = claims.filter { $0.time >= first && $0.time <= last }
    var prizes: [String] = []
    var excluded = Set<String>()
    if unclaimedPrizes {
      let allocations = try PrizeBook(home: context.home, campaign: campaign.id).allocations()
      prizes = PrizesCommand.unclaimed(allocations, won: claims)
      excluded = Set(claims.filter { $0.prize != nil }.compactMap(\.profile))
    }
    let byID = Dictionary(inWindow.map { ($0.offset, $0) }, uniquingKeysWith: { a, _ in a })
    let entries = Draw.entries(
      inWindow.filter { !unclaimedPrizes || $0.prize == nil }.map {
        Draw.Entry(id: $0.offset, profile: $0.profile)
      }, perProfile: per == .profile, excluding: excluded)
    let wanted = count ?? prizes.count
    if count != nil && entries.count < wanted {
      throw CommandError(
        ExitStatus.rejected,
        "only \(entries.count) entr\(entries.count == 1 ? "y" : "ies") for \(wanted) winners; nothing was drawn"
      )
    }
    let winners = Draw.winners(entries, beacon: beacon, count: wanted)

    var writer = JSONWriter()
    func entryJSON(_ entry: Draw.Entry, rank: Int?, prize: String?) -> String {
      let claim = byID[entry.id]!
      var row = JSONWriter()
      row.add("channel", claim.channel.rawValue)
      row.add("id", Int(entry.id))
      if unclaimedPrizes, rank != nil { row.add("prize", prize) }
      row.add(raw: "profile", entry.profile.map(JSONWriter.quoted) ?? "null")
      row.add("rank", rank)
      row.add("serial", claim.serial)
      row.add("time", ISO8601.format(claim.date))
      return row.line
    }
    writer.add(
      "algorithm",
      "voucher-draw-v1: entries are the claims in the window ordered by event id (per profile: each profile's first claim); each is ranked by the first 8 bytes, big-endian, of HMAC-SHA256 with the beacon as key over \"voucher-draw\", a zero byte and the event id as 8 bytes big-endian, ties to the smaller id; the first N in rank order win"
    )
    writer.add("beacon", PrizeSelection.hex(beacon))
    writer.add("campaign", campaign.id.rawValue)
    writer.add(
      raw: "entries",
      "[" + entries.map { entryJSON($0, rank: nil, prize: nil) }.joined(separator: ",") + "]")
    writer.add("per", per.rawValue)
    if unclaimedPrizes {
      writer.add(raw: "prizes", "[" + prizes.map(JSONWriter.quoted).joined(separator: ",") + "]")
    }
    writer.add(raw: "since", since.map { JSONWriter.quoted(ISO8601.format($0)) } ?? "null")
    writer.add("unclaimedPrizes", unclaimedPrizes)
    writer.add(raw: "until", until.map { JSONWriter.quoted(ISO8601.format($0)) } ?? "null")
    writer.add(
      raw: "winners",
      "["
        + winners.enumerated().map {
          entryJSON(
            $0.element, rank: $0.offset + 1, prize: unclaimedPrizes ? prizes[$0.offset] : nil)
        }.joined(separator: ",") + "]")
    writer.add("winnersWanted", wanted)
    let evidence = JSONText.indented(writer.line) + "\n"

    let output = try Output(
      path: options.value("out"), force: options.has("force"), console: context.console)
    do {
      try output.write(evidence)
      try output.commit(force: options.has("force"))
    } catch {
      output.discard()
      throw error
    }
    if let path = output.path {
      try context.console.print(
        "drew \(winners.count) winner\(winners.count == 1 ? "" : "s") among \(entries.count) entr\(entries.count == 1 ? "y" : "ies"); evidence in \(path)\n"
      )
    }
    return ExitStatus.success
  }

  /// Bytes from hexadecimal text, or `nil`.
  static func hexBytes(_ text: String) -> [UInt8]? {
    let digits = Array(text.utf8)
    guard digits.count % 2 == 0,
      digits.allSatisfy({
        (0x30...0x39).contains($0) || (0x61...0x66).contains($0) || (0x41...0x46).contains($0)
      })
    else { return nil }
    return stride(from: 0, to: digits.count, by: 2).map {
      UInt8(String(decoding: digits[$0..<($0 + 2)], as: UTF8.self), radix: 16)!
    }
  }
}
