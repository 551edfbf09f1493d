import FoundationEssentials
import VoucherKit

/// What a redemption recorded: the till's receipt.
public struct Receipt: Sendable, Hashable {
  /// When the code was redeemed.
  public let time: Date
  /// In a store or online.
  public let venue: Venue
  /// The store, for a store redemption.
  public let store: StoreID?
  /// The till.
  public let terminal: TerminalID?
  /// The customer profile linked to the redemption.
  public let profile: ProfileID?
  /// The client's request id.
  public let request: RequestID?
  /// Uses left after this redemption.
  public let usesLeft: Int
  /// The redemption's identity in the registry.
  public let id: EventID
}

/// The answer to a redemption.
public enum RedeemAnswer: Sendable, Hashable {
  /// Recorded (durably) now, or earlier under the same request id (`replayed`).
  case redeemed(Receipt, replayed: Bool)
  /// Every use is spent; `last` is the latest live redemption.
  case usedUp(last: Receipt?)
  /// The code's serial range is blocked (a lost or stolen batch).
  case blocked(BlockInfo)
  /// Claimed online by another profile than the one given.
  case claimedByOther
  /// The profile (given, or inherited from the code's claim) has redeemed as many codes of the
  /// campaign as its limit allows in the period that ends at `until` (`nil`: the whole campaign).
  case profileLimit(until: Date?)
}

/// The answer to a void.
public enum VoidAnswer: Sendable, Hashable {
  /// The latest live redemption, now undone; `usesLeft` counts after the void.
  case voided(Receipt, usesLeft: Int, replayed: Bool)
  /// The code has no live redemption to undo.
  case notRedeemed
}

/// The answer to a claim.
public enum ClaimAnswer: Sendable, Hashable {
  /// The code is linked to the profile (now, or earlier: `replayed`), with the prize the claim
  /// won, if any (the one recorded with the first claim).
  case claimed(ProfileID, time: Date, replayed: Bool, prize: PrizeName? = nil)
  /// Another profile claimed the code first.
  case claimedByOther
  /// The code's serial range is blocked.
  case blocked(BlockInfo)
  /// The profile has claimed as many codes of the campaign as its limit allows.
  case profileLimit
}

/// A block that applies to a code.
public struct BlockInfo: Sendable, Hashable {
  /// When the range was blocked.
  public let since: Date
  /// Why.
  public let reason: String?
}

/// What the registry knows of a code, for `verify`.
public struct CodeStatus: Sendable, Hashable {
  /// Live uses (redemptions minus voids).
  public let uses: Int
  /// The block that applies, if the code is blocked.
  public let block: BlockInfo?
  /// The latest live redemption.
  public let lastRedemption: Receipt?
}

/// One event in a code's history.
public struct Event: Sendable, Hashable {
  /// What happened.
  public enum Kind: String, Sendable, Hashable {
    case redeemed, voided, claimed, blocked, unblocked
  }

  /// What happened.
  public let kind: Kind
  /// When.
  public let time: Date
  /// The event's identity in the registry.
  public let id: EventID
  /// The venue of a redemption.
  public let venue: Venue?
  /// The store of a redemption.
  public let store: String?
  /// The till of a redemption.
  public let terminal: String?
  /// The profile of a redemption or claim; `nil` when there was none or it was erased.
  public let profile: String?
  /// Whether the event's profile was erased on request (`voucher forget`).
  public var profileErased: Bool = false
  /// The request id of a redemption or void.
  public let request: String?
  /// The reason of a void or block.
  public let reason: String?
}

/// What `registry check` found.
public struct CheckReport: Sendable, Hashable {
  /// Records in the journal.
  public let records: Int
  /// Codes with at least one event.
  public let codes: Int
  /// Damage found, each naming a file and an offset. Empty when the registry is sound.
  public let damage: [RegistryError]
  /// The damage in the registry's own words.
  public var problems: [String] { damage.map(\.description) }
  /// A torn tail not yet repaired: its offset and length. Nothing acknowledged is in it.
  public let tornTail: (offset: Int64, bytes: Int64)?

  public static func == (a: CheckReport, b: CheckReport) -> Bool {
    a.records == b.records && a.codes == b.codes && a.damage == b.damage
      && a.tornTail?.offset == b.tornTail?.offset && a.tornTail?.bytes == b.tornTail?.bytes
  }
  public func hash(into hasher: inout Hasher) {
    hasher.combine(records)
    hasher.combine(damage)
  }
}

// Other stores (a database) make these answers from their own rows.
extension Event {
  package init(
    kind: Kind, at time: Date, id: EventID, venue: Venue?, store: String?, terminal: String?,
    profile: String?, profileErased: Bool, request: String?, reason: String?
  ) {
    self.init(
      kind: kind, time: time, id: id, venue: venue, store: store, terminal: terminal,
      profile: profile, profileErased: profileErased, request: request, reason: reason)
  }
}

extension CheckReport {
  package init(events: Int, codes: Int, damage: [RegistryError]) {
    self.init(records: events, codes: codes, damage: damage, tornTail: nil)
  }
}
