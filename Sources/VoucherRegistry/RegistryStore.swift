import FoundationEssentials
import VoucherKit

/// What a redemption registry is, whatever keeps it: the contract every store implements (the
/// file registry under a home, ``Registry``; a database for a chain of stores), and all that the
/// commands, `serve` and the HTTP front use.
///
/// A store decides with `RedemptionRules` over a code's history read under its own isolation
/// (a lock, a transaction), so the rules are the same everywhere. Its promises, which the
/// conformance suite in the tests checks for every store:
///
/// - **At most N**: a code is never redeemed more often than its campaign allows, whatever the
///   number of processes or connections.
/// - **Durable answers**: nothing is answered before it is durable; a batch is atomic.
/// - **Safe retries**: a redeem or void repeated with the same request id gets the original
///   answer, also after a restart.
/// - **Events in order**: a code's history, and the event stream, come in the order recorded,
///   each with an ``EventID`` that is stable for the registry's life.
/// - **Erasure**: after ``forget(profile:)`` no event names the profile; every code's uses stay,
///   and the profile's events no longer count towards a per-profile limit (the same id given
///   again starts a new count).
/// - **Per-profile limits**: a campaign's limit per profile is decided under the same isolation
///   that records the redemption or claim, so concurrent tills never exceed it.
public protocol RegistryStore: AnyObject {
  /// Performs several operations atomically, in order (later ones see earlier ones), with one
  /// durable commit: group commit.
  ///
  /// - Returns: One result per operation. A damaged history fails its own operation
  ///   (``RegistryResult/failed(_:)``), not the batch.
  /// - Throws: ``RegistryError`` when the batch as a whole could not be carried out: then
  ///   nothing of it is answered (and nothing of it is recorded, or it was recorded atomically
  ///   and a retry with the same request ids gets the original answers).
  func perform(_ operations: [RegistryOperation], now: Date) throws(RegistryError)
    -> [RegistryResult]

  /// What the registry knows of a code, read as cheaply as the store can (a long-running
  /// reader): every acknowledged write, perhaps not one still in flight.
  func peek(_ voucher: Voucher) throws(RegistryError) -> CodeStatus

  /// Blocks (or unblocks) a range of serials of a campaign channel: a lost or stolen batch.
  ///
  /// - Returns: How many serials the range holds.
  @discardableResult
  func block(
    campaign: Campaign, channel: ChannelID, serials: ClosedRange<Int>, reason: Reason?,
    unblock: Bool, now: Date
  ) throws(RegistryError) -> Int

  /// Calls `visit` with every event, oldest first, as far as the registry reached when the call
  /// began; memory stays flat however many there are.
  func forEachEvent(campaign: CampaignID?, _ visit: (JournalEvent) throws -> Void) throws

  /// Counts every event into a report.
  func addEvents(to report: inout ReportBuilder) throws

  /// Erases a profile id from every event that names it; every code's uses stay, and the
  /// profile's events no longer count towards a per-profile limit.
  func forget(profile: ProfileID) throws(RegistryError) -> ForgetReport

  /// Checks the registry's integrity.
  func check() throws(RegistryError) -> CheckReport

  /// Things worth telling the user that are not errors (a repaired torn tail), which are then
  /// forgotten.
  func takeWarnings() -> [String]
}

extension RegistryStore {
  /// Records one use of a genuine, valid code (see `RedemptionRules`).
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
    else { preconditionFailure("one result per operation") }
    return answer
  }

  /// Undoes the latest live redemption of a code (a return, a cancelled sale).
  public func void(_ voucher: Voucher, reason: Reason? = nil, request: RequestID? = nil, now: Date)
    throws(RegistryError) -> VoidAnswer
  {
    guard case .void(let answer) = try single(.void(voucher, reason: reason, request: request), now: now)
    else { preconditionFailure("one result per operation") }
    return answer
  }

  /// Links a code to a customer profile (an online registration of a scratch card), before or
  /// after it is redeemed. Claiming again with the same profile answers the original claim, with
  /// the prize it recorded: `prize` (what the code wins) is recorded with the first claim only.
  public func claim(_ voucher: Voucher, profile: ProfileID, prize: PrizeName? = nil, now: Date)
    throws(RegistryError) -> ClaimAnswer
  {
    guard
      case .claim(let answer) = try single(
        .claim(voucher, profile: profile, prize: prize), now: now)
    else { preconditionFailure("one result per operation") }
    return answer
  }

  /// What the registry knows of a code: live uses, block, latest redemption.
  public func status(of voucher: Voucher) throws(RegistryError) -> CodeStatus {
    guard case .status(let status) = try single(.status(voucher), now: Date())
    else { preconditionFailure("one result per operation") }
    return status
  }

  /// Every event of a code, oldest first: redemptions, voids, claims, and blocks of its range.
  public func history(of voucher: Voucher) throws(RegistryError) -> [Event] {
    guard case .history(let events) = try single(.history(voucher), now: Date())
    else { preconditionFailure("one result per operation") }
    return events
  }

  /// Every event, oldest first, of every campaign.
  public func forEachEvent(_ visit: (JournalEvent) throws -> Void) throws {
    try forEachEvent(campaign: nil, visit)
  }

  /// One operation as a batch of one; its failure is thrown.
  private func single(_ operation: RegistryOperation, now: Date) throws(RegistryError)
    -> RegistryResult
  {
    let result = try perform([operation], now: now)[0]
    if case .failed(let error) = result { throw error }
    return result
  }
}
