/// The folder that holds all of voucher's state.
///
/// ```
/// HOME/Keys/        the key ring: slot-NN.key files
/// HOME/Campaigns/   ID.campaign (settings) and ID.issued (issued serial ranges)
/// HOME/Registry/    the redemption registry
/// ```
public struct VoucherHome: Sendable, Hashable {
  /// The home folder itself.
  public let path: String

  /// A home at `path` (relative paths are taken from the current folder).
  public init(_ path: String) {
    var trimmed = path
    while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
    self.path = trimmed.isEmpty ? "." : trimmed
  }

  /// The key ring folder.
  public var keys: String { path + "/Keys" }
  /// The campaign folder.
  public var campaigns: String { path + "/Campaigns" }
  /// The registry folder.
  public var registry: String { path + "/Registry" }

  /// The campaign store of this home.
  public var campaignStore: CampaignStore { CampaignStore(folder: campaigns) }

  /// The issue log of a campaign.
  public func issueLog(_ campaign: CampaignID) -> IssueLog {
    IssueLog(folder: campaigns, campaign: campaign)
  }
}
