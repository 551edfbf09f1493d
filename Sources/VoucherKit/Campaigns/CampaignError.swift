/// Errors raised while reading, adding or using campaigns.
///
/// The description says what is wrong in the campaigns' own words; ``remedy`` says what would
/// set it right, and ``CampaignSettingProblem`` names the setting at fault, as cases that each
/// front end words in its own terms (a command, a flag).
public enum CampaignError: Error, Sendable, Hashable, CustomStringConvertible {
  /// No campaign has this id.
  case unknownCampaign(CampaignID)
  /// The campaign has no such channel.
  case unknownChannel(CampaignID, ChannelID)
  /// A campaign with this id exists already.
  case duplicateCampaign(CampaignID)
  /// A setting is out of range or inconsistent; the problem says which and why.
  case invalidSetting(CampaignSettingProblem)
  /// The key slot's code space has no room for the campaign.
  case spaceExhausted(slot: KeySlot, needed: Int, free: Int)
  /// The serials asked for pass the channel's capacity.
  case capacityExceeded(CampaignID, channel: ChannelID, capacity: Int, available: Int, first: Int)
  /// The campaign's key may no longer issue codes.
  case keyNotActive(slot: KeySlot, state: KeyState)
  /// The campaign names a key slot the ring does not have.
  case missingKey(KeySlot)
  /// A campaign or issue-log file is damaged.
  case malformedFile(path: String, reason: String)
  /// Another process held the campaign's lock too long.
  case busy(path: String)
  /// A file could not be read or written.
  case io(SystemError)
  /// A change of a running campaign would strand codes already redeemed; the problem says how.
  case wouldStrandCodes(CampaignID, CampaignSettingProblem)

  /// What would set a campaign error right.
  public enum Remedy: Sendable, Hashable {
    /// Look the campaign up in the list of campaigns.
    case listCampaigns
    /// Make a new signing key, whose slot has room.
    case makeKey
  }

  /// What would set the error right, when a step can be named.
  public var remedy: Remedy? {
    switch self {
    case .unknownCampaign: return .listCampaigns
    case .spaceExhausted: return .makeKey
    default: return nil
    }
  }

  /// What is wrong, without the remedy, naming a setting at fault by its domain name.
  public var problem: String {
    switch self {
    case .unknownCampaign(let id):
      return "no campaign '\(id)'"
    case .unknownChannel(let id, let channel):
      return "campaign '\(id)' has no channel '\(channel)'"
    case .duplicateCampaign(let id):
      return "campaign '\(id)' exists already"
    case .invalidSetting(let problem):
      return problem.description
    case .spaceExhausted(let slot, let needed, let free):
      return
        "key slot \(slot) has room for \(free) more codes, the campaign needs \(needed)"
    case .capacityExceeded(let id, let channel, let capacity, let available, let first):
      return
        "campaign '\(id)' channel '\(channel)' has \(capacity) serials; \(available) are left from serial \(first)"
    case .keyNotActive(let slot, let state):
      return "the campaign's key (slot \(slot)) is \(state) and issues no more codes"
    case .missingKey(let slot):
      return "the campaign's key (slot \(slot)) is not in the key ring"
    case .malformedFile(let path, let reason):
      return "\(path) is damaged: \(reason)"
    case .busy(let path):
      return "\(path) is locked by another process; try again"
    case .io(let error):
      return error.description
    case .wouldStrandCodes(let id, let problem):
      return "campaign '\(id)' was not changed: \(problem.description)"
    }
  }

  /// What is wrong and, in domain words, what would set it right.
  public var description: String {
    switch remedy {
    case nil: return problem
    case .listCampaigns: return problem + "; the list of campaigns shows them"
    case .makeKey: return problem + "; make a new signing key"
    }
  }
}
