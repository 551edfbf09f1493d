import FoundationEssentials
import VoucherKit

extension Registry {
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
    // Lock-free: the journal's end known here may be behind another process's appends.
    let chain = try self.chain(from: entry.last, end: nil)
    // The entry (one word, read at once) and its chain agree unless the index is damaged.
    try checkEntry(entry, chain: chain, of: voucher)
    return try rules(voucher, chain: chain).status
  }

  /// A code's events, newest first, following the chain backwards from its latest event
  /// (offset + 1, as an index entry keeps it): the one chain walk.
  ///
  /// - Parameters:
  ///   - pending: Records of a batch not yet written, by offset.
  ///   - end: The journal's end, when known (under the lock): a link beyond it is damage.
  func chain(from last: Int64, pending: [Int64: Record] = [:], end: Int64?) throws(RegistryError)
    -> [(Int64, Record)]
  {
    var chain: [(Int64, Record)] = []
    var next = last
    while next > 0 {
      let offset = next - 1
      let record: Record
      if let waiting = pending[offset] {
        record = waiting
      } else {
        guard offset >= Journal.headerSize, offset < (end ?? .max) else {
          throw .damaged(
            path: journalPath, offset: offset, reason: "an index entry points outside the journal")
        }
        record = try journal.record(at: offset).record
      }
      guard record.previous < next else {
        throw .damaged(
          path: journalPath, offset: offset, reason: "a record's chain does not lead backwards")
      }
      chain.append((offset, record))
      next = record.previous
    }
    return chain
  }

  // MARK: - Operations within a batch

  /// The rules for a code, over its history read from its chain of records.
  func rules(_ voucher: Voucher, chain: [(Int64, Record)]) throws(RegistryError)
    -> RedemptionRules
  {
    RedemptionRules(
      campaign: voucher.campaign,
      history: CodeHistory(newestFirst: chain.compactMap { codeEvent($0.1, at: $0.0) }),
      block: try blockInfo(voucher))
  }

  /// Asks the rules for a code in a batch and records what they decide in the batch.
  ///
  /// - Parameter counted: The profile the operation would count towards under the campaign's
  ///   per-profile limits, if any: its uses are counted under the lock before the rules decide.
  func decide<Answer>(
    _ voucher: Voucher, now: Date, in batch: Batch,
    counting counted: (RedemptionRules) -> ProfileID? = { _ in nil },
    _ rule: (RedemptionRules) -> Decision<Answer>
  ) throws(RegistryError) -> Answer {
    let (code, entry, chain) = try batch.checkedHistory(voucher)
    var rules = try rules(voucher, chain: chain)
    if voucher.campaign.limits != nil, let profile = counted(rules) {
      let period = voucher.campaign.limits?.window(at: now, zone: voucher.campaign.limitZone)
      let uses = try profileUses(
        profile, of: voucher.campaign, since: period.map { milliseconds($0.start) }, in: batch)
      rules = rules.counting(LimitCount(now: now) { $0 == profile ? uses : ProfileUses() })
    }
    switch rule(rules) {
    case .answer(let answer):
      return answer
    case .record(let event, let answer):
      let record = Record(
        time: milliseconds(now), code: code, previous: entry.last, body: Record.Body(event))
      let offset = batch.add(record, for: voucher, entry: entry)
      return answer(EventID(offset), date(record.time))
    }
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
      let batch = Batch(registry: self)
      _ = batch.add(
        Record(
          time: milliseconds(now), code: nil, previous: 0,
          body: unblock
            ? .unblock(range, reason: reason?.rawValue) : .block(range, reason: reason?.rawValue)))
      try commit(batch)
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
      reason: reason)
  }

  /// The block in force over a code (``BlockInfo/inForce(_:)``): the block list names the
  /// records of the ranges holding it, which are read only when the latest one blocks.
  private func blockInfo(_ voucher: Voucher) throws(RegistryError) -> BlockInfo? {
    let campaign = voucher.campaign.id.rawValue
    guard
      blocks.blockingRecord(
        campaign: campaign, channel: voucher.channelIndex, serial: voucher.serial) != nil
    else {
      return nil
    }
    var events: [BlockInfo.RangeEvent] = []
    for offset in blocks.records(
      campaign: campaign, channel: voucher.channelIndex, serial: voucher.serial)
    {
      let record = try journal.record(at: offset).record
      switch record.body {
      case .block(_, let reason):
        events.append(.init(blocked: true, time: date(record.time), reason: reason))
      case .unblock(_, let reason):
        events.append(.init(blocked: false, time: date(record.time), reason: reason))
      default:
        continue
      }
    }
    return BlockInfo.inForce(events)
  }

  /// A code event as the rules see it (`nil` for a block record).
  func codeEvent(_ record: Record, at offset: Int64) -> CodeEvent? {
    let kind: CodeEvent.Kind
    switch record.body {
    case .redeem(let venue, let store, let terminal, let profile, let request, let usesAfter):
      kind = .redeemed(
        venue: venue == Record.venueOnline ? .online : .store, store: store, terminal: terminal,
        profile: Record.visibleProfile(profile), request: request, usesAfter: Int(usesAfter))
    case .void(let voided, let reason, let request):
      kind = .voided(target: EventID(voided), reason: reason, request: request)
    case .claim(let profile, let prize):
      kind = .claimed(profile: Record.visibleProfile(profile), prize: prize)
    case .block, .unblock:
      return nil
    }
    return CodeEvent(id: EventID(offset), time: date(record.time), kind: kind)
  }

  func event(_ record: Record, at offset: Int64) -> Event {
    switch record.body {
    case .redeem(let venue, let store, let terminal, let profile, let request, _):
      return Event(
        kind: .redeemed, time: date(record.time), id: EventID(offset),
        venue: venue == Record.venueOnline ? .online : .store,
        store: store, terminal: terminal, profile: Record.visibleProfile(profile),
        profileErased: Record.isErased(profile), request: request, reason: nil)
    case .void(_, let reason, let request):
      return Event(
        kind: .voided, time: date(record.time), id: EventID(offset), venue: nil, store: nil,
        terminal: nil, profile: nil, request: request, reason: reason)
    case .claim(let profile, _):
      return Event(
        kind: .claimed, time: date(record.time), id: EventID(offset), venue: nil, store: nil,
        terminal: nil, profile: Record.visibleProfile(profile),
        profileErased: Record.isErased(profile), request: nil, reason: nil)
    case .block(_, let reason):
      return Event(
        kind: .blocked, time: date(record.time), id: EventID(offset), venue: nil, store: nil,
        terminal: nil, profile: nil, request: nil, reason: reason)
    case .unblock(_, let reason):
      return Event(
        kind: .unblocked, time: date(record.time), id: EventID(offset), venue: nil, store: nil,
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

extension Record.Body {
  /// The record of an event the rules decided on.
  init(_ event: NewEvent) {
    switch event {
    case .redeem(let venue, let store, let terminal, let profile, let request, let usesAfter):
      self = .redeem(
        venue: venue == .online ? Record.venueOnline : Record.venueStore, store: store?.rawValue,
        terminal: terminal?.rawValue, profile: profile?.rawValue, request: request?.rawValue,
        usesAfter: UInt8(clamping: usesAfter))
    case .void(let target, let reason, let request):
      self = .void(voided: target.value, reason: reason?.rawValue, request: request?.rawValue)
    case .claim(let profile, let prize):
      self = .claim(profile: profile.rawValue, prize: prize?.rawValue)
    }
  }
}
