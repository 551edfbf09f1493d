import FoundationEssentials
import VoucherKit

extension RegistryStore {
  /// What a change of a campaign must not contradict: the time of its first redemption (voided
  /// or not: it happened) and the most live uses any one of its codes has.
  ///
  /// Read from the event stream, so every store answers it alike; a campaign change is rare, so
  /// one pass over the campaign's events is cheap enough.
  ///
  /// - Parameter campaign: The campaign.
  /// - Returns: `CampaignUsage.none` for a campaign without redemptions.
  /// - Throws: What reading the events throws.
  public func usage(of campaign: CampaignID) throws -> CampaignUsage {
    var first: Int64?
    var live: [Int64: Int] = [:]
    try forEachEvent(campaign: campaign) { event in
      let code = Int64(event.channelIndex) << 32 | Int64(event.serial)
      switch event.kind {
      case .redeemed:
        first = min(first ?? event.time, event.time)
        live[code, default: 0] += 1
      case .voided:
        live[code, default: 0] -= 1
      case .claimed, .blocked, .unblocked:
        break
      }
    }
    return CampaignUsage(
      firstRedemption: first.map { Date(timeIntervalSince1970: Double($0) / 1000) },
      mostUses: live.values.max() ?? 0)
  }
}
