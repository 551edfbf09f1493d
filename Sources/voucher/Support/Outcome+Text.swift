import VoucherKit
import VoucherService

extension Outcome {
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
    try context.console.print(JSONText.indented(outcome.json()) + "\n")
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
  let keyRing = try context.keyRing()
  let campaigns = try context.campaigns()
  let verification = Verifier(keyRing: keyRing, campaigns: campaigns).verify(
    text, at: venue, now: context.now)
  if case .valid(let voucher) = verification { return (voucher, campaigns) }
  if acceptInvalidDates, let voucher = verification.voucher { return (voucher, campaigns) }
  if case .malformed(let problem) = verification { context.console.error("code: \(problem)") }
  try printOutcome(Outcome(input: text, verification), format: format, context)
  return nil
}
