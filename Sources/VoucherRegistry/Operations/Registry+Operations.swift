import FoundationEssentials
import VoucherKit

extension Registry {
  /// Records one use of a genuine, valid code.
  ///
  /// In order: a request id seen before for this code gets the original receipt; a blocked code
  /// answers blocked; a code with every use spent answers used up, naming the latest redemption;
  /// a code claimed by another profile answers claimed-by-other (without a profile, the claim's
  /// profile is inherited). Otherwise one record is appended and synced before the answer.
  ///
  /// - Parameters:
  ///   - voucher: The code, verified `valid` for this venue and moment.
  ///   - store: The store, or `nil` for an online redemption.
  ///   - terminal: The till.
  ///   - profile: The customer profile, if known at the till.
  ///   - request: The client's idempotency key.
  ///   - now: The time to record.
  public func redeem(
    _ voucher: Voucher, store: StoreID?, terminal: TerminalID? = nil, profile: ProfileID? = nil, request: RequestID? = nil, now: Date
  ) throws(RegistryError) -> RedeemAnswer {
    try locked(writing: true) { () throws(RegistryError) -> RedeemAnswer in
      let (index, payload) = try locate(voucher)
      let entry = try index.entry(payload: payload)
      let chain = try events(from: entry.last)
      if let request {
        for (offset, record) in chain {
          if case .redeem(_, _, _, _, let seen, _) = record.body, seen == request.rawValue {
            return .redeemed(receipt(record, at: offset, campaign: voucher.campaign), replayed: true)
          }
        }
      }
      if let block = try blockInfo(voucher) { return .blocked(block) }
      if Int(entry.uses) >= voucher.campaign.uses {
        return .usedUp(last: liveRedemptions(chain).first.map { receipt($0.1, at: $0.0, campaign: voucher.campaign) })
      }
      var profile = profile
      if entry.isClaimed, let claimed = latestClaim(chain) {
        if let profile, profile.rawValue != claimed { return .claimedByOther }
        profile = try? ProfileID(claimed)
      }
      let record = Record(
        time: milliseconds(now), code: CodeRef(slot: voucher.campaign.slot.rawValue, payload: payload), previous: entry.last,
        body: .redeem(
          venue: store == nil ? Record.venueOnline : Record.venueStore, store: store?.rawValue, terminal: terminal?.rawValue,
          profile: profile?.rawValue, request: request?.rawValue, usesAfter: entry.uses + 1))
      let offset = try append(record)
      return .redeemed(receipt(record, at: offset, campaign: voucher.campaign), replayed: false)
    }
  }

  /// Undoes the latest live redemption of a code (a return, a cancelled sale).
  public func void(_ voucher: Voucher, reason: Reason? = nil, request: RequestID? = nil, now: Date) throws(RegistryError) -> VoidAnswer {
    try locked(writing: true) { () throws(RegistryError) -> VoidAnswer in
      let (index, payload) = try locate(voucher)
      let entry = try index.entry(payload: payload)
      let chain = try events(from: entry.last)
      if let request {
        for (_, record) in chain {
          if case .void(let voided, _, let seen) = record.body, seen == request.rawValue {
            let (redemption, _) = try journal.record(at: voided)
            return .voided(receipt(redemption, at: voided, campaign: voucher.campaign), usesLeft: voucher.campaign.uses - Int(entry.uses), replayed: true)
          }
        }
      }
      guard let (voided, redemption) = liveRedemptions(chain).first else { return .notRedeemed }
      let record = Record(
        time: milliseconds(now), code: CodeRef(slot: voucher.campaign.slot.rawValue, payload: payload), previous: entry.last,
        body: .void(voided: voided, reason: reason?.rawValue, request: request?.rawValue))
      try append(record)
      return .voided(receipt(redemption, at: voided, campaign: voucher.campaign), usesLeft: voucher.campaign.uses - Int(entry.uses) + 1, replayed: false)
    }
  }

  /// Links a code to a customer profile (an online registration of a scratch card), before or
  /// after it is redeemed.
  public func claim(_ voucher: Voucher, profile: ProfileID, now: Date) throws(RegistryError) -> ClaimAnswer {
    try locked(writing: true) { () throws(RegistryError) -> ClaimAnswer in
      let (index, payload) = try locate(voucher)
      let entry = try index.entry(payload: payload)
      let chain = try events(from: entry.last)
      if entry.isClaimed, let claimed = latestClaim(chain) {
        guard claimed == profile.rawValue else { return .claimedByOther }
        let time = chain.first { if case .claim = $0.1.body { return true } else { return false } }.map { date($0.1.time) } ?? now
        return .claimed(profile, time: time, replayed: true)
      }
      if let block = try blockInfo(voucher) { return .blocked(block) }
      let record = Record(
        time: milliseconds(now), code: CodeRef(slot: voucher.campaign.slot.rawValue, payload: payload), previous: entry.last,
        body: .claim(profile: profile.rawValue))
      try append(record)
      return .claimed(profile, time: now, replayed: false)
    }
  }

  /// Blocks (or unblocks) a range of serials of a campaign channel: a lost or stolen batch.
  ///
  /// - Returns: How many serials the range holds.
  @discardableResult
  public func block(
    campaign: Campaign, channel: ChannelID, serials: ClosedRange<Int>, reason: Reason?, unblock: Bool = false, now: Date
  ) throws(RegistryError) -> Int {
    guard let channelIndex = campaign.channelIndex(channel) else { preconditionFailure("the channel is checked by the caller") }
    return try locked(writing: true) { () throws(RegistryError) -> Int in
      let range = SerialRange(campaign: campaign.id.rawValue, channel: channelIndex, first: serials.lowerBound, last: serials.upperBound)
      try append(Record(time: milliseconds(now), code: nil, previous: 0, body: unblock ? .unblock(range, reason: reason?.rawValue) : .block(range, reason: reason?.rawValue)))
      return serials.count
    }
  }

  /// What the registry knows of a code: live uses, block, latest redemption.
  public func status(of voucher: Voucher) throws(RegistryError) -> CodeStatus {
    try locked(writing: false) { () throws(RegistryError) -> CodeStatus in
      let (index, payload) = try locate(voucher)
      let entry = try index.entry(payload: payload)
      let last = try liveRedemptions(events(from: entry.last)).first.map { receipt($0.1, at: $0.0, campaign: voucher.campaign) }
      return CodeStatus(uses: Int(entry.uses), block: try blockInfo(voucher), lastRedemption: last)
    }
  }

  /// Every event of a code, oldest first: redemptions, voids, claims, and blocks of its range.
  public func history(of voucher: Voucher) throws(RegistryError) -> [Event] {
    try locked(writing: false) { () throws(RegistryError) -> [Event] in
      let (index, payload) = try locate(voucher)
      var records = try events(from: try index.entry(payload: payload).last)
      for offset in blocks.records(campaign: voucher.campaign.id.rawValue, channel: voucher.channelIndex, serial: voucher.serial) where offset < end {
        records.append((offset, try journal.record(at: offset).record))
      }
      return records.sorted { $0.0 < $1.0 }.map { offset, record in event(record, at: offset) }
    }
  }

  // MARK: - Helpers

  /// The index and payload of a code.
  private func locate(_ voucher: Voucher) throws(RegistryError) -> (CampaignIndex, UInt32) {
    (try index(for: voucher.campaign), voucher.campaign.payload(channel: voucher.channelIndex, serial: voucher.serial))
  }

  /// A code's events, newest first, by walking its chain back through the journal. Every record
  /// read is checked: damage is reported, never skipped.
  func events(from last: Int64) throws(RegistryError) -> [(Int64, Record)] {
    var chain: [(Int64, Record)] = []
    var next = last
    while next > 0 {
      let offset = next - 1
      guard offset >= Journal.headerSize, offset < end else {
        throw .damaged(path: journalPath, offset: offset, reason: "an index entry points outside the journal")
      }
      let record = try journal.record(at: offset).record
      guard record.previous < next else {
        throw .damaged(path: journalPath, offset: offset, reason: "a record's chain does not lead backwards")
      }
      chain.append((offset, record))
      next = record.previous
    }
    return chain
  }

  /// Redemptions not undone by a void, newest first.
  func liveRedemptions(_ chain: [(Int64, Record)]) -> [(Int64, Record)] {
    var voided = Set<Int64>()
    var live: [(Int64, Record)] = []
    for (offset, record) in chain {
      switch record.body {
      case .void(let target, _, _): voided.insert(target)
      case .redeem where !voided.contains(offset): live.append((offset, record))
      default: break
      }
    }
    return live
  }

  /// The profile of the latest claim.
  func latestClaim(_ chain: [(Int64, Record)]) -> String? {
    for (_, record) in chain { if case .claim(let profile) = record.body { return profile } }
    return nil
  }

  private func blockInfo(_ voucher: Voucher) throws(RegistryError) -> BlockInfo? {
    guard let offset = blocks.blockingRecord(campaign: voucher.campaign.id.rawValue, channel: voucher.channelIndex, serial: voucher.serial) else {
      return nil
    }
    let record = try journal.record(at: offset).record
    if case .block(_, let reason) = record.body { return BlockInfo(since: date(record.time), reason: reason) }
    return BlockInfo(since: date(record.time), reason: nil)
  }

  func receipt(_ record: Record, at offset: Int64, campaign: Campaign) -> Receipt {
    guard case .redeem(let venue, let store, let terminal, let profile, let request, let usesAfter) = record.body else {
      preconditionFailure("a receipt is made of a redeem record")
    }
    return Receipt(
      time: date(record.time), venue: venue == Record.venueOnline ? .online : .store, store: store.flatMap { try? StoreID($0) },
      terminal: terminal.flatMap { try? TerminalID($0) }, profile: profile.flatMap { try? ProfileID($0) },
      request: request.flatMap { try? RequestID($0) }, usesLeft: max(0, campaign.uses - Int(usesAfter)), offset: offset)
  }

  func event(_ record: Record, at offset: Int64) -> Event {
    switch record.body {
    case .redeem(let venue, let store, let terminal, let profile, let request, _):
      return Event(kind: .redeemed, time: date(record.time), offset: offset, venue: venue == Record.venueOnline ? .online : .store,
                   store: store, terminal: terminal, profile: profile, request: request, reason: nil)
    case .void(_, let reason, let request):
      return Event(kind: .voided, time: date(record.time), offset: offset, venue: nil, store: nil, terminal: nil, profile: nil, request: request, reason: reason)
    case .claim(let profile):
      return Event(kind: .claimed, time: date(record.time), offset: offset, venue: nil, store: nil, terminal: nil, profile: profile, request: nil, reason: nil)
    case .block(_, let reason):
      return Event(kind: .blocked, time: date(record.time), offset: offset, venue: nil, store: nil, terminal: nil, profile: nil, request: nil, reason: reason)
    case .unblock(_, let reason):
      return Event(kind: .unblocked, time: date(record.time), offset: offset, venue: nil, store: nil, terminal: nil, profile: nil, request: nil, reason: reason)
    }
  }
}

/// Milliseconds since 1970.
func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded(.down)) }

/// A date from milliseconds since 1970.
func date(_ milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }
