import FoundationEssentials

/// Checks codes offline, with only the key ring and the campaigns.
///
/// ```swift
/// let verifier = Verifier(keyRing: ring, campaigns: book)
/// switch verifier.verify("0K7M-Q8PD-2XWA-9HTE", at: .store, now: Date()) {
/// case .valid(let voucher): print("valid:", voucher.campaign.title)
/// case .mistyped(_, let suggestion?): print("did you mean", suggestion)
/// case let other: print(other.status)
/// }
/// ```
///
/// Checking a well-formed code costs three SHA-256 compressions and allocates nothing. The order
/// of checks makes each answer mean one thing: unreadable text is `malformed`; a wrong check
/// symbol is `mistyped` (a typo, never a fake); a right check symbol with a wrong signature is
/// `forged`; then key state, campaign, dates and venue.
public struct Verifier: Sendable {
  /// The keys codes are checked against.
  public let keyRing: KeyRing
  /// The campaigns codes may belong to.
  public let campaigns: CampaignBook
  /// The key state per slot, for the hot path.
  private let states: [KeyState?]

  /// A verifier over a key ring and a home's campaigns.
  public init(keyRing: KeyRing, campaigns: CampaignBook) {
    self.keyRing = keyRing
    self.campaigns = campaigns
    var states = [KeyState?](repeating: nil, count: Int(KeySlot.maximum) + 1)
    for key in keyRing.keys { states[Int(key.slot.rawValue)] = key.state }
    self.states = states
  }

  /// Verifies typed text.
  ///
  /// - Parameters:
  ///   - text: The code as typed or scanned.
  ///   - venue: Where it is being used, or `nil` to skip the venue rule.
  ///   - now: The moment to check the campaign's dates against.
  /// - Returns: The answer.
  public func verify(_ text: some StringProtocol, at venue: Venue? = nil, now: Date) -> Verification
  {
    let parsed: (code: VoucherCode, checkFolds: Bool)
    do {
      parsed = try CodeParser.parseChecked(text)
    } catch {
      return .malformed(error)
    }
    guard parsed.checkFolds else {
      return .mistyped(parsed.code, suggestion: suggestion(for: parsed.code, at: venue, now: now))
    }
    return verifySigned(parsed.code, at: venue, now: now)
  }

  /// Verifies a parsed code.
  public func verify(_ code: VoucherCode, at venue: Venue? = nil, now: Date) -> Verification {
    guard code.hasValidCheck else {
      return .mistyped(code, suggestion: suggestion(for: code, at: venue, now: now))
    }
    return verifySigned(code, at: venue, now: now)
  }

  /// Everything after the check symbol.
  private func verifySigned(_ code: VoucherCode, at venue: Venue?, now: Date) -> Verification {
    let slot = code.slotSymbol
    guard slot <= KeySlot.maximum, let tagBits = CodeFormat.tagBits(symbolCount: code.count),
      let state = states[Int(slot)]
    else {
      return .forged(code)
    }
    if state == .revoked { return .revokedKey(code, slot: KeySlot(Int(slot))!) }
    let opened = keyRing.sealers.withUnsafeBufferPointer { sealers in
      sealers[Int(slot)].flatMap { $0.open(body: code.body, tagBits: tagBits) }
    }
    guard let payload = opened else { return .forged(code) }
    guard let campaign = campaigns.campaign(slot: slot, payload: Int(payload)) else {
      return .unknownCampaign(code)
    }
    // A genuine payload in a campaign with another tag length was signed for a campaign this
    // home does not have.
    guard campaign.tagBits == tagBits else { return .unknownCampaign(code) }
    let offset = Int(payload) - campaign.base
    let voucher = Voucher(
      code: code, campaign: campaign, channelIndex: offset / campaign.capacity,
      serial: offset % campaign.capacity + 1)
    if let start = campaign.startDate, now < start { return .notYetValid(voucher) }
    if let end = campaign.endDate, now >= end { return .expired(voucher) }
    if let venue, !campaign.redeemAt.allows(venue) { return .wrongVenue(voucher, venue: venue) }
    return .valid(voucher)
  }

  /// The single code, one substitution or adjacent swap away, that verifies as genuine; `nil` if
  /// none or more than one does.
  ///
  /// Only candidates whose check symbol matches are signature-checked: at most one substitution
  /// per position and a few swaps, so one query tests at most about 2 × length signatures. The
  /// documentation states what this costs in forgery resistance.
  func suggestion(for code: VoucherCode, at venue: Venue?, now: Date) -> VoucherCode? {
    var found: VoucherCode?
    func consider(_ candidate: VoucherCode) -> Bool {
      guard candidate != code, candidate.hasValidCheck else { return true }
      switch verifySigned(candidate, at: venue, now: now) {
      case .forged, .revokedKey: return true
      default:
        if found != nil && found != candidate { return false }
        found = candidate
        return true
      }
    }
    for index in 0..<code.count {
      for value in UInt8(0)..<32 where !consider(code.replacing(symbolAt: index, with: value)) {
        return nil
      }
    }
    for index in 0..<(code.count - 1) {
      let swapped = code.replacing(symbolAt: index, with: code.symbol(at: index + 1))
        .replacing(symbolAt: index + 1, with: code.symbol(at: index))
      if !consider(swapped) { return nil }
    }
    return found
  }
}
