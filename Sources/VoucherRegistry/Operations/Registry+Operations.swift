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
    _ voucher: Voucher, store: StoreID?, terminal: TerminalID? = nil, profile: ProfileID? = nil,
    request: RequestID? = nil, now: Date
  ) throws(RegistryError) -> RedeemAnswer {
    guard
      case .redeem(let answer) = try single(
        .redeem(voucher, store: store, terminal: terminal, profile: profile, request: request),
        now: now)
    else {
      preconditionFailure("one result per operation")
    }
    return answer
  }

  /// Undoes the latest live redemption of a code (a return, a cancelled sale).
  public func void(_ voucher: Voucher, reason: Reason? = nil, request: RequestID? = nil, now: Date)
    throws(RegistryError) -> VoidAnswer
  {
    guard
      case .void(let answer) = try single(
        .void(voucher, reason: reason, request: request), now: now)
    else {
      preconditionFailure("one result per operation")
    }
    return answer
  }

  /// Links a code to a customer profile (an online registration of a scratch card), before or
  /// after it is redeemed. Claiming again with the same profile answers the original claim.
  public func claim(_ voucher: Voucher, profile: ProfileID, now: Date) throws(RegistryError)
    -> ClaimAnswer
  {
    guard case .claim(let answer) = try single(.claim(voucher, profile: profile), now: now)
    else {
      preconditionFailure("one result per operation")
    }
    return answer
  }

  /// What the registry knows of a code: live uses, block, latest redemption.
  public func status(of voucher: Voucher) throws(RegistryError) -> CodeStatus {
    guard case .status(let status) = try single(.status(voucher), now: Date()) else {
      preconditionFailure("one result per operation")
    }
    return status
  }

  /// Every event of a code, oldest first: redemptions, voids, claims, and blocks of its range.
  public func history(of voucher: Voucher) throws(RegistryError) -> [Event] {
    guard case .history(let events) = try single(.history(voucher), now: Date()) else {
      preconditionFailure("one result per operation")
    }
    return events
  }

  /// One operation as a batch of one; its failure is thrown.
  private func single(_ operation: RegistryOperation, now: Date) throws(RegistryError)
    -> RegistryResult
  {
    let result = try perform([operation], now: now)[0]
    if case .failed(let error) = result { throw error }
    return result
  }

  /// What the registry knows of a code, read without the lock (for a long-running reader).
  ///
  /// Index entries are written after their records are durable, and records never change once
  /// acknowledged, so following an entry's chain needs no lock. The answer reflects every
  /// acknowledged write, and may miss one still in flight.
  public func peek(_ voucher: Voucher) throws(RegistryError) -> CodeStatus {
    do {
      return try peekUnlocked(voucher)
    } catch {
      // A record that fails its check may be one `forget` is rewriting: wait for the lock (the
      // rewrite holds it until it is done), then ask again; real damage is thrown then.
      guard case .damaged = error else { throw error }
      try locked(writing: false) {}
      return try peekUnlocked(voucher)
    }
  }

  private func peekUnlocked(_ voucher: Voucher) throws(RegistryError) -> CodeStatus {
    if !isRecovered { try locked(writing: false) {} }
    try refreshBlocks()
    let payload = voucher.campaign.payload(channel: voucher.channelIndex, serial: voucher.serial)
    let index = try existingIndex(for: voucher.campaign)
    let entry = try index?.entry(payload: payload) ?? CodeEntry()
    // An empty entry whose code has events is damage, or a writer caught between its two stores
    // (entry, then bit): `peek` asks again under the lock, where only damage remains.
    if entry.last == 0, try index?.hasEvents(payload: payload) == true {
      throw indexDamage(voucher, "the entry is empty but the code has events")
    }
    var chain: [(Int64, Record)] = []
    var next = entry.last
    while next > 0 {
      let record = try journal.record(at: next - 1).record
      guard record.previous < next else {
        throw .damaged(
          path: journalPath, offset: next - 1, reason: "a record's chain does not lead backwards")
      }
      chain.append((next - 1, record))
      next = record.previous
    }
    // The entry (one word, read at once) and its chain agree unless the index is damaged.
    let live = try checkEntry(entry, chain: chain, of: voucher)
    let last = live.first.map { receipt($0.1, at: $0.0, campaign: voucher.campaign) }
    return CodeStatus(uses: Int(entry.uses), block: try blockInfo(voucher), lastRedemption: last)
  }

  // MARK: - Operations within a batch

  func redeem(
    _ voucher: Voucher, store: StoreID?, terminal: TerminalID?, profile: ProfileID?,
    request: RequestID?, now: Date, in batch: Batch
  ) throws(RegistryError) -> RedeemAnswer {
    let (code, entry, chain) = try batch.checkedHistory(voucher)
    if let request {
      for (offset, record) in chain {
        if case .redeem(_, _, _, _, let seen, _) = record.body, seen == request.rawValue {
          return .redeemed(receipt(record, at: offset, campaign: voucher.campaign), replayed: true)
        }
      }
    }
    if let block = try blockInfo(voucher) { return .blocked(block) }
    if Int(entry.uses) >= voucher.campaign.uses {
      return .usedUp(
        last: liveRedemptions(chain).first.map {
          receipt($0.1, at: $0.0, campaign: voucher.campaign)
        })
    }
    var profile = profile
    if entry.isClaimed, let claimed = latestClaim(chain) {
      if let profile, profile.rawValue != claimed { return .claimedByOther }
      profile = try? ProfileID(claimed)
    }
    let record = Record(
      time: milliseconds(now), code: code, previous: entry.last,
      body: .redeem(
        venue: store == nil ? Record.venueOnline : Record.venueStore, store: store?.rawValue,
        terminal: terminal?.rawValue,
        profile: profile?.rawValue, request: request?.rawValue, usesAfter: entry.uses + 1))
    let offset = batch.add(record, for: voucher, entry: entry)
    return .redeemed(receipt(record, at: offset, campaign: voucher.campaign), replayed: false)
  }

  func void(_ voucher: Voucher, reason: Reason?, request: RequestID?, now: Date, in batch: Batch)
    throws(RegistryError) -> VoidAnswer
  {
    let (code, entry, chain) = try batch.checkedHistory(voucher)
    if let request {
      for (_, record) in chain {
        if case .void(let voided, _, let seen) = record.body, seen == request.rawValue,
          let (_, redemption) = try batch.events(from: voided + 1).first,
          case .redeem = redemption.body
        {
          return .voided(
            receipt(redemption, at: voided, campaign: voucher.campaign),
            usesLeft: voucher.campaign.uses - Int(entry.uses), replayed: true)
        }
      }
    }
    guard let (voided, redemption) = liveRedemptions(chain).first else { return .notRedeemed }
    let record = Record(
      time: milliseconds(now), code: code, previous: entry.last,
      body: .void(voided: voided, reason: reason?.rawValue, request: request?.rawValue))
    _ = batch.add(record, for: voucher, entry: entry)
    return .voided(
      receipt(redemption, at: voided, campaign: voucher.campaign),
      usesLeft: voucher.campaign.uses - Int(entry.uses) + 1, replayed: false)
  }

  func claim(_ voucher: Voucher, profile: ProfileID, now: Date, in batch: Batch)
    throws(RegistryError) -> ClaimAnswer
  {
    let (code, entry, chain) = try batch.checkedHistory(voucher)
    if entry.isClaimed, let claimed = latestClaim(chain) {
      guard claimed == profile.rawValue else { return .claimedByOther }
      let time =
        chain.first { if case .claim = $0.1.body { return true } else { return false } }.map {
          date($0.1.time)
        } ?? now
      return .claimed(profile, time: time, replayed: true)
    }
    if let block = try blockInfo(voucher) { return .blocked(block) }
    _ = batch.add(
      Record(
        time: milliseconds(now), code: code, previous: entry.last,
        body: .claim(profile: profile.rawValue)), for: voucher, entry: entry)
    return .claimed(profile, time: now, replayed: false)
  }

  func status(of voucher: Voucher, in batch: Batch) throws(RegistryError) -> CodeStatus {
    let (_, entry, chain) = try batch.checkedHistory(voucher)
    let last = liveRedemptions(chain).first.map {
      receipt($0.1, at: $0.0, campaign: voucher.campaign)
    }
    return CodeStatus(uses: Int(entry.uses), block: try blockInfo(voucher), lastRedemption: last)
  }

  func history(of voucher: Voucher, in batch: Batch) throws(RegistryError) -> [Event] {
    var records = try batch.checkedHistory(voucher).2
    for offset in blocks.records(
      campaign: voucher.campaign.id.rawValue, channel: voucher.channelIndex, serial: voucher.serial)
    where offset < end {
      records.append((offset, try journal.record(at: offset).record))
    }
    return records.sorted { $0.0 < $1.0 }.map { offset, record in event(record, at: offset) }
  }

  /// Blocks (or unblocks) a range of serials of a campaign channel: a lost or stolen batch.
  ///
  /// - Returns: How many serials the range holds.
  @discardableResult
  public func block(
    campaign: Campaign, channel: ChannelID, serials: ClosedRange<Int>, reason: Reason?,
    unblock: Bool = false, now: Date
  ) throws(RegistryError) -> Int {
    precondition(
      serials.lowerBound >= 1 && serials.upperBound <= campaign.capacity,
      "serials are checked by the caller")
    guard let channelIndex = campaign.channelIndex(channel) else {
      preconditionFailure("the channel is checked by the caller")
    }
    return try locked(writing: true) { () throws(RegistryError) -> Int in
      let range = SerialRange(
        campaign: campaign.id.rawValue, channel: channelIndex, first: serials.lowerBound,
        last: serials.upperBound)
      let journalEnd = end
      do throws(RegistryError) {
        try append(
          Record(
            time: milliseconds(now), code: nil, previous: 0,
            body: unblock
              ? .unblock(range, reason: reason?.rawValue) : .block(range, reason: reason?.rawValue)
          ))
      } catch {
        // Nothing reached the journal: nothing was done.
        guard end > journalEnd else { throw error }
        // The record is durable, so the block is in effect: every later open replays it from
        // the journal into the block list. Failing now would report as undone what is done; a
        // warning names what lags behind instead (and a failed sync fences writes, as always).
        if let path = error.failedSyncPath, !files.exists(fencePath) {
          fence("a sync of \(path) failed at \(ISO8601.format(Date()))")
        }
        warnings.append(
          "the \(unblock ? "unblock" : "block") is recorded in the journal and in effect, but applying it failed (\(error)); the next command applies it again"
        )
      }
      return serials.count
    }
  }

  // MARK: - Helpers

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

  /// Checks a code's index entry against the chain of records it leads to: every record is the
  /// code's, and the entry's live uses and claim flag are what the records say.
  ///
  /// - Returns: The live redemptions, newest first.
  /// - Throws: ``RegistryError/damaged(path:offset:reason:)`` naming the entry.
  @discardableResult
  func checkEntry(_ entry: CodeEntry, chain: [(Int64, Record)], of voucher: Voucher)
    throws(RegistryError) -> [(Int64, Record)]
  {
    let payload = voucher.campaign.payload(channel: voucher.channelIndex, serial: voucher.serial)
    let code = CodeRef(slot: voucher.campaign.slot.rawValue, payload: payload)
    guard chain.allSatisfy({ $0.1.code == code }) else {
      throw indexDamage(voucher, "the entry leads to another code's records")
    }
    let claimed = chain.contains {
      if case .claim = $0.1.body { return true } else { return false }
    }
    let live = liveRedemptions(chain)
    guard live.count == Int(entry.uses), claimed == entry.isClaimed else {
      throw indexDamage(voucher, "the entry does not match the code's records in the journal")
    }
    return live
  }

  /// Damage to a code's index entry, named with its file and offset.
  func indexDamage(_ voucher: Voucher, _ reason: String) -> RegistryError {
    let campaign = voucher.campaign
    let payload = Int(campaign.payload(channel: voucher.channelIndex, serial: voucher.serial))
    return .damaged(
      path: "\(indexFolder)/\(campaign.id).idx",
      offset: CampaignIndex.entryOffset(campaign, payload: payload),
      reason: "\(reason); run 'voucher registry rebuild'")
  }

  /// The profile of the latest claim.
  func latestClaim(_ chain: [(Int64, Record)]) -> String? {
    for (_, record) in chain { if case .claim(let profile) = record.body { return profile } }
    return nil
  }

  private func blockInfo(_ voucher: Voucher) throws(RegistryError) -> BlockInfo? {
    guard
      let offset = blocks.blockingRecord(
        campaign: voucher.campaign.id.rawValue, channel: voucher.channelIndex,
        serial: voucher.serial)
    else {
      return nil
    }
    let record = try journal.record(at: offset).record
    if case .block(_, let reason) = record.body {
      return BlockInfo(since: date(record.time), reason: reason)
    }
    return BlockInfo(since: date(record.time), reason: nil)
  }

  func receipt(_ record: Record, at offset: Int64, campaign: Campaign) -> Receipt {
    guard
      case .redeem(let venue, let store, let terminal, let profile, let request, let usesAfter) =
        record.body
    else {
      preconditionFailure("a receipt is made of a redeem record")
    }
    return Receipt(
      time: date(record.time), venue: venue == Record.venueOnline ? .online : .store,
      store: store.flatMap { try? StoreID($0) },
      terminal: terminal.flatMap { try? TerminalID($0) },
      profile: profile.flatMap { try? ProfileID($0) },
      request: request.flatMap { try? RequestID($0) },
      usesLeft: max(0, campaign.uses - Int(usesAfter)), offset: offset)
  }

  func event(_ record: Record, at offset: Int64) -> Event {
    switch record.body {
    case .redeem(let venue, let store, let terminal, let profile, let request, _):
      return Event(
        kind: .redeemed, time: date(record.time), offset: offset,
        venue: venue == Record.venueOnline ? .online : .store,
        store: store, terminal: terminal, profile: Record.visibleProfile(profile),
        profileErased: Record.isErased(profile), request: request, reason: nil)
    case .void(_, let reason, let request):
      return Event(
        kind: .voided, time: date(record.time), offset: offset, venue: nil, store: nil,
        terminal: nil, profile: nil, request: request, reason: reason)
    case .claim(let profile):
      return Event(
        kind: .claimed, time: date(record.time), offset: offset, venue: nil, store: nil,
        terminal: nil, profile: Record.visibleProfile(profile),
        profileErased: Record.isErased(profile), request: nil, reason: nil)
    case .block(_, let reason):
      return Event(
        kind: .blocked, time: date(record.time), offset: offset, venue: nil, store: nil,
        terminal: nil, profile: nil, request: nil, reason: reason)
    case .unblock(_, let reason):
      return Event(
        kind: .unblocked, time: date(record.time), offset: offset, venue: nil, store: nil,
        terminal: nil, profile: nil, request: nil, reason: reason)
    }
  }
}

/// Milliseconds since 1970.
func milliseconds(_ date: Date) -> Int64 {
  Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
}

/// A date from milliseconds since 1970.
func date(_ milliseconds: Int64) -> Date {
  Date(timeIntervalSince1970: Double(milliseconds) / 1000)
}
