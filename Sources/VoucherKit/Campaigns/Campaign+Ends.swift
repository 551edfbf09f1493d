import FoundationEssentials

extension CampaignStore {
  /// Changes a campaign's end (a campaign extended or cut short), rewriting its file atomically.
  ///
  /// - Parameters:
  ///   - id: The campaign.
  ///   - ends: The last valid day (inclusive) or moment, ISO 8601; `nil` for no end.
  /// - Returns: The changed campaign.
  /// - Throws: ``CampaignError/unknownCampaign(_:)``, an invalid date as
  ///   ``CampaignError/invalidSetting(_:)``, or an I/O error.
  public func setEnds(_ id: CampaignID, to ends: String?) throws -> Campaign {
    let lock = try takeLock(folder + "/.lock")
    defer { lock.unlock() }
    guard let campaign = try load().campaign(id) else { throw CampaignError.unknownCampaign(id) }
    var spec = CampaignSpec(id: id, channels: campaign.channels)
    spec.starts = campaign.starts
    spec.ends = ends
    spec.uses = campaign.uses
    spec.capacity = campaign.capacity
    spec.title = campaign.title
    try validate(spec)
    let changed = campaign.changing(ends: ends)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    let data = try encoder.encode(changed) + Data("\n".utf8)
    do {
      try FileSystem.writeAtomically(path(of: id), Array(data), replace: true)
    } catch {
      throw CampaignError.io(error)
    }
    return changed
  }
}
