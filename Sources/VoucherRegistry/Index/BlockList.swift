import VoucherKit

/// The blocked serial ranges, `Registry/blocks`: a small text file rewritten atomically at every
/// block or unblock (rare), so a redeem checks a code against a short list, not the journal.
///
/// ```
/// voucher-blocks 1 JOURNAL-ID-HEX COVERED-OFFSET
/// block 1234 summer 0 1 500
/// unblock 5678 summer 0 100 200
/// ```
/// Each line names the journal offset of its record; the latest line covering a serial decides.
struct BlockList: Equatable {
  struct Entry: Equatable {
    let blocked: Bool
    let offset: Int64
    let range: SerialRange
  }

  var entries: [Entry] = []
  /// The journal offset up to which every block record is in this list.
  var covered: Int64 = 0

  /// The offset of the block record that blocks a serial, if it is blocked.
  func blockingRecord(campaign: String, channel: Int, serial: Int) -> Int64? {
    for entry in entries.reversed()
    where entry.range.campaign == campaign && entry.range.channel == channel
      && (entry.range.first...entry.range.last).contains(serial)
    {
      return entry.blocked ? entry.offset : nil
    }
    return nil
  }

  /// Every block or unblock record covering a serial, oldest first.
  func records(campaign: String, channel: Int, serial: Int) -> [Int64] {
    entries.filter {
      $0.range.campaign == campaign && $0.range.channel == channel
        && ($0.range.first...$0.range.last).contains(serial)
    }
    .map(\.offset)
  }

  func render(journalID: [UInt8]) -> [UInt8] {
    var text = "voucher-blocks 1 \(hex(journalID)) \(covered)\n"
    for entry in entries {
      text +=
        "\(entry.blocked ? "block" : "unblock") \(entry.offset) \(entry.range.campaign) \(entry.range.channel) \(entry.range.first) \(entry.range.last)\n"
    }
    return Array(text.utf8)
  }

  static func parse(_ bytes: [UInt8], journalID: [UInt8], path: String) throws(RegistryError)
    -> BlockList
  {
    let text = String(decoding: bytes, as: UTF8.self)
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    guard lines.last == "" else {
      throw .damaged(
        path: path, offset: Int64(bytes.count), reason: "the file does not end with a line end")
    }
    lines.removeLast()
    guard let header = lines.first?.split(separator: " "), header.count == 4,
      header[0] == "voucher-blocks", header[1] == "1",
      header[2] == hex(journalID)[...], let covered = Int64(header[3])
    else {
      throw .damaged(
        path: path, offset: 0,
        reason: "the header does not match the journal")
    }
    var list = BlockList(entries: [], covered: covered)
    var offset = Int64(lines[0].utf8.count + 1)
    for line in lines.dropFirst() {
      let fields = line.split(separator: " ")
      guard fields.count == 6, fields[0] == "block" || fields[0] == "unblock",
        let record = Int64(fields[1]),
        let channel = Int(fields[3]), let first = Int(fields[4]), let last = Int(fields[5]),
        first <= last
      else { throw .damaged(path: path, offset: offset, reason: "a line is not a block entry") }
      list.entries.append(
        Entry(
          blocked: fields[0] == "block", offset: record,
          range: SerialRange(
            campaign: String(fields[2]), channel: channel, first: first, last: last)))
      offset += Int64(line.utf8.count + 1)
    }
    return list
  }
}

/// Lower-case hexadecimal.
func hex(_ bytes: [UInt8]) -> String {
  bytes.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
}
