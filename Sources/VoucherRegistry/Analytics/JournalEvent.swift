import FoundationEssentials
import VoucherKit

/// One event of the journal as reports and exports read it: a redemption, void, claim, block or
/// unblock, with the campaign, channel and serial it concerns.
public struct JournalEvent: Sendable, Hashable {
  /// What happened.
  public let kind: Event.Kind
  /// When, in milliseconds since 1970.
  public let time: Int64
  /// The record's offset in the journal: the event's identity.
  public let offset: Int64
  /// The campaign.
  public let campaign: Campaign
  /// The channel's index in the campaign's channels.
  public let channelIndex: Int
  /// The serial of a code event, the first serial of a block's range.
  public let serial: Int
  /// The last serial of a block's range; `serial` for a code event.
  public let lastSerial: Int
  /// The venue of a redemption.
  public let venue: Venue?
  /// The store of a redemption.
  public let store: String?
  /// The till of a redemption.
  public let terminal: String?
  /// The profile of a redemption or claim; `nil` when there was none or it was erased.
  public let profile: String?
  /// Whether the event named a profile that was erased on request.
  public let profileErased: Bool
  /// The request id of a redemption or void.
  public let request: String?
  /// The reason of a void, block or unblock.
  public let reason: String?
  /// For a void: the offset of the redemption it undid.
  public let undoes: Int64?
  /// The code's key slot and payload, for a code event.
  package let code: (slot: UInt8, payload: UInt32)?
  /// For a redemption: the code's live uses once it was recorded (its use's number).
  package var usesAfter = 0
  /// For a claim: the prize it won, if any.
  public package(set) var prize: String? = nil

  /// The channel.
  public var channel: ChannelID { campaign.channels[channelIndex] }
  /// When, as a date.
  public var date: Date { Date(timeIntervalSince1970: Double(time) / 1000) }
  /// Whether the event names a profile, erased or not (a redemption linked to a customer).
  public var isLinked: Bool { profile != nil || profileErased }

  public static func == (a: JournalEvent, b: JournalEvent) -> Bool {
    a.offset == b.offset && a.kind == b.kind && a.time == b.time && a.campaign == b.campaign
      && a.channelIndex == b.channelIndex && a.serial == b.serial && a.lastSerial == b.lastSerial
      && a.venue == b.venue && a.store == b.store && a.terminal == b.terminal
      && a.profile == b.profile && a.profileErased == b.profileErased && a.request == b.request
      && a.reason == b.reason && a.undoes == b.undoes && a.prize == b.prize
  }
  public func hash(into hasher: inout Hasher) {
    hasher.combine(offset)
    hasher.combine(kind)
  }
}

/// Finds the campaign of a code event, remembering the last hit: journals come in runs of one
/// campaign.
struct CampaignLocator {
  let book: CampaignBook
  private var last: (slot: UInt8, base: Int, span: Int, campaign: Campaign)?

  init(_ book: CampaignBook) { self.book = book }

  /// The campaign, channel index and serial of a code, or `nil` for a code of no campaign here.
  mutating func locate(slot: UInt8, payload: UInt32) -> (Campaign, channel: Int, serial: Int)? {
    let value = Int(payload)
    if let last, last.slot == slot, value >= last.base, value < last.base + last.span {
      let offset = value - last.base
      return (last.campaign, offset / last.campaign.capacity, offset % last.campaign.capacity + 1)
    }
    guard let campaign = book.campaign(slot: slot, payload: value) else { return nil }
    last = (slot, campaign.base, campaign.span, campaign)
    let offset = value - campaign.base
    return (campaign, offset / campaign.capacity, offset % campaign.capacity + 1)
  }
}

extension JournalEvent {
  /// An event as another store keeps it (a database row): the code's key slot and payload follow
  /// from its campaign, channel and serial.
  package init(
    kind: Event.Kind, time: Int64, id: EventID, campaign: Campaign, channelIndex: Int, serial: Int,
    lastSerial: Int, venue: Venue?, store: String?, terminal: String?, profile: String?,
    profileErased: Bool, request: String?, reason: String?, undoes: EventID?, usesAfter: Int,
    prize: String? = nil
  ) {
    let isCode = kind == .redeemed || kind == .voided || kind == .claimed
    self.init(
      kind: kind, time: time, offset: id.value, campaign: campaign, channelIndex: channelIndex,
      serial: serial, lastSerial: lastSerial, venue: venue, store: store, terminal: terminal,
      profile: profile, profileErased: profileErased, request: request, reason: reason,
      undoes: undoes?.value,
      code: isCode
        ? (campaign.slot.rawValue, campaign.payload(channel: channelIndex, serial: serial)) : nil)
    self.usesAfter = usesAfter
    self.prize = prize
  }

  /// The event's identity in its registry.
  public var id: EventID { EventID(offset) }

  /// The event a record holds, or `nil` when it names no campaign of this home.
  init?(_ record: RawRecord, at offset: Int64, locator: inout CampaignLocator) {
    let campaign: Campaign
    let channel: Int
    let serial: Int
    let kind: Event.Kind
    switch record.type {
    case 1: kind = .redeemed
    case 2: kind = .voided
    case 3: kind = .claimed
    case 4: kind = .blocked
    case 5: kind = .unblocked
    default: return nil
    }
    if record.type >= 4 {
      guard let id = record.campaign.text.flatMap(CampaignID.init),
        let found = locator.book.campaign(id), record.channel < found.channels.count
      else {
        return nil
      }
      (campaign, channel, serial) = (found, record.channel, record.first)
    } else {
      guard let found = locator.locate(slot: record.slot, payload: record.payload) else {
        return nil
      }
      (campaign, channel, serial) = found
    }
    let profile = record.profile.text
    self.init(
      kind: kind, time: record.time, offset: offset, campaign: campaign, channelIndex: channel,
      serial: serial, lastSerial: record.type >= 4 ? record.last : serial,
      venue: record.type == 1 ? (record.venue == Record.venueOnline ? .online : .store) : nil,
      store: record.store.text, terminal: record.terminal.text,
      profile: Record.visibleProfile(profile), profileErased: Record.isErased(profile),
      request: record.request.text, reason: record.reason.text,
      undoes: record.type == 2 ? record.voided : nil,
      code: record.type <= 3 ? (record.slot, record.payload) : nil)
    usesAfter = Int(record.usesAfter)
    prize = record.prize.text
  }
}
