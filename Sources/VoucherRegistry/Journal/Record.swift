/// A code as the registry knows it: its key slot and payload (campaign range, channel, serial).
struct CodeRef: Sendable, Hashable {
  let slot: UInt8
  let payload: UInt32
}

/// A range of serials of one campaign channel, for blocks.
struct SerialRange: Sendable, Hashable {
  let campaign: String
  let channel: Int
  let first: Int
  let last: Int
}

/// One event in the journal.
///
/// On disk:
/// ```
/// u8 0xA5 | u8 type | u16 body length | u32 CRC-32C of (type, length, body) | body
/// ```
/// Bodies of code events start with the time (ms since 1970), the offset + 1 of the code's
/// previous event (0: none; the events of a code form a chain backwards through the journal)
/// and the code (slot, payload). All integers are little-endian; strings carry their length.
struct Record: Sendable, Hashable {
  /// What happened.
  enum Body: Sendable, Hashable {
    /// One use of a code.
    case redeem(
      venue: UInt8, store: String?, terminal: String?, profile: String?, request: String?,
      usesAfter: UInt8)
    /// A redemption undone; `voided` is the redeem record's offset.
    case void(voided: Int64, reason: String?, request: String?)
    /// A code linked to a customer profile, with the prize the claim won (a trailing string,
    /// absent when it won none: records written before prizes read the same).
    case claim(profile: String, prize: String? = nil)
    /// A range of serials blocked.
    case block(SerialRange, reason: String?)
    /// A range of serials unblocked.
    case unblock(SerialRange, reason: String?)

    var type: UInt8 {
      switch self {
      case .redeem: return 1
      case .void: return 2
      case .claim: return 3
      case .block: return 4
      case .unblock: return 5
      }
    }
  }

  /// Milliseconds since 1970.
  let time: Int64
  /// The code, for code events.
  let code: CodeRef?
  /// The offset + 1 of the code's previous event, 0 for none.
  let previous: Int64
  let body: Body

  static let marker: UInt8 = 0xA5
  static let headerSize = 8
  /// Venue numbers in redeem records.
  static let venueStore: UInt8 = 1
  static let venueOnline: UInt8 = 2
  /// Record times lie from 1970 to the end of 9999 (in milliseconds): anything else is damage.
  static let times: ClosedRange<Int64> = 0...253_402_300_799_999

  /// Whether a profile field was erased by `forget`: its bytes overwritten with zeros in place, so
  /// that the record keeps its length and every offset that names it. No profile id can be all
  /// zeros (ids are printable), so an erased field is never mistaken for a profile.
  static func isErased(_ profile: String?) -> Bool {
    guard let profile, !profile.isEmpty else { return false }
    return profile.utf8.allSatisfy { $0 == 0 }
  }

  /// A profile field as readers see it: `nil` when absent or erased.
  static func visibleProfile(_ profile: String?) -> String? {
    isErased(profile) ? nil : profile
  }

  /// The record's bytes, header included.
  func encoded() -> [UInt8] {
    var body = ByteWriter()
    body.i64(time)
    switch self.body {
    case .block(let range, let reason), .unblock(let range, let reason):
      body.short(range.campaign)
      body.u16(UInt16(range.channel))
      body.u32(UInt32(range.first))
      body.u32(UInt32(range.last))
      body.long(reason)
    default:
      let code = code!
      body.i64(previous)
      body.u8(code.slot)
      body.u32(code.payload)
      switch self.body {
      case .redeem(let venue, let store, let terminal, let profile, let request, let usesAfter):
        body.u8(venue)
        body.short(store)
        body.short(terminal)
        body.short(profile)
        body.short(request)
        body.u8(usesAfter)
      case .void(let voided, let reason, let request):
        body.i64(voided)
        body.long(reason)
        body.short(request)
      case .claim(let profile, let prize):
        body.short(profile)
        if let prize { body.short(prize) }
      case .block, .unblock:
        break
      }
    }
    var checked = ByteWriter()
    checked.u8(self.body.type)
    checked.u16(UInt16(body.bytes.count))
    checked.bytes += body.bytes
    var out = ByteWriter()
    out.u8(Self.marker)
    out.bytes += checked.bytes[0..<3]
    out.u32(Checksum.crc32c(checked.bytes))
    out.bytes += body.bytes
    return out.bytes
  }

  /// What a look at the bytes at some offset found.
  enum Decoded {
    /// A whole, valid record of `length` bytes.
    case record(Record, length: Int)
    /// Fewer bytes than a record needs: the end of the data, or a torn write.
    case truncated
    /// Bytes that are not a valid record.
    case invalid(String)
  }

  /// Decodes the record at the start of `bytes`: the one decoder, ``RawRecord/decode(_:count:)``,
  /// checks it; this makes its values.
  static func decode(_ bytes: ArraySlice<UInt8>) -> Decoded {
    guard bytes.count >= headerSize else { return .truncated }
    return bytes.withUnsafeBytes { raw -> Decoded in
      switch RawRecord.decode(raw.baseAddress!, count: raw.count) {
      case .truncated: return .truncated
      case .invalid(let reason): return .invalid(reason)
      case .record(let record): return .record(Record(record), length: record.length)
      }
    }
  }
}

extension Record {
  /// The values of a record checked in place.
  init(_ raw: RawRecord) {
    time = raw.time
    switch raw.type {
    case 4, 5:
      let range = SerialRange(
        campaign: raw.campaign.text ?? "", channel: raw.channel, first: raw.first, last: raw.last)
      let reason = raw.reason.text
      code = nil
      previous = 0
      body = raw.type == 4 ? .block(range, reason: reason) : .unblock(range, reason: reason)
    default:
      code = CodeRef(slot: raw.slot, payload: raw.payload)
      previous = raw.previous
      switch raw.type {
      case 1:
        body = .redeem(
          venue: raw.venue, store: raw.store.text, terminal: raw.terminal.text,
          profile: raw.profile.text, request: raw.request.text, usesAfter: raw.usesAfter)
      case 2:
        body = .void(voided: raw.voided, reason: raw.reason.text, request: raw.request.text)
      default:
        body = .claim(profile: raw.profile.text ?? "", prize: raw.prize.text)
      }
    }
  }
}
