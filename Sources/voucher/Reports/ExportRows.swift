import Dispatch
import FoundationEssentials
import Synchronization
import VoucherKit
import VoucherRegistry
import VoucherService

/// Export rows written as bytes, remembering what repeats from row to row: the campaign's
/// issuer (which prints the code again) and the text of the last second. Fields that need no
/// quoting or escaping (nearly all: ids are plain ASCII) are copied as they are.
struct ExportRows: Sendable {
  /// The issuer of every campaign exported: each code event's code is printed again.
  let issuers: [CampaignID: Issuer]
  private var issuer: Issuer?
  private var second: (value: Int64, text: [UInt8]) = (.min, [])

  /// Rows for events of `campaigns`, printing codes with their keys from `ring` (retired and
  /// revoked keys too: the codes were issued).
  ///
  /// - Throws: ``CampaignError/missingKey(_:)`` when the ring lacks a campaign's key: an export
  ///   never leaves a code out silently.
  init(campaigns: [Campaign], ring: KeyRing) throws(CampaignError) {
    var issuers: [CampaignID: Issuer] = [:]
    for campaign in campaigns {
      issuers[campaign.id] = try Issuer(
        campaign: campaign, keyRing: ring, allowingInactiveKey: true)
    }
    self.issuers = issuers
  }

  /// The code of a code event (`nil` for a block or unblock, which names a range).
  private mutating func code(_ event: JournalEvent) -> VoucherCode? {
    guard event.kind != .blocked && event.kind != .unblocked else { return nil }
    if issuer?.campaign != event.campaign { issuer = issuers[event.campaign.id] }
    return issuer?.code(channel: event.channelIndex, serial: event.serial)
  }

  /// Appends the event's time in ISO 8601, to the millisecond as the journal keeps it: the
  /// text up to the second is made once per second, then copied.
  private mutating func appendTime(_ event: JournalEvent, to out: inout [UInt8]) {
    // Record times are never negative (the decoder refuses them).
    let value = event.time / 1000
    if value != second.value {
      // `...:SS.` (the text without its `Z`, and the point).
      second = (
        value,
        Array(ISO8601.format(Date(timeIntervalSince1970: Double(value))).utf8.dropLast()) + [0x2E]
      )
    }
    out.append(contentsOf: second.text)
    let milliseconds = Int(event.time % 1000)
    out.append(UInt8(0x30 + milliseconds / 100))
    out.append(UInt8(0x30 + milliseconds / 10 % 10))
    out.append(UInt8(0x30 + milliseconds % 10))
    out.append(0x5A)
  }

  /// The rows of many events, made on two cores: each half of the events is written by a copy
  /// of these rows of its own (the caches are per copy). The halves' bytes, in order.
  func rows(_ events: [JournalEvent], json: Bool) -> [[UInt8]] {
    let parts = events.count < 512 ? 1 : 2
    let size = (events.count + parts - 1) / parts
    let made = Mutex([[UInt8]](repeating: [], count: parts))
    let make: @Sendable (Int) -> Void = { [self] part in
      var rows = self
      var out: [UInt8] = []
      out.reserveCapacity(size * 160)
      for event in events[(part * size)..<min(events.count, (part + 1) * size)] {
        if json { rows.json(event, into: &out) } else { rows.csv(event, into: &out) }
      }
      made.withLock { $0[part] = out }
    }
    if parts == 1 {
      make(0)
    } else {
      DispatchQueue.concurrentPerform(iterations: parts, execute: make)
    }
    return made.withLock { $0 }
  }

  mutating func csv(_ event: JournalEvent, into out: inout [UInt8]) {
    let isBlock = event.kind == .blocked || event.kind == .unblocked
    // Text quoted (blank when it does not apply), numbers and booleans bare.
    func text(_ value: String?) {
      if let value { Self.appendCSV(value, to: &out) }
      out.append(0x2C)
    }
    func number(_ value: Int?, last: Bool = false) {
      if let value { out.appendDecimal(value) }
      if last { out.append(contentsOf: [0x0D, 0x0A]) } else { out.append(0x2C) }
    }
    text(event.kind.rawValue)
    // A time needs no quoting: quoted as the other text is.
    out.append(0x22)
    appendTime(event, to: &out)
    out.append(contentsOf: [0x22, 0x2C])
    text(event.campaign.id.rawValue)
    text(event.channel.rawValue)
    number(event.serial)
    number(isBlock ? event.lastSerial : event.serial)
    if let code = code(event) {
      out.append(0x22)
      code.appendPrinted(to: &out)
      out.append(0x22)
    }
    out.append(0x2C)
    text(event.venue?.rawValue)
    text(event.store)
    text(event.terminal)
    text(event.profile)
    out.append(contentsOf: (event.profileErased ? "true," : "false,").utf8)
    text(event.request)
    text(event.reason)
    number(Int(event.offset))
    number(event.undoes.map { Int($0) })
    if let prize = event.prize { Self.appendCSV(prize, to: &out) }
    out.append(contentsOf: [0x0D, 0x0A])
  }

  mutating func json(_ event: JournalEvent, into out: inout [UInt8]) {
    let isBlock = event.kind == .blocked || event.kind == .unblocked
    var first = true
    // Every column is present; a field that does not apply is null.
    func key(_ name: StaticString) {
      out.append(first ? 0x7B : 0x2C)
      first = false
      out.append(0x22)
      name.withUTF8Buffer { out.append(contentsOf: $0) }
      out.append(contentsOf: [0x22, 0x3A])
    }
    func text(_ name: StaticString, _ value: String?) {
      key(name)
      if let value { Self.appendJSON(value, to: &out) } else { out.append(contentsOf: "null".utf8) }
    }
    func number(_ name: StaticString, _ value: Int?) {
      key(name)
      if let value {
        out.appendDecimal(value)
      } else {
        out.append(contentsOf: "null".utf8)
      }
    }
    text("event", event.kind.rawValue)
    key("time")
    out.append(0x22)
    appendTime(event, to: &out)
    out.append(0x22)
    text("campaign", event.campaign.id.rawValue)
    text("channel", event.channel.rawValue)
    number("serial", event.serial)
    number("lastSerial", isBlock ? event.lastSerial : event.serial)
    key("code")
    if let code = code(event) {
      out.append(0x22)
      code.appendPrinted(to: &out)
      out.append(0x22)
    } else {
      out.append(contentsOf: "null".utf8)
    }
    text("venue", event.venue?.rawValue)
    text("store", event.store)
    text("terminal", event.terminal)
    text("profile", event.profile)
    key("profileErased")
    out.append(contentsOf: (event.profileErased ? "true" : "false").utf8)
    text("request", event.request)
    text("reason", event.reason)
    number("id", Int(event.offset))
    number("undoes", event.undoes.map { Int($0) })
    text("prize", event.prize)
    out.append(contentsOf: [0x7D, 0x0A])
  }

  /// Appends a quoted CSV field: its bytes as they are between the quotes when there is no
  /// quote to double and nothing to neutralise.
  static func appendCSV(_ text: String, to out: inout [UInt8]) {
    var text = text
    let plain = text.withUTF8 { bytes in
      guard CSV.isPlain(bytes) else { return false }
      out.append(0x22)
      out.append(contentsOf: bytes)
      out.append(0x22)
      return true
    }
    if !plain {
      var field = ""
      CSV.append(text, to: &field)
      out.append(contentsOf: field.utf8)
    }
  }

  /// Appends a JSON string literal: the bytes as they are when nothing needs escaping.
  static func appendJSON(_ text: String, to out: inout [UInt8]) {
    var text = text
    let plain = text.withUTF8 { bytes in
      guard !bytes.contains(where: JSONWriter.needsEscape) else { return false }
      out.append(0x22)
      out.append(contentsOf: bytes)
      out.append(0x22)
      return true
    }
    if !plain { out.append(contentsOf: JSONWriter.quoted(text).utf8) }
  }
}
