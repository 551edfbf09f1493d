import FoundationEssentials

/// A campaign: a batch of codes for one promotion, printed per distribution channel.
///
/// A campaign owns a range of its key slot's code space, `base ..< base + channels × capacity`:
/// the code for serial `s` (1-based) of channel `c` seals the payload `base + c × capacity + s − 1`.
/// Ranges never overlap, so codes are unique by construction and no list of issued codes exists.
///
/// A campaign is a value; its settings live in one shared immutable box, so that handing a
/// campaign out with every verified code costs one reference count, not one per field.
public struct Campaign: Sendable, Hashable, Codable {
  /// The settings as stored in the campaign's file.
  struct Fields: Sendable, Hashable, Codable {
    var id: CampaignID
    var title: String
    var channels: [ChannelID]
    var starts: String?
    var ends: String?
    var uses: Int
    var redeemAt: RedemptionPolicy
    var tagBits: Int
    var capacity: Int
    var slot: KeySlot
    var base: Int
    var created: String
    /// Per-profile limits; absent in campaigns added without them.
    var limits: ProfileLimits? = nil
    /// Every change since the campaign was added, oldest first (absent in older files).
    var changes: [CampaignChange]?
  }

  private final class Box: Sendable {
    let fields: Fields
    let startDate: Date?
    let endDate: Date?
    /// The zone of the limits' periods, loaded once (UTC when none or it cannot be read).
    let limitZone: ZoneRules

    init(_ fields: Fields) {
      self.fields = fields
      limitZone = fields.limits?.zone.flatMap { try? ZoneRules.named($0) } ?? .utc
      startDate = fields.starts.flatMap { ISO8601.parse($0) }
      endDate = fields.ends.flatMap { ISO8601.parse($0, endOfDay: true) }
    }
  }

  private let box: Box

  init(_ fields: Fields) {
    box = Box(fields)
  }

  /// The campaign's identifier.
  public var id: CampaignID { box.fields.id }
  /// A human title shown when a code is checked ("Free coffee with any cake").
  public var title: String { box.fields.title }
  /// Its distribution channels, in the order their ranges were laid out.
  public var channels: [ChannelID] { box.fields.channels }
  /// First valid moment, as given (`nil`: valid at once).
  public var starts: String? { box.fields.starts }
  /// Last valid day or moment, as given; a bare date includes that whole day (`nil`: no end).
  public var ends: String? { box.fields.ends }
  /// How many times each code may be redeemed.
  public var uses: Int { box.fields.uses }
  /// Where codes may be redeemed.
  public var redeemAt: RedemptionPolicy { box.fields.redeemAt }
  /// The tag length in bits (a multiple of 5, from 35 to 60).
  public var tagBits: Int { box.fields.tagBits }
  /// Codes per channel; serials run from 1 to `capacity`.
  public var capacity: Int { box.fields.capacity }
  /// The key that signs the campaign's codes.
  public var slot: KeySlot { box.fields.slot }
  /// The first payload value of the campaign's range.
  public var base: Int { box.fields.base }
  /// When the campaign was added.
  public var created: String { box.fields.created }
  /// Every change of a setting since the campaign was added, oldest first.
  public var changes: [CampaignChange] { box.fields.changes ?? [] }

  /// How many codes one profile may redeem and claim; `nil`: no limit.
  public var limits: ProfileLimits? { box.fields.limits }
  /// The calendar zone of the limits' periods.
  public var limitZone: ZoneRules { box.limitZone }

  /// How many codes one key can sign across all its campaigns (2³⁰).
  public static let codeSpacePerKey = CodeFormat.payloadSpace

  /// The earliest valid instant, parsed.
  public var startDate: Date? { box.startDate }
  /// The instant from which codes have expired, parsed.
  public var endDate: Date? { box.endDate }

  /// Symbols in each of the campaign's codes, separators not counted.
  public var codeLength: Int { CodeFormat.symbolCount(tagBits: tagBits) }

  /// How many payload values the campaign occupies.
  package var span: Int { channels.count * capacity }

  /// The index of a channel, or `nil` if the campaign has no such channel.
  public func channelIndex(_ channel: ChannelID) -> Int? { channels.firstIndex(of: channel) }

  /// The payload of a channel's serial.
  package func payload(channel: Int, serial: Int) -> UInt32 {
    UInt32(base + channel * capacity + serial - 1)
  }

  public static func == (a: Campaign, b: Campaign) -> Bool {
    a.box === b.box || a.box.fields == b.box.fields
  }
  public func hash(into hasher: inout Hasher) { hasher.combine(box.fields) }
  public init(from decoder: any Decoder) throws { self.init(try Fields(from: decoder)) }
  public func encode(to encoder: any Encoder) throws { try box.fields.encode(to: encoder) }
}

extension Campaign {
  /// The campaign with another last valid day or moment (ISO 8601), or none.
  package func changing(ends: String?) -> Campaign {
    var fields = box.fields
    fields.ends = ends
    return Campaign(fields)
  }

  /// The campaign with its stored settings changed by `change`.
  func changing(_ change: (inout Fields) -> Void) -> Campaign {
    var fields = box.fields
    change(&fields)
    return Campaign(fields)
  }
}
