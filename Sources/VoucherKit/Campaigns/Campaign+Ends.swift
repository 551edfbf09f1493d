import FoundationEssentials

extension CampaignStore {
  /// Changes a campaign's end (a campaign extended or cut short), rewriting its file atomically.
  ///
  /// - Parameters:
  ///   - id: The campaign.
  ///   - ends: The last valid day (inclusive) or moment, ISO 8601; `nil` for no end.
  ///   - now: The time the change is recorded at in the campaign's changes.
  /// - Returns: The changed campaign.
  /// - Throws: ``CampaignError/unknownCampaign(_:)``, an invalid date as
  ///   ``CampaignError/invalidSetting(_:)``, or an I/O error.
  public func setEnds(_ id: CampaignID, to ends: String?, now: Date = Date()) throws -> Campaign {
    try change(id) { campaign throws(CampaignError) in
      try campaign.applying(
        [CampaignEdit(.ends, ends)], usage: .none, now: now, by: "campaign end")
    }
  }

  /// Changes a campaign under the campaigns' lock: `change` gets the campaign as its file holds
  /// it now and answers the campaign to keep, which replaces the file atomically (a rename).
  ///
  /// - Parameters:
  ///   - id: The campaign.
  ///   - change: Makes the changed campaign; what it throws leaves the file as it was.
  /// - Returns: The campaign as kept.
  /// - Throws: ``CampaignError/unknownCampaign(_:)``, what `change` throws, or an I/O error.
  public func change(
    _ id: CampaignID, _ change: (Campaign) throws(CampaignError) -> Campaign
  ) throws(CampaignError) -> Campaign {
    let lock = try takeLock(folder + "/.lock")
    defer { lock.unlock() }
    guard let campaign = try load().campaign(id) else { throw CampaignError.unknownCampaign(id) }
    let changed = try change(campaign)
    guard changed != campaign else { return campaign }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    do {
      let data = try encoder.encode(changed) + Data("\n".utf8)
      try FileSystem.writeAtomically(path(of: id), Array(data), replace: true)
    } catch let error as SystemError {
      throw .io(error)
    } catch {
      throw .malformedFile(path: path(of: id), reason: "it cannot be written (\(error))")
    }
    return changed
  }
}
