import FoundationEssentials
import VoucherKit

/// An event a rule asks the store to record, atomically with the operation's answer.
package enum NewEvent: Sendable, Hashable {
  /// One use; `usesAfter` counts the live uses once it is recorded.
  case redeem(
    venue: Venue, store: StoreID?, terminal: TerminalID?, profile: ProfileID?,
    request: RequestID?, usesAfter: Int)
  /// Undo the redemption `target`.
  case void(target: EventID, reason: Reason?, request: RequestID?)
  /// Link the code to a profile, with the prize it wins.
  case claim(profile: ProfileID, prize: PrizeName?)
}

/// What a rule decided: an answer from the history alone, or an event to record first.
package enum Decision<Answer> {
  /// Nothing to record: this is the answer.
  case answer(Answer)
  /// Record `event`; the answer follows from the id and time the store gave it.
  case record(NewEvent, answer: (EventID, Date) -> Answer)
}

/// The decisions of the registry, once, over plain values: every store reads a code's history
/// and its block under its own isolation (the file registry under its lock, PostgreSQL in a
/// transaction), asks these rules, and records what they say.
///
/// In order, for a redemption: a request id seen before for this code gets the original receipt;
/// a blocked code answers blocked; a code with every use spent answers used up, naming the
/// latest live redemption; a code claimed by another profile answers claimed-by-other (without a
/// profile, the claim's profile is inherited); a profile (given or inherited) that has used up
/// its campaign's per-profile limit in the current period answers profile-limit. Otherwise one
/// use is recorded.
package struct RedemptionRules {
  /// The code's campaign: its uses.
  package let campaign: Campaign
  /// The code's events, newest first.
  package let history: CodeHistory
  /// The block that applies to the code, if any.
  package let block: BlockInfo?
  /// The profiles' counts, for a campaign with per-profile limits (`nil`: no limit applies).
  package let limits: LimitCount?

  package init(
    campaign: Campaign, history: CodeHistory, block: BlockInfo?, limits: LimitCount? = nil
  ) {
    self.campaign = campaign
    self.history = history
    self.block = block
    self.limits = limits
  }

  /// The same rules with a profile's counts for the campaign's limits.
  package func counting(_ limits: LimitCount) -> RedemptionRules {
    RedemptionRules(campaign: campaign, history: history, block: block, limits: limits)
  }

  /// The profile a redemption would count towards: the one given, else the one that claimed the
  /// code (`nil` for an anonymous redemption, or a claim whose profile was erased).
  package func countedProfile(given: ProfileID?) -> ProfileID? {
    if let given { return given }
    if let claim = history.claim, case .claimed(let claimed, _) = claim.kind {
      return claimed.flatMap { try? ProfileID($0) }
    }
    return nil
  }

  /// The end of the period in which `profile` has no redemption left (`.some(nil)`: the whole
  /// campaign), or `nil` when it may redeem.
  private func redemptionLimitReached(_ profile: ProfileID) -> Date?? {
    guard let limits, let settings = campaign.limits, let most = settings.redemptions else {
      return nil
    }
    let window = settings.window(at: limits.now, zone: campaign.limitZone)
    let counted = limits.uses(profile).redemptions.filter { time in
      window.map { time >= $0.start && time < $0.end } ?? true
    }
    return counted.count >= most ? .some(window?.end) : nil
  }

  /// The receipt of a redemption event.
  package func receipt(_ event: CodeEvent) -> Receipt {
    guard case .redeemed(let venue, let store, let terminal, let profile, let request, let after) =
      event.kind
    else {
      preconditionFailure("a receipt is made of a redemption")
    }
    return Receipt(
      time: event.time, venue: venue, store: store.flatMap { try? StoreID($0) },
      terminal: terminal.flatMap { try? TerminalID($0) },
      profile: profile.flatMap { try? ProfileID($0) },
      request: request.flatMap { try? RequestID($0) },
      usesLeft: max(0, campaign.uses - after), id: event.id)
  }

  /// Live uses now.
  package var uses: Int { history.liveRedemptions.count }

  /// What `verify` shows.
  package var status: CodeStatus {
    CodeStatus(uses: uses, block: block, lastRedemption: history.liveRedemptions.first.map(receipt))
  }

  package func redeem(
    store: StoreID?, terminal: TerminalID?, profile: ProfileID?, request: RequestID?
  ) -> Decision<RedeemAnswer> {
    if let request {
      for event in history.events {
        if case .redeemed(_, _, _, _, let seen, _) = event.kind, seen == request.rawValue {
          return .answer(.redeemed(receipt(event), replayed: true))
        }
      }
    }
    if let block { return .answer(.blocked(block)) }
    let live = history.liveRedemptions
    if live.count >= campaign.uses { return .answer(.usedUp(last: live.first.map(receipt))) }
    var profile = profile
    if let claim = history.claim, case .claimed(let claimed, _) = claim.kind {
      // An erased claim is a claim by nobody who can be named: no profile matches it.
      if let given = profile, given.rawValue != claimed { return .answer(.claimedByOther) }
      profile = claimed.flatMap { try? ProfileID($0) }
    }
    if let profile, let until = redemptionLimitReached(profile) {
      return .answer(.profileLimit(until: until))
    }
    let usesAfter = live.count + 1
    let venue: Venue = store == nil ? .online : .store
    let event = NewEvent.redeem(
      venue: venue, store: store, terminal: terminal, profile: profile, request: request,
      usesAfter: usesAfter)
    return .record(event) { id, time in
      .redeemed(
        Receipt(
          time: time, venue: venue, store: store, terminal: terminal, profile: profile,
          request: request, usesLeft: max(0, campaign.uses - usesAfter), id: id),
        replayed: false)
    }
  }

  package func void(reason: Reason?, request: RequestID?) -> Decision<VoidAnswer> {
    let live = history.liveRedemptions
    if let request {
      for event in history.events {
        if case .voided(let target, _, let seen) = event.kind, seen == request.rawValue,
          let redemption = history.events.first(where: { $0.id == target }),
          case .redeemed = redemption.kind
        {
          return .answer(
            .voided(receipt(redemption), usesLeft: campaign.uses - live.count, replayed: true))
        }
      }
    }
    guard let redemption = live.first else { return .answer(.notRedeemed) }
    let usesLeft = campaign.uses - live.count + 1
    return .record(.void(target: redemption.id, reason: reason, request: request)) { _, _ in
      .voided(receipt(redemption), usesLeft: usesLeft, replayed: false)
    }
  }

  /// A claim: the first one records `prize` with it; a claim again by the same profile answers
  /// the prize recorded then (never a second award), another profile gets none.
  package func claim(profile: ProfileID, prize: PrizeName? = nil) -> Decision<ClaimAnswer> {
    if let claim = history.claim, case .claimed(let claimed, let won) = claim.kind {
      guard claimed == profile.rawValue else { return .answer(.claimedByOther) }
      return .answer(
        .claimed(profile, time: claim.time, replayed: true, prize: won.flatMap(PrizeName.init)))
    }
    if let block { return .answer(.blocked(block)) }
    if let limits, let most = campaign.limits?.claims, limits.uses(profile).claims >= most {
      return .answer(.profileLimit)
    }
    return .record(.claim(profile: profile, prize: prize)) { _, time in
      .claimed(profile, time: time, replayed: false, prize: prize)
    }
  }
}
