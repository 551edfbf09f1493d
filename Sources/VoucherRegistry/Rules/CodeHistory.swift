import FoundationEssentials
import VoucherKit

/// One event of a code's history as every store keeps it: plain values, no storage detail.
package struct CodeEvent: Sendable, Hashable {
  /// What happened.
  package enum Kind: Sendable, Hashable {
    /// One use; `usesAfter` counts the live uses once it was recorded.
    case redeemed(
      venue: Venue, store: String?, terminal: String?, profile: String?, request: String?,
      usesAfter: Int)
    /// The redemption `target` undone.
    case voided(target: EventID, reason: String?, request: String?)
    /// Linked to a profile (`nil` once the profile was erased on request), with the prize the
    /// claim won.
    case claimed(profile: String?, prize: String? = nil)
  }

  package let id: EventID
  package let time: Date
  package let kind: Kind

  package init(id: EventID, time: Date, kind: Kind) {
    self.id = id
    self.time = time
    self.kind = kind
  }
}

/// A code's events, newest first, as a store read them under its lock (or in its transaction):
/// what the rules decide on.
package struct CodeHistory: Sendable, Hashable {
  /// The events, newest first.
  package let events: [CodeEvent]

  package init(newestFirst events: [CodeEvent]) { self.events = events }

  /// Redemptions not undone by a void, newest first.
  package var liveRedemptions: [CodeEvent] {
    var voided = Set<EventID>()
    var live: [CodeEvent] = []
    for event in events {
      switch event.kind {
      case .voided(let target, _, _): voided.insert(target)
      case .redeemed where !voided.contains(event.id): live.append(event)
      default: break
      }
    }
    return live
  }

  /// The latest claim, if the code was claimed.
  package var claim: CodeEvent? {
    events.first { if case .claimed = $0.kind { return true } else { return false } }
  }
}
