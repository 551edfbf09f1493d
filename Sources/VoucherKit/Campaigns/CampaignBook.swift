import Foundation

/// Every campaign of a home, indexed for the two questions the hot paths ask: "which campaign is
/// this id" and "which campaign owns this payload of this key slot".
public struct CampaignBook: Sendable {
  /// A campaign with its dates parsed once.
  struct Entry: Sendable {
    let campaign: Campaign
    let start: Date?
    let end: Date?
  }

  /// Campaigns by id.
  private let byID: [CampaignID: Int]
  /// Every campaign, sorted by id.
  let entries: [Entry]
  /// Per slot, `(base, entry index)` sorted by base, for a binary search by payload.
  private let ranges: [[(base: Int, index: Int)]]

  /// Indexes `campaigns`, which must have disjoint ranges per slot.
  public init(_ campaigns: [Campaign]) {
    let sorted = campaigns.sorted { $0.id < $1.id }
    entries = sorted.map { Entry(campaign: $0, start: $0.startDate, end: $0.endDate) }
    byID = Dictionary(uniqueKeysWithValues: sorted.enumerated().map { ($1.id, $0) })
    var ranges = [[(base: Int, index: Int)]](repeating: [], count: Int(KeySlot.maximum) + 1)
    for (index, campaign) in sorted.enumerated() {
      ranges[Int(campaign.slot.rawValue)].append((campaign.base, index))
    }
    self.ranges = ranges.map { $0.sorted { $0.base < $1.base } }
  }

  /// Every campaign, sorted by id.
  public var campaigns: [Campaign] { entries.map(\.campaign) }

  /// The campaign with this id.
  public func campaign(_ id: CampaignID) -> Campaign? { byID[id].map { entries[$0].campaign } }

  /// The campaign whose range holds `payload` in `slot`.
  func entry(slot: UInt8, payload: Int) -> Entry? {
    let list = ranges[Int(slot)]
    var low = 0
    var high = list.count
    while low < high {
      let middle = (low + high) / 2
      if list[middle].base <= payload { low = middle + 1 } else { high = middle }
    }
    guard low > 0 else { return nil }
    let entry = entries[list[low - 1].index]
    return payload < entry.campaign.base + entry.campaign.span ? entry : nil
  }

  /// The first free payload of a slot's code space.
  func nextFreeBase(slot: KeySlot) -> Int {
    ranges[Int(slot.rawValue)].map { entries[$0.index].campaign.base + entries[$0.index].campaign.span }.max() ?? 0
  }
}
