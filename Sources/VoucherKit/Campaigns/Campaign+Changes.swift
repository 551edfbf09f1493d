import FoundationEssentials

extension Campaign {
  /// A setting's current value as text, as a change record keeps it.
  public func value(of field: CampaignEdit.Field) -> String? {
    switch field {
    case .starts: return starts
    case .ends: return ends
    case .title: return title
    case .uses: return "\(uses)"
    case .perProfile: return limits?.redemptions.map { "\($0)" }
    }
  }

  /// The campaign with `edits` made, each one that changes a value recorded in ``changes``.
  ///
  /// The changed settings are checked as `campaign add` checks them (dates, a start before the
  /// end, a title of 1 to 200 characters without control characters, 1 to 255 uses), then
  /// against what the registry knows: a start after the first redemption, or fewer uses than a
  /// code already has, would strand codes and is refused.
  ///
  /// - Parameters:
  ///   - edits: The settings to change, in order.
  ///   - usage: The campaign's redemptions as the registry knows them.
  ///   - now: The time to record.
  ///   - by: What makes the change, recorded with it.
  /// - Returns: The changed campaign (the same one when no edit changes a value).
  /// - Throws: ``CampaignError/invalidSetting(_:)`` for a bad value,
  ///   ``CampaignError/wouldStrandCodes(_:_:)`` for a change that would strand codes.
  public func applying(_ edits: [CampaignEdit], usage: CampaignUsage, now: Date, by: String?)
    throws(CampaignError) -> Campaign
  {
    var records: [CampaignChange] = []
    var failure: CampaignError?
    let changed = changing { fields in
      for edit in edits {
        let old = value(of: edit.field)
        guard old != edit.value else { continue }
        do throws(CampaignError) {
          try fields.set(edit.field, to: edit.value)
        } catch {
          failure = error
          return
        }
        records.append(
          CampaignChange(
            time: ISO8601.format(now), field: edit.field, old: old, new: edit.value, by: by))
      }
      fields.changes = (fields.changes ?? []) + records
    }
    if let failure { throw failure }
    guard !records.isEmpty else { return self }
    var spec = CampaignSpec(id: id, channels: channels)
    spec.starts = changed.starts
    spec.ends = changed.ends
    spec.uses = changed.uses
    spec.tagBits = tagBits
    spec.capacity = capacity
    spec.title = changed.title
    try CampaignStore.validate(spec)
    if let start = changed.startDate, let first = usage.firstRedemption, start > first {
      throw .wouldStrandCodes(id, .startsAfterRedemption(first))
    }
    if changed.uses < usage.mostUses {
      throw .wouldStrandCodes(id, .usesBelowUsed(usage.mostUses))
    }
    return changed
  }
}

extension Campaign.Fields {
  /// Sets one setting from its text.
  mutating func set(_ field: CampaignEdit.Field, to value: String?) throws(CampaignError) {
    switch field {
    case .starts: starts = value
    case .ends: ends = value
    case .title:
      guard let value else { throw .invalidSetting(.titleLength) }
      title = value
    case .uses:
      guard let value, let number = Int(value) else { throw .invalidSetting(.uses) }
      uses = number
    case .perProfile:
      // The period, the claims' limit and the zone stay as they were (the whole campaign for a
      // campaign added without limits).
      guard let value, let number = Int(value),
        let changed = ProfileLimits(
          redemptions: number, period: limits?.period ?? .campaign, claims: limits?.claims,
          zone: limits?.zone)
      else { throw .invalidSetting(.perProfile) }
      limits = changed
    }
  }
}
