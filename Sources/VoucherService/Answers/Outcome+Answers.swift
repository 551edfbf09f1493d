import VoucherKit
import VoucherRegistry

/// The answers of the registry, as outcomes.
extension Outcome {
  /// The answer to a redemption: `redeemed` (or `replayed`), `used-up`, `blocked`,
  /// `claimed-by-other` or `profile-limit` (with `until`, the period's end).
  ///
  /// - Parameters:
  ///   - text: The code as given.
  ///   - voucher: The genuine code.
  ///   - answer: The registry's answer.
  ///   - zone: The zone its times are shown in.
  public init(input text: String, voucher: Voucher, _ answer: RedeemAnswer, zone: ZoneRules = .utc) {
    var outcome: Outcome
    switch answer {
    case .redeemed(let receipt, let replayed):
      outcome = Outcome(input: text, voucher: voucher, status: "redeemed")
      outcome.add(receipt, zone: zone)
      outcome.replayed = replayed
      outcome.message =
        "\(replayed ? "already redeemed under this request" : "redeemed") \(Outcome.place(receipt, zone: zone)); \(receipt.usesLeft) use\(receipt.usesLeft == 1 ? "" : "s") left"
    case .usedUp(let last):
      outcome = Outcome(input: text, voucher: voucher, status: "used-up")
      if let last { outcome.add(last, zone: zone) }
      outcome.usesLeft = 0
      outcome.message = last.map { "already used \(Outcome.place($0, zone: zone))" } ?? "every use is spent"
    case .blocked(let block):
      outcome = .blocked(text, voucher, block, zone: zone)
    case .claimedByOther:
      outcome = .claimedByOther(text, voucher)
    case .profileLimit(let until):
      outcome = Outcome(input: text, voucher: voucher, status: Outcome.profileLimitStatus)
      outcome.until = until.map { zone.format($0) }
      outcome.message =
        "this customer has redeemed as many codes of the campaign as allowed"
        + (until.map { " until \(zone.format($0))" } ?? "")
    }
    self = outcome
  }

  /// The answer to a void: `voided` (or `replayed`) or `not-redeemed`.
  ///
  /// - Parameters:
  ///   - text: The code as given.
  ///   - voucher: The genuine code.
  ///   - answer: The registry's answer.
  ///   - zone: The zone its times are shown in.
  public init(input text: String, voucher: Voucher, _ answer: VoidAnswer, zone: ZoneRules = .utc) {
    var outcome: Outcome
    switch answer {
    case .voided(let receipt, let usesLeft, let replayed):
      outcome = Outcome(input: text, voucher: voucher, status: "voided")
      outcome.add(receipt, zone: zone)
      outcome.usesLeft = usesLeft
      outcome.replayed = replayed
      outcome.message =
        "undid the redemption \(Outcome.place(receipt, zone: zone)); \(usesLeft) use\(usesLeft == 1 ? "" : "s") left"
    case .notRedeemed:
      outcome = Outcome(input: text, voucher: voucher, status: "not-redeemed")
      outcome.message = "the code has no redemption to undo"
    }
    self = outcome
  }

  /// The answer to a claim: `claimed` (or `replayed`), `claimed-by-other`, `blocked` or
  /// `profile-limit`. A `claimed` answer names the prize the claim won, or none
  /// (`"prize": null`).
  ///
  /// - Parameters:
  ///   - text: The code as given.
  ///   - voucher: The genuine code.
  ///   - answer: The registry's answer.
  ///   - zone: The zone its times are shown in.
  public init(input text: String, voucher: Voucher, _ answer: ClaimAnswer, zone: ZoneRules = .utc) {
    var outcome: Outcome
    switch answer {
    case .claimed(let profile, let time, let replayed, let prize):
      outcome = Outcome(input: text, voucher: voucher, status: "claimed")
      outcome.profile = profile.rawValue
      outcome.time = zone.format(time)
      outcome.replayed = replayed
      outcome.prize = .some(prize?.rawValue)
      outcome.message =
        "linked to profile \(profile)\(replayed ? " since \(zone.format(time))" : "")"
        + (prize.map { "; prize won: \($0)" } ?? "; no prize")
    case .claimedByOther:
      outcome = .claimedByOther(text, voucher)
    case .blocked(let block):
      outcome = .blocked(text, voucher, block, zone: zone)
    case .profileLimit:
      outcome = Outcome(input: text, voucher: voucher, status: Outcome.profileLimitStatus)
      outcome.message = "this customer has claimed as many codes of the campaign as allowed"
    }
    self = outcome
  }

  /// The status word of a refusal by a per-profile limit.
  public static let profileLimitStatus = "profile-limit"

  /// The answer to `history`: the code's events, oldest first.
  ///
  /// - Parameters:
  ///   - text: The code as given.
  ///   - voucher: The genuine code.
  ///   - events: Its events.
  ///   - zone: The zone their times are shown in.
  public init(input text: String, voucher: Voucher, history events: [Event], zone: ZoneRules = .utc) {
    self.init(input: text, voucher: voucher, status: "history")
    message = nil
    self.events = events
    self.zone = zone
  }

  /// A code whose batch is blocked: the answer of a redemption and of a claim alike.
  static func blocked(_ text: String, _ voucher: Voucher, _ block: BlockInfo, zone: ZoneRules)
    -> Outcome
  {
    var outcome = Outcome(input: text, voucher: voucher, status: "blocked")
    outcome.reason = block.reason
    outcome.message =
      "its batch was blocked \(zone.format(block.since))" + (block.reason.map { ": \($0)" } ?? "")
    return outcome
  }

  /// A code another profile claimed: the answer of a redemption and of a claim alike.
  private static func claimedByOther(_ text: String, _ voucher: Voucher) -> Outcome {
    var outcome = Outcome(input: text, voucher: voucher, status: "claimed-by-other")
    outcome.message = "registered online by another customer"
    return outcome
  }
}
