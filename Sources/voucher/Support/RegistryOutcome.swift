import FoundationEssentials
import VoucherKit
import VoucherRegistry

/// One answer of `redeem`, `void`, `claim` or `verify` with a registry: what text and JSON show.
struct Outcome: Encodable {
  var input: String
  var code: String
  var status: String
  var message: String?
  var campaign: String?
  var channel: String?
  var serial: Int?
  var title: String?
  var suggestion: String?
  var time: String?
  var venue: String?
  var store: String?
  var terminal: String?
  var profile: String?
  var request: String?
  var usesLeft: Int?
  var replayed: Bool?
  var reason: String?
  /// The events of `history`.
  var events: [Event]?

  private enum CodingKeys: String, CodingKey {
    case input, code, status, message, campaign, channel, serial, title, suggestion, time, venue,
      store, terminal, profile
    case request, usesLeft, replayed, reason
  }

  /// An answer about a code as verification sees it: `valid`, or why not.
  init(input: String, _ verification: Verification) {
    self.input =
      input.unicodeScalars.count > 256
      ? String(String.UnicodeScalarView(input.unicodeScalars.prefix(256))) + "…" : input
    code = verification.code?.description ?? self.input
    status = verification.status.rawValue
    if let voucher = verification.voucher {
      campaign = voucher.campaign.id.rawValue
      channel = voucher.channel.rawValue
      serial = voucher.serial
      title = voucher.campaign.title
    }
    switch verification {
    case .valid: message = nil
    case .malformed(let problem): message = problem.description
    case .mistyped(_, let suggestion):
      self.suggestion = suggestion?.description
      message =
        "the check symbol does not match: re-enter the code"
        + (suggestion.map { "; did you mean \($0)?" } ?? "")
    case .forged: message = "not signed by this key ring: not a genuine code"
    case .unknownCampaign: message = "genuine, but its campaign is not known here"
    case .revokedKey(_, let slot): message = "signed by key slot \(slot), which has been revoked"
    case .notYetValid(let voucher):
      message = "the campaign starts \(voucher.campaign.starts ?? "later")"
    case .expired(let voucher): message = "the campaign ended \(voucher.campaign.ends ?? "earlier")"
    case .wrongVenue(let voucher, let venue):
      let allowed = voucher.campaign.redeemAt == .store ? "in stores" : "online"
      message = "redeemable \(allowed) only, not \(venue == .store ? "in a store" : "online")"
    }
  }

  /// An answer about a genuine code from the registry.
  init(input: String, voucher: Voucher, status: String) {
    self.init(input: input, .valid(voucher))
    self.status = status
  }

  /// A valid code's answer with what the registry knows: uses left, or used up, or blocked.
  static func verified(_ input: String, _ voucher: Voucher, _ status: CodeStatus) -> Outcome {
    var outcome = Outcome(input: input, .valid(voucher))
    outcome.usesLeft = max(0, voucher.campaign.uses - status.uses)
    if let block = status.block {
      outcome.status = "blocked"
      outcome.reason = block.reason
      outcome.message =
        "its batch was blocked \(ISO8601.format(block.since))"
        + (block.reason.map { ": \($0)" } ?? "")
    } else if status.uses >= voucher.campaign.uses {
      outcome.status = "used-up"
      outcome.usesLeft = 0
      if let last = status.lastRedemption {
        outcome.add(last)
        outcome.usesLeft = 0
        outcome.message = "already used \(Outcome.place(last))"
      }
    } else {
      outcome.message = "\(outcome.usesLeft!) use\(outcome.usesLeft == 1 ? "" : "s") left"
    }
    return outcome
  }

  /// The answer as one JSON line, keys sorted, with the request's id (for `serve`).
  func jsonLine(id: JSONScalar) -> String {
    var writer = JSONWriter()
    writer.add("campaign", campaign)
    writer.add("channel", channel)
    writer.add("code", code)
    if let events {
      writer.add(
        raw: "events",
        "["
          + events.map { event in
            var item = JSONWriter()
            item.add("event", event.kind.rawValue)
            item.add("profile", event.profile)
            item.add("reason", event.reason)
            item.add("request", event.request)
            item.add("store", event.store)
            item.add("terminal", event.terminal)
            item.add("time", ISO8601.format(event.time))
            item.add("venue", event.venue?.rawValue)
            return item.line
          }.joined(separator: ",") + "]")
    }
    writer.add(raw: "id", id.json)
    writer.add("input", input)
    writer.add("message", message)
    writer.add("profile", profile)
    writer.add("reason", reason)
    writer.add("replayed", replayed)
    writer.add("request", request)
    writer.add("serial", serial)
    writer.add("status", status)
    writer.add("store", store)
    writer.add("suggestion", suggestion)
    writer.add("terminal", terminal)
    writer.add("time", time)
    writer.add("title", title)
    writer.add("usesLeft", usesLeft)
    writer.add("venue", venue)
    return writer.line
  }

  /// Copies a receipt's fields.
  mutating func add(_ receipt: Receipt) {
    time = ISO8601.format(receipt.time)
    venue = receipt.venue.rawValue
    store = receipt.store?.rawValue
    terminal = receipt.terminal?.rawValue
    profile = receipt.profile?.rawValue
    request = receipt.request?.rawValue
    usesLeft = receipt.usesLeft
  }

  /// Where and when, as a cashier reads it: "2026-11-22T21:50:03Z in store S12 (terminal T3)".
  static func place(_ receipt: Receipt) -> String {
    var text = ISO8601.format(receipt.time)
    if let store = receipt.store { text += " in store \(store)" } else { text += " online" }
    if let terminal = receipt.terminal { text += " (terminal \(terminal))" }
    return text
  }

  /// One line: the code, the status, what it means.
  var line: String {
    var text =
      (status == VerificationStatus.malformed.rawValue ? printable(input) : code) + "  " + status
    var details: [String] = []
    if let campaign, let channel, let serial {
      details.append(
        "campaign \(campaign), channel \(channel), serial \(serial)"
          + (title.map { ": \($0)" } ?? ""))
    }
    if let message { details.append(message) }
    if !details.isEmpty { text += "  " + details.joined(separator: "; ") }
    return text + "\n"
  }
}

/// Prints one outcome as a line or as one JSON object.
func printOutcome(_ outcome: Outcome, format: OutputFormat, _ context: Context) throws {
  if format == .json {
    try printJSON(outcome, context.console)
  } else {
    try context.console.print(outcome.line)
  }
}

/// Loads the home's key ring and campaigns, reads and verifies the code of a registry command.
/// A code that is not genuine and valid gets its answer printed here, and `nil` comes back.
func genuineVoucher(
  _ text: String, venue: Venue?, acceptInvalidDates: Bool = false, format: OutputFormat,
  _ context: Context
) throws -> (voucher: Voucher, campaigns: CampaignBook)? {
  let keyRing = try KeyRing.load(from: context.home.keys)
  let campaigns = try context.home.campaignStore.load()
  let verification = Verifier(keyRing: keyRing, campaigns: campaigns).verify(
    text, at: venue, now: context.now)
  if case .valid(let voucher) = verification { return (voucher, campaigns) }
  if acceptInvalidDates, let voucher = verification.voucher { return (voucher, campaigns) }
  if case .malformed(let problem) = verification { context.console.error("code: \(problem)") }
  try printOutcome(Outcome(input: text, verification), format: format, context)
  return nil
}

/// Registry warnings (a repaired torn tail) as `warning:` lines.
func reportWarnings(_ registry: Registry, _ context: Context) {
  for warning in registry.warnings { context.console.warning(warning) }
}

/// Wraps an identifier check into a usage error.
func field<T>(_ make: () throws(InvalidField) -> T) throws -> T {
  do {
    return try make()
  } catch {
    throw CommandError(error)
  }
}

/// Seconds to wait for the registry lock: `VOUCHER_LOCK_TIMEOUT`, else 10. A lock held longer (a
/// stopped process) makes the command answer busy with exit status 75 instead of hanging.
func lockTimeout(_ context: Context) -> Double { context.lockTimeout }

/// Reads `VOUCHER_LOCK_TIMEOUT`: seconds from 0 to 3600, whole or with a decimal fraction (`0.5`);
/// unset or empty means 10.
///
/// - Throws: A usage error (exit 64) for anything else, before any command runs: a timeout
///   misread silently would make a busy registry wait for the wrong time, or not at all.
func parseLockTimeout(_ text: String?) throws(CommandError) -> Double {
  guard let text, !text.isEmpty else { return 10 }
  let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
  let isDigits = { (part: Substring) in
    !part.isEmpty && part.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
  }
  guard parts.allSatisfy(isDigits), let seconds = Double(text), seconds <= 3600 else {
    throw .usage(
      "VOUCHER_LOCK_TIMEOUT must be a number of seconds from 0 to 3600 (such as 10 or 0.5), not '\(printable(text))'"
    )
  }
  return seconds
}
