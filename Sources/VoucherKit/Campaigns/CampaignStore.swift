import FoundationEssentials

/// The campaigns of a home: one JSON file per campaign in `HOME/Campaigns/`, named `ID.campaign`.
public struct CampaignStore: Sendable {
  /// The folder holding the campaign files.
  public let folder: String

  /// A store over `folder`, which need not exist yet.
  public init(folder: String) {
    self.folder = folder
  }

  /// The path of a campaign's file.
  func path(of id: CampaignID) -> String { "\(folder)/\(id).campaign" }

  /// Reads every campaign. A home without a campaign folder has no campaigns.
  ///
  /// - Throws: ``CampaignError/malformedFile(path:reason:)`` for a damaged file, or an I/O error.
  public func load() throws(CampaignError) -> CampaignBook {
    let names: [String]
    do {
      names = try FileSystem.list(folder)
    } catch {
      if error.isMissing { return CampaignBook([]) }
      throw .io(error)
    }
    var campaigns: [Campaign] = []
    for name in names where name.hasSuffix(".campaign") && !name.hasPrefix(".") {
      campaigns.append(try read(folder + "/" + name))
    }
    try checkDisjoint(campaigns)
    return CampaignBook(campaigns)
  }

  /// Adds a campaign, placing it after the last range of its key slot.
  ///
  /// - Parameters:
  ///   - spec: What to add.
  ///   - keyRing: The ring whose signing key (or `spec.slot`) will sign the codes.
  ///   - now: The creation time to record.
  /// - Returns: The stored campaign.
  /// - Throws: ``CampaignError`` for an invalid setting, a duplicate id, a full key slot or a
  ///   key that cannot sign; ``KeyRingError/noActiveKey`` when no key can sign.
  public func add(_ spec: CampaignSpec, keyRing: KeyRing, now: Date) throws -> Campaign {
    try validate(spec)
    let slot: KeySlot
    if let wanted = spec.slot {
      guard let key = keyRing.info(for: wanted) else { throw CampaignError.missingKey(wanted) }
      guard key.state == .active else {
        throw CampaignError.keyNotActive(slot: wanted, state: key.state)
      }
      slot = wanted
    } else {
      guard let key = keyRing.signingKey else { throw KeyRingError.noActiveKey }
      slot = key.slot
    }
    do {
      try FileSystem.makeDirectory(folder)
    } catch {
      throw CampaignError.io(error)
    }
    let lock = try takeLock(folder + "/.lock")
    defer { lock.unlock() }
    let book = try load()
    guard book.campaign(spec.id) == nil else { throw CampaignError.duplicateCampaign(spec.id) }
    let base = book.nextFreeBase(slot: slot)
    let needed = spec.channels.count * spec.capacity
    let free = CodeFormat.payloadSpace - base
    guard needed <= free else {
      throw CampaignError.spaceExhausted(slot: slot, needed: needed, free: free)
    }
    let campaign = Campaign(
      Campaign.Fields(
        id: spec.id, title: spec.title ?? spec.id.rawValue, channels: spec.channels,
        starts: spec.starts,
        ends: spec.ends, uses: spec.uses, redeemAt: spec.redeemAt,
        tagBits: CodeFormat.effectiveTagBits(requested: spec.tagBits), capacity: spec.capacity,
        slot: slot,
        base: base, created: ISO8601.format(now), limits: spec.limits))
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    let data = try encoder.encode(campaign) + Data("\n".utf8)
    do {
      try FileSystem.writeAtomically(path(of: spec.id), Array(data), replace: false)
    } catch {
      throw CampaignError.io(error)
    }
    return campaign
  }

  /// Checks a specification's settings, naming the first bad one.
  func validate(_ spec: CampaignSpec) throws(CampaignError) { try Self.validate(spec) }

  /// Checks a specification's settings, naming the first bad one.
  static func validate(_ spec: CampaignSpec) throws(CampaignError) {
    func bad(_ problem: CampaignSettingProblem) -> CampaignError { .invalidSetting(problem) }
    guard (1...32).contains(spec.channels.count) else {
      throw bad(.channelCount)
    }
    guard Set(spec.channels).count == spec.channels.count else {
      throw bad(.duplicateChannel)
    }
    guard (1...255).contains(spec.uses) else { throw bad(.uses) }
    guard CodeFormat.requestableTagBits.contains(spec.tagBits) else {
      throw bad(.tagBits(allowed: CodeFormat.requestableTagBits))
    }
    let most = CodeFormat.payloadSpace / spec.channels.count
    guard (1...most).contains(spec.capacity) else {
      throw bad(.capacity(most: most, channels: spec.channels.count))
    }
    if let title = spec.title {
      guard !title.isEmpty, title.count <= 200 else {
        throw bad(.titleLength)
      }
      guard !title.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
      else {
        throw bad(.titleControlCharacters)
      }
    }
    var start: Date?
    if let text = spec.starts {
      guard let date = ISO8601.parse(text) else {
        throw bad(.startsNotADate(text))
      }
      start = date
    }
    if let text = spec.ends {
      guard let end = ISO8601.parse(text, endOfDay: true) else {
        throw bad(.endsNotADate(text))
      }
      if let start, end <= start { throw bad(.endsNotAfterStarts) }
    }
  }

  private func read(_ path: String) throws(CampaignError) -> Campaign {
    let bytes: [UInt8]
    do {
      bytes = try FileSystem.read(path, limit: 1 << 20).bytes
    } catch {
      throw .io(error)
    }
    let campaign: Campaign
    do {
      campaign = try JSONDecoder().decode(Campaign.self, from: Data(bytes))
    } catch {
      throw .malformedFile(path: path, reason: "not a campaign file (\(Self.summary(of: error)))")
    }
    let name = String(path.split(separator: "/").last ?? "")
    guard name == "\(campaign.id).campaign" else {
      throw .malformedFile(path: path, reason: "it holds campaign '\(campaign.id)'")
    }
    let tagOK =
      CodeFormat.requestableTagBits.contains(campaign.tagBits) && campaign.tagBits % 5 == 0
    // Capacity and base are bounded before `span` multiplies them, so that no file can overflow it.
    guard tagOK, (1...32).contains(campaign.channels.count),
      (1...CodeFormat.payloadSpace).contains(campaign.capacity),
      (0..<CodeFormat.payloadSpace).contains(campaign.base), (1...255).contains(campaign.uses),
      campaign.base + campaign.span <= CodeFormat.payloadSpace,
      Set(campaign.channels).count == campaign.channels.count
    else {
      throw .malformedFile(path: path, reason: "a setting is out of range")
    }
    return campaign
  }

  private func checkDisjoint(_ campaigns: [Campaign]) throws(CampaignError) {
    let bySlot = Dictionary(grouping: campaigns, by: \.slot)
    for (_, list) in bySlot {
      let sorted = list.sorted { $0.base < $1.base }
      for (a, b) in zip(sorted, sorted.dropFirst()) where a.base + a.span > b.base {
        throw .malformedFile(
          path: path(of: b.id), reason: "its code range overlaps campaign '\(a.id)'")
      }
    }
  }

  func takeLock(_ path: String) throws(CampaignError) -> FileLock {
    do {
      return try FileLock(path, timeout: 10)
    } catch {
      switch error {
      case .busy(let path): throw .busy(path: path)
      case .io(let error): throw .io(error)
      }
    }
  }

  private static func summary(of error: any Error) -> String {
    switch error {
    case DecodingError.keyNotFound(let key, _): return "missing '\(key.stringValue)'"
    case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
      return "bad '\(context.codingPath.map(\.stringValue).joined(separator: "."))'"
    case DecodingError.dataCorrupted(let context):
      let path = context.codingPath.map(\.stringValue).joined(separator: ".")
      return path.isEmpty ? "invalid JSON" : "bad '\(path)'"
    default: return "unreadable"
    }
  }
}

/// `text` made safe to echo in a one-line message: control and non-ASCII characters escaped,
/// at most 40 characters kept.
public func printable(_ text: some StringProtocol, limit: Int = 40) -> String {
  var out = ""
  var count = 0
  for scalar in text.unicodeScalars {
    if count == limit {
      out += "…"
      break
    }
    out +=
      scalar.isASCII && scalar.value >= 0x20 && scalar.value != 0x7F
      ? String(scalar) : scalar.escaped(asASCII: true)
    count += 1
  }
  return out
}
