import Foundation

/// A campaign: a batch of codes for one promotion, printed per distribution channel.
///
/// A campaign owns a range of its key slot's code space, `base ..< base + channels × capacity`:
/// the code for serial `s` (1-based) of channel `c` seals the payload `base + c × capacity + s − 1`.
/// Ranges never overlap, so codes are unique by construction and no list of issued codes exists.
public struct Campaign: Sendable, Hashable, Codable {
  /// The campaign's identifier.
  public let id: CampaignID
  /// A human title shown when a code is checked ("Free coffee with any cake").
  public let title: String
  /// Its distribution channels, in the order their ranges were laid out.
  public let channels: [ChannelID]
  /// First valid moment, as given (`nil`: valid at once).
  public let starts: String?
  /// Last valid day or moment, as given; a bare date includes that whole day (`nil`: no end).
  public let ends: String?
  /// How many times each code may be redeemed.
  public let uses: Int
  /// Where codes may be redeemed.
  public let redeemAt: RedemptionPolicy
  /// The tag length in bits (a multiple of 5, from 35 to 60).
  public let tagBits: Int
  /// Codes per channel; serials run from 1 to `capacity`.
  public let capacity: Int
  /// The key that signs the campaign's codes.
  public let slot: KeySlot
  /// The first payload value of the campaign's range.
  public let base: Int
  /// When the campaign was added.
  public let created: String

  /// How many codes one key can sign across all its campaigns (2³⁰).
  public static let codeSpacePerKey = CodeFormat.payloadSpace

  /// The earliest valid instant, parsed.
  public var startDate: Date? { starts.flatMap { ISO8601.parse($0) } }
  /// The instant from which codes have expired, parsed.
  public var endDate: Date? { ends.flatMap { ISO8601.parse($0, endOfDay: true) } }

  /// Symbols in each of the campaign's codes, separators not counted.
  public var codeLength: Int { CodeFormat.symbolCount(tagBits: tagBits) }

  /// How many payload values the campaign occupies.
  var span: Int { channels.count * capacity }

  /// The index of a channel, or `nil` if the campaign has no such channel.
  public func channelIndex(_ channel: ChannelID) -> Int? { channels.firstIndex(of: channel) }

  /// The payload of a channel's serial.
  func payload(channel: Int, serial: Int) -> UInt32 {
    UInt32(base + channel * capacity + serial - 1)
  }

  /// Creates a campaign value; ``CampaignStore/add(_:keyRing:now:)`` checks and places it.
  init(
    id: CampaignID, title: String, channels: [ChannelID], starts: String?, ends: String?, uses: Int,
    redeemAt: RedemptionPolicy, tagBits: Int, capacity: Int, slot: KeySlot, base: Int, created: String
  ) {
    self.id = id
    self.title = title
    self.channels = channels
    self.starts = starts
    self.ends = ends
    self.uses = uses
    self.redeemAt = redeemAt
    self.tagBits = tagBits
    self.capacity = capacity
    self.slot = slot
    self.base = base
    self.created = created
  }
}
