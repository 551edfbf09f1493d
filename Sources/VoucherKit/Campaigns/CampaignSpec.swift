/// What a user asks for when adding a campaign; ``CampaignStore/add(_:keyRing:now:)`` validates it.
public struct CampaignSpec: Sendable, Hashable {
  /// The new campaign's identifier.
  public var id: CampaignID
  /// Its distribution channels (1 to 32, distinct).
  public var channels: [ChannelID]
  /// First valid date or moment (ISO 8601), if any.
  public var starts: String?
  /// Last valid date or moment (ISO 8601), if any.
  public var ends: String?
  /// Uses per code, 1 to 255.
  public var uses: Int = 1
  /// Where codes may be redeemed.
  public var redeemAt: RedemptionPolicy = .any
  /// Requested tag length, 32 to 60 bits; rounded up to a multiple of 5.
  public var tagBits: Int = CodeFormat.defaultTagBits
  /// Codes per channel.
  public var capacity: Int = 1_000_000
  /// A title for cashiers and reports.
  public var title: String?
  /// The key to sign with; the ring's signing key when `nil`.
  public var slot: KeySlot?
  /// Per-profile limits, if any.
  public var limits: ProfileLimits?

  /// Creates a specification with the defaults: 1 use, redeemable anywhere, 40-bit tags,
  /// 1,000,000 codes per channel, no dates.
  public init(id: CampaignID, channels: [ChannelID]) {
    self.id = id
    self.channels = channels
  }
}
