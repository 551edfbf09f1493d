import FoundationEssentials
import VoucherKit

/// One operation of a batch.
public enum RegistryOperation: Sendable {
  /// Record one use (see ``Registry/redeem(_:store:terminal:profile:request:now:)``).
  case redeem(
    Voucher, store: StoreID?, terminal: TerminalID?, profile: ProfileID?, request: RequestID?)
  /// Undo the latest live redemption.
  case void(Voucher, reason: Reason?, request: RequestID?)
  /// Link to a customer profile; `prize` is what the code wins (decided outside the store, from
  /// the campaign's prize allocations), recorded with the claim and answered again on a retry.
  case claim(Voucher, profile: ProfileID, prize: PrizeName? = nil)
  /// Read a code's state.
  case status(Voucher)
  /// Read a code's events.
  case history(Voucher)

  var writes: Bool {
    switch self {
    case .redeem, .void, .claim: return true
    case .status, .history: return false
    }
  }
}

/// The result of one operation of a batch.
public enum RegistryResult: Sendable, Hashable {
  case redeem(RedeemAnswer)
  case void(VoidAnswer)
  case claim(ClaimAnswer)
  case status(CodeStatus)
  case history([Event])
  /// This operation could not be carried out (for example a damaged record in its code's
  /// history); the rest of the batch was.
  case failed(RegistryError)
}

/// The records of one batch before they are durable: later operations of the batch see the
/// earlier ones (a code redeemed twice in one batch is used up the second time), and nothing is
/// answered until the one sync that makes them all durable.
final class Batch {
  unowned let registry: Registry
  /// The bytes to append, in order.
  var bytes: [UInt8] = []
  /// Records not yet written, by offset.
  var records: [Int64: Record] = [:]
  /// Index entries changed by the batch.
  var entries: [CodeRef: (campaign: Campaign, entry: CodeEntry)] = [:]
  /// The offset of each pending record, in order, for the state update.
  var order: [Int64] = []

  init(registry: Registry) {
    self.registry = registry
  }

  /// A code's index entry as the batch sees it.
  func entry(_ voucher: Voucher) throws(RegistryError) -> (CodeRef, CodeEntry) {
    let payload = voucher.campaign.payload(channel: voucher.channelIndex, serial: voucher.serial)
    let code = CodeRef(slot: voucher.campaign.slot.rawValue, payload: payload)
    if let pending = entries[code] { return (code, pending.entry) }
    return (code, try registry.index(for: voucher.campaign).entry(payload: payload))
  }

  /// A code's entry and events (newest first), the entry checked against the events and, when
  /// empty, against the index's bitmap (see ``Registry/checkEntry(_:chain:of:)``): an index entry
  /// damaged on disk is named, never trusted into a second redemption.
  func checkedHistory(_ voucher: Voucher) throws(RegistryError) -> (
    CodeRef, CodeEntry, [(Int64, Record)]
  ) {
    let (code, entry) = try self.entry(voucher)
    if entry.last == 0, entries[code] == nil,
      try registry.index(for: voucher.campaign).hasEvents(payload: code.payload)
    {
      throw registry.indexDamage(voucher, "the entry is empty but the code has events")
    }
    let chain = try events(from: entry.last)
    try registry.checkEntry(entry, chain: chain, of: voucher)
    return (code, entry, chain)
  }

  /// A code's events, newest first, pending ones included.
  func events(from last: Int64) throws(RegistryError) -> [(Int64, Record)] {
    try registry.chain(from: last, pending: records, end: registry.end)
  }

  /// Adds a code event; answers its offset.
  /// Adds a code event; answers its offset.
  func add(_ record: Record, for voucher: Voucher, entry: CodeEntry) -> Int64 {
    let offset = add(record)
    entries[record.code!] = (voucher.campaign, entry.applying(record.body, at: offset))
    return offset
  }

  /// Adds a record; answers its offset.
  func add(_ record: Record) -> Int64 {
    let offset = registry.end + Int64(registry.journal.frameOverhead + bytes.count)
    bytes += record.encoded()
    records[offset] = record
    order.append(offset)
    return offset
  }
}

extension Registry {
  /// Performs several operations under one lock with one sync: group commit. Nothing is
  /// answered until every record of the batch is durable; if the sync fails, no operation of the
  /// batch is answered (the error is thrown) and the registry is fenced.
  ///
  /// - Returns: One result per operation, in order.
  public func perform(_ operations: [RegistryOperation], now: Date) throws(RegistryError)
    -> [RegistryResult]
  {
    let writing = operations.contains { $0.writes }
    return try locked(writing: writing) { () throws(RegistryError) -> [RegistryResult] in
      let batch = Batch(registry: self)
      var results: [RegistryResult] = []
      results.reserveCapacity(operations.count)
      for operation in operations {
        do throws(RegistryError) {
          switch operation {
          case .redeem(let voucher, let store, let terminal, let profile, let request):
            results.append(
              .redeem(
                try decide(
                  voucher, now: now, in: batch, counting: { $0.countedProfile(given: profile) }
                ) {
                  $0.redeem(store: store, terminal: terminal, profile: profile, request: request)
                }))
          case .void(let voucher, let reason, let request):
            results.append(
              .void(
                try decide(voucher, now: now, in: batch) {
                  $0.void(reason: reason, request: request)
                }))
          case .claim(let voucher, let profile, let prize):
            results.append(
              .claim(
                try decide(voucher, now: now, in: batch, counting: { _ in profile }) {
                  $0.claim(profile: profile, prize: prize)
                }))
          case .status(let voucher):
            results.append(
              .status(try rules(voucher, chain: try batch.checkedHistory(voucher).2).status))
          case .history(let voucher):
            results.append(.history(try history(of: voucher, in: batch)))
          }
        } catch {
          // A damaged record in one code's history fails that operation, not the batch; an
          // I/O error fails the whole batch.
          guard case .damaged = error else { throw error }
          results.append(.failed(error))
        }
      }
      try commit(batch)
      return results
    }
  }

  /// Makes a batch durable and applies it: one write, one sync, then the index and block list:
  /// the one write path of every operation.
  ///
  /// The disk space under every index entry the batch changes is allocated first, so that the
  /// index updates after the sync cannot fail. Once the sync returns, the batch is done: a later
  /// problem (writing the block list, a checkpoint) is a warning, and a fence if it was a sync,
  /// never an error for the batch. A block record that could not be applied leaves `applied`
  /// before the batch, so every later operation, in any process, applies it again before it
  /// answers.
  func commit(_ batch: Batch) throws(RegistryError) {
    guard !batch.bytes.isEmpty else { return }
    for (code, pending) in batch.entries {
      try index(for: pending.campaign).reserve(payload: code.payload)
    }
    let offset = end
    let bytes = journal.commitBytes(batch.bytes)
    do {
      try journal.write(bytes, at: offset)
      try journal.sync()
    } catch {
      discardUnsynced(at: offset, count: bytes.count)
      throw error
    }
    end = offset + Int64(bytes.count)
    for (code, pending) in batch.entries {
      if let index = try? index(for: pending.campaign) {
        index.write(pending.entry, payload: code.payload)
      }
    }
    for recordOffset in batch.order {
      guard let record = batch.records[recordOffset], record.code == nil else { continue }
      do throws(RegistryError) {
        try apply(record, at: recordOffset)
      } catch {
        let what = if case .unblock = record.body { "unblock" } else { "block" }
        afterSync(
          error, "the \(what) is recorded in the journal and in effect, but applying it failed")
        return
      }
    }
    state.applied = end
    state.boot = boot
    if end - state.checkpoint >= Self.checkpointInterval {
      do {
        try checkpoint()
      } catch {
        afterSync(error, "the index checkpoint failed; the journal is intact")
      }
    }
    try? writeState()
  }

  /// A failure after a batch's sync: a warning (the batch is done), and a fence for a failed sync.
  private func afterSync(_ error: RegistryError, _ what: String) {
    if let path = error.failedSyncPath, !files.exists(fencePath) {
      fence("a sync of \(path) failed at \(ISO8601.format(clock()))")
    }
    warnings.append("\(what) (\(error)); the next operation applies it again")
  }
}
