import FoundationEssentials
import VoucherKit
import VoucherRegistry

/// One answer about a code, from `verify`, `redeem`, `void`, `claim` or `history`, as every
/// front end shows it: the CLI's text and `--format json`, `serve`'s JSON Lines, HTTP bodies,
/// all through one encoder (``json(id:)``).
///
/// The fields are the JSON keys; `status` is the word clients branch on (`valid`, `redeemed`,
/// `used-up`, `mistyped`, ...) and `message` says it in words.
public struct Outcome: Sendable {
  /// The code as given (at most 256 characters, then "…").
  public var input: String
  /// The canonical code, or the input when it could not be read.
  public var code: String
  /// What the answer is: a verification status or a registry answer.
  public var status: String
  /// The answer in words; `nil` for a plain `valid` or a `history`.
  public var message: String?
  /// A genuine code's campaign.
  public var campaign: String?
  /// A genuine code's channel.
  public var channel: String?
  /// A genuine code's serial.
  public var serial: Int?
  /// A genuine code's campaign title.
  public var title: String?
  /// The likely intended code of a mistyped one.
  public var suggestion: String?
  /// When a receipt's redemption or a claim happened (ISO 8601).
  public var time: String?
  /// A receipt's venue: `store` or `online`.
  public var venue: String?
  /// A receipt's store.
  public var store: String?
  /// A receipt's till.
  public var terminal: String?
  /// A receipt's or a claim's profile.
  public var profile: String?
  /// A receipt's request id.
  public var request: String?
  /// Uses left.
  public var usesLeft: Int?
  /// Whether a repeated request id got the original answer.
  public var replayed: Bool?
  /// A claim's prize: `.some(nil)` for a claim that won none (JSON `null`); `nil`, no key at
  /// all, for every answer but a claim's, so that `verify`, `redeem` and `history` cannot tell a
  /// winning code from another.
  public var prize: String?? = nil
  /// A void's or a block's reason.
  public var reason: String?
  /// A `profile-limit`'s end of the period (ISO 8601) after which the profile may redeem again;
  /// `nil` when the limit is for the whole campaign (JSON `null`).
  public var until: String?
  /// The events of `history`, oldest first.
  public var events: [Event]?
  /// The zone the events' times are shown in.
  public var zone: ZoneRules = .utc


  /// An answer about a code as verification sees it: `valid`, or why not.
  ///
  /// - Parameters:
  ///   - input: The code as given.
  ///   - verification: What the verifier said.
  public init(input: String, _ verification: Verification) {
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
  ///
  /// - Parameters:
  ///   - input: The code as given.
  ///   - voucher: The genuine code.
  ///   - status: The registry's answer.
  public init(input: String, voucher: Voucher, status: String) {
    self.init(input: input, .valid(voucher))
    self.status = status
  }

  /// A valid code's answer with what the registry knows: uses left, or used up, or blocked.
  ///
  /// - Parameters:
  ///   - input: The code as given.
  ///   - voucher: The genuine, valid code.
  ///   - status: What the registry knows of it.
  ///   - zone: The zone its times are shown in.
  /// - Returns: `valid` with the uses left, `used-up` or `blocked`.
  public static func verified(
    _ input: String, _ voucher: Voucher, _ status: CodeStatus, zone: ZoneRules = .utc
  ) -> Outcome {
    if let block = status.block {
      var outcome = blocked(input, voucher, block, zone: zone)
      outcome.usesLeft = max(0, voucher.campaign.uses - status.uses)
      return outcome
    }
    var outcome = Outcome(input: input, .valid(voucher))
    outcome.usesLeft = max(0, voucher.campaign.uses - status.uses)
    if status.uses >= voucher.campaign.uses {
      outcome.status = "used-up"
      outcome.usesLeft = 0
      if let last = status.lastRedemption {
        outcome.add(last, zone: zone)
        outcome.usesLeft = 0
        outcome.message = "already used \(Outcome.place(last, zone: zone))"
      }
    } else {
      outcome.message = "\(outcome.usesLeft!) use\(outcome.usesLeft == 1 ? "" : "s") left"
    }
    return outcome
  }

  /// Copies a receipt's fields, its time as shown in `zone`.
  public mutating func add(_ receipt: Receipt, zone: ZoneRules = .utc) {
    time = zone.format(receipt.time)
    venue = receipt.venue.rawValue
    store = receipt.store?.rawValue
    terminal = receipt.terminal?.rawValue
    profile = receipt.profile?.rawValue
    request = receipt.request?.rawValue
    usesLeft = receipt.usesLeft
  }

  /// Where and when, as a cashier reads it: "2026-11-22T21:50:03Z in store S12 (terminal T3)".
  public static func place(_ receipt: Receipt, zone: ZoneRules = .utc) -> String {
    var text = zone.format(receipt.time)
    if let store = receipt.store { text += " in store \(store)" } else { text += " online" }
    if let terminal = receipt.terminal { text += " (terminal \(terminal))" }
    return text
  }
}
