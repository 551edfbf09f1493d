import FoundationEssentials
import VoucherKit

extension Registry {
  /// A profile's uses of a campaign with per-profile limits, under the lock: what the journal
  /// holds up to its end, read through the tally, and then the batch's own records not yet
  /// written, so that two redemptions in one batch count as two.
  ///
  /// - Parameter since: The start of the current period (milliseconds since 1970): redemptions
  ///   before it cannot count, and are not read again.
  func profileUses(_ profile: ProfileID, of campaign: Campaign, since: Int64?, in batch: Batch)
    throws(RegistryError) -> ProfileUses
  {
    try catchUpTally(for: campaign.id.rawValue)
    let key = ProfileTally.Key(campaign: campaign.id.rawValue, profile: profile.rawValue)
    var counted: [ProfileTally.Entry] = []
    for entry in tally.entries[key] ?? [] where entry.claim || entry.time >= since ?? .min {
      // Erased since it was counted (by `forget`, perhaps in another process): it no longer
      // names the profile, and no longer counts.
      switch try journal.record(at: entry.offset).record.body {
      case .redeem(_, _, _, let named, _, _) where named == profile.rawValue: counted.append(entry)
      case .claim(let named, _) where named == profile.rawValue: counted.append(entry)
      default: tally.forget(entry.offset, of: key)
      }
    }
    for offset in batch.order {
      guard let record = batch.records[offset], let code = record.code,
        campaigns.campaign(slot: code.slot, payload: Int(code.payload))?.id == campaign.id
      else { continue }
      switch record.body {
      case .redeem(_, _, _, profile.rawValue?, _, _):
        counted.append(.init(offset: offset, time: record.time, claim: false))
      case .claim(profile.rawValue, _):
        counted.append(.init(offset: offset, time: record.time, claim: true))
      case .void(let target, _, _):
        counted.removeAll { $0.offset == target }
      default:
        break
      }
    }
    return ProfileUses(
      redemptions: counted.filter { !$0.claim }.map { date($0.time) },
      claims: counted.filter(\.claim).count)
  }

  /// Reads the journal from where the tally stopped to its end, counting the events that name a
  /// profile of every campaign counted; a campaign not counted yet is added, and the journal read
  /// again from its start.
  private func catchUpTally(for campaign: String) throws(RegistryError) {
    if !tally.campaigns.contains(campaign) || tally.scanned > end {
      tally = ProfileTally(from: Journal.headerSize, campaigns: tally.campaigns.union([campaign]))
    }
    guard tally.scanned < end else { return }
    var locator = CampaignLocator(campaigns)
    let scanner = JournalScanner(journal: journal, from: tally.scanned, to: end)
    while true {
      switch try scanner.next() {
      case .end:
        tally.scanned = end
        return
      case .invalid(let offset), .malformed(let offset, _):
        throw .damaged(path: journalPath, offset: offset, reason: "no record or frame starts here")
      case .record(let record, let offset, _):
        switch record.type {
        case 2:
          tally.void(record.voided)
        case 1, 3:
          guard let profile = Record.visibleProfile(record.profile.text),
            let campaign = locator.locate(slot: record.slot, payload: record.payload)?.0,
            tally.campaigns.contains(campaign.id.rawValue)
          else { continue }
          tally.add(
            ProfileTally.Key(campaign: campaign.id.rawValue, profile: profile),
            ProfileTally.Entry(offset: offset, time: record.time, claim: record.type == 3))
        default:
          continue
        }
      }
    }
  }
}
