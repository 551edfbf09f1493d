/// Every campaign of a home, indexed for the two questions the hot paths ask: "which campaign is
/// this id" and "which campaign owns this payload of this key slot".
public struct CampaignBook: Sendable {
  /// Campaigns by id.
  private let byID: [CampaignID: Int]
  /// Every campaign, sorted by id.
  public let campaigns: [Campaign]
  /// `(slot, base, index)` for every campaign, sorted by slot and base, for a binary search.
  private let ranges: [(slot: UInt8, base: Int, index: Int)]

  /// Indexes `campaigns`, which must have disjoint ranges per slot.
  public init(_ campaigns: [Campaign]) {
    let sorted = campaigns.sorted { $0.id < $1.id }
    self.campaigns = sorted
    byID = Dictionary(uniqueKeysWithValues: sorted.enumerated().map { ($1.id, $0) })
    ranges = sorted.enumerated().map { (slot: $1.slot.rawValue, base: $1.base, index: $0) }
      .sorted { ($0.slot, $0.base) < ($1.slot, $1.base) }
  }

  /// The campaign with this id.
  public func campaign(_ id: CampaignID) -> Campaign? { byID[id].map { campaigns[$0] } }

  /// The campaign whose range holds `payload` in `slot`.
  package func campaign(slot: UInt8, payload: Int) -> Campaign? {
    ranges.withUnsafeBufferPointer { ranges in
      // The last range starting at or before (slot, payload).
      var low = 0
      var high = ranges.count
      while low < high {
        let middle = (low + high) / 2
        if (ranges[middle].slot, ranges[middle].base) <= (slot, payload) {
          low = middle + 1
        } else {
          high = middle
        }
      }
      guard low > 0, ranges[low - 1].slot == slot else { return nil }
      let campaign = campaigns[ranges[low - 1].index]
      return payload < campaign.base + campaign.span ? campaign : nil
    }
  }

  /// The first free payload of a slot's code space.
  func nextFreeBase(slot: KeySlot) -> Int {
    campaigns.filter { $0.slot == slot }.map { $0.base + $0.span }.max() ?? 0
  }
}
