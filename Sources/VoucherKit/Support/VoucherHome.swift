#if canImport(Glibc)
  import Glibc
#endif

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

  /// Whether any code was ever issued in this home: a campaign's issue log holds a range.
  ///
  /// Once codes are out, a registry can no longer appear by itself: a missing or empty registry
  /// folder is then a disk that did not mount or a restore gone wrong, never a fresh start.
  public var hasIssuedCodes: Bool {
    guard let names = try? FileSystem.list(campaigns) else { return false }
    return names.contains { name in
      guard name.hasSuffix(".issued") else { return false }
      var info = stat()
      return stat(campaigns + "/" + name, &info) == 0 && info.st_size > 0
    }
  }

  /// The issue log of a campaign.
  public func issueLog(_ campaign: CampaignID) -> IssueLog {
    IssueLog(folder: campaigns, campaign: campaign)
  }
}
