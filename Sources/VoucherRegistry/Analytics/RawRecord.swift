/// A record checked and read where it lies: numbers and strings are read from its bytes when
/// asked for. Valid only as long as the buffer that holds it; reports read millions of these and
/// make a `String` only when they must.
///
/// The layout is ``Record``'s, and ``decode(_:count:)`` is the journal's one record decoder:
/// ``Record/decode(_:)`` makes its values from what this one checked.
struct RawRecord {
  /// The record's first byte.
  let base: UnsafeRawPointer
  /// The record type (1 redeem, 2 void, 3 claim, 4 block, 5 unblock).
  let type: UInt8
  /// The whole record's length, header included.
  let length: Int

  private var body: UnsafeRawPointer { base + Record.headerSize }
  private func integer<T: FixedWidthInteger>(_ offset: Int, _: T.Type) -> T {
    T(littleEndian: body.loadUnaligned(fromByteOffset: offset, as: T.self))
  }
  /// The string whose length prefix (one byte, or two for `long`) is at `offset`, and the
  /// offset after it.
  private func string(at offset: Int, long: Bool = false) -> (UnsafeRawBufferPointer, Int) {
    let count = long ? Int(integer(offset, UInt16.self)) : Int(integer(offset, UInt8.self))
    let start = offset + (long ? 2 : 1)
    return (UnsafeRawBufferPointer(start: body + start, count: count), start + count)
  }

  var time: Int64 { integer(0, Int64.self) }
  var previous: Int64 { integer(8, Int64.self) }
  var slot: UInt8 { integer(16, UInt8.self) }
  var payload: UInt32 { integer(17, UInt32.self) }
  /// A redemption's venue.
  var venue: UInt8 { type == 1 ? integer(21, UInt8.self) : 0 }
  var store: UnsafeRawBufferPointer { type == 1 ? string(at: 22).0 : .empty }
  var terminal: UnsafeRawBufferPointer { type == 1 ? string(at: string(at: 22).1).0 : .empty }
  var profile: UnsafeRawBufferPointer {
    switch type {
    case 1: return string(at: string(at: string(at: 22).1).1).0
    case 3: return string(at: 21).0
    default: return .empty
    }
  }
  var request: UnsafeRawBufferPointer {
    switch type {
    case 1: return string(at: string(at: string(at: string(at: 22).1).1).1).0
    case 2: return string(at: string(at: 29, long: true).1).0
    default: return .empty
    }
  }
  var reason: UnsafeRawBufferPointer {
    switch type {
    case 2: return string(at: 29, long: true).0
    case 4, 5: return string(at: string(at: 8).1 + 10, long: true).0
    default: return .empty
    }
  }
  /// The prize a claim won: a string after the profile, absent when it won none.
  var prize: UnsafeRawBufferPointer {
    guard type == 3 else { return .empty }
    let after = string(at: 21).1
    return after < length - Record.headerSize ? string(at: after).0 : .empty
  }
  /// A redemption's live uses once it was recorded: the body's last byte.
  var usesAfter: UInt8 {
    type == 1 ? base.load(fromByteOffset: length - 1, as: UInt8.self) : 0
  }
  /// A void's target offset.
  var voided: Int64 { type == 2 ? integer(21, Int64.self) : 0 }
  /// A block's campaign, channel and serials.
  var campaign: UnsafeRawBufferPointer { type >= 4 ? string(at: 8).0 : .empty }
  var channel: Int { Int(integer(string(at: 8).1, UInt16.self)) }
  var first: Int { Int(integer(string(at: 8).1 + 2, UInt32.self)) }
  var last: Int { Int(integer(string(at: 8).1 + 6, UInt32.self)) }

  /// What a look at some bytes found.
  enum Decoded {
    case record(RawRecord)
    case truncated
    /// Not a valid record, and why.
    case invalid(String)
  }

  /// Checks the record at `base` with `count` bytes available.
  static func decode(_ base: UnsafeRawPointer, count: Int) -> Decoded {
    guard count >= Record.headerSize else { return .truncated }
    guard base.load(as: UInt8.self) == Record.marker else {
      return .invalid("no record starts here")
    }
    let bodyLength = Int(
      UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2, as: UInt16.self)))
    let length = Record.headerSize + bodyLength
    guard count >= length else { return .truncated }
    let stored = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
    guard Checksum.record(base, bodyLength: bodyLength) == stored else {
      return .invalid("checksum mismatch")
    }
    let record = RawRecord(
      base: base, type: base.load(fromByteOffset: 1, as: UInt8.self), length: length)
    // Walk the body's fields: they must fill it exactly, and every string must be UTF-8.
    let body = UnsafeRawBufferPointer(start: base + Record.headerSize, count: bodyLength)
    var position = 0
    func skip(_ count: Int) -> Bool {
      position += count
      return position <= bodyLength
    }
    func text(long: Bool = false) -> Bool {
      let prefix = long ? 2 : 1
      guard position + prefix <= bodyLength else { return false }
      let count = long ? Int(body[position]) | Int(body[position + 1]) << 8 : Int(body[position])
      position += prefix
      guard position + count <= bodyLength else { return false }
      defer { position += count }
      return isUTF8(UnsafeRawBufferPointer(rebasing: body[position..<(position + count)]))
    }
    let valid: Bool
    switch record.type {
    case 1: valid = skip(22) && text() && text() && text() && text() && skip(1)
    case 2: valid = skip(29) && text(long: true) && text()
    case 3: valid = skip(21) && text() && (position == bodyLength || text())
    case 4, 5: valid = skip(8) && text() && skip(10) && text(long: true)
    default: return .invalid("unknown record type \(record.type)")
    }
    guard valid, position == bodyLength else { return .invalid("malformed record body") }
    guard Record.times.contains(record.time) else { return .invalid("an impossible time") }
    switch record.type {
    case 2 where record.voided < 0 || record.voided == Int64.max:
      return .invalid("a void names an impossible offset")
    case 4 where record.first < 1 || record.first > record.last,
      5 where record.first < 1 || record.first > record.last:
      return .invalid("a block range runs backwards")
    default:
      return .record(record)
    }
  }

  /// Whether bytes are UTF-8: ASCII at a glance, else validated.
  private static func isUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
    for byte in bytes where byte >= 0x80 {
      return String(validating: bytes, as: UTF8.self) != nil
    }
    return true
  }
}

extension UnsafeRawBufferPointer {
  /// No bytes.
  static var empty: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: nil, count: 0) }

  /// The bytes as a string, `nil` when empty (as the journal stores an absent string).
  var text: String? { isEmpty ? nil : String(decoding: self, as: UTF8.self) }
}
