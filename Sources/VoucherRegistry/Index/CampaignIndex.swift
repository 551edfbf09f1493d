import VoucherKit

#if canImport(Glibc)
  import Glibc
#endif

/// The state of one code, as the index keeps it.
struct CodeEntry: Sendable, Hashable {
  /// Live uses: redemptions minus voids.
  var uses: UInt8 = 0
  /// Bit 0: claimed by a profile.
  var flags: UInt8 = 0
  /// The offset + 1 of the code's latest event in the journal, 0 for none.
  var last: Int64 = 0

  static let claimed: UInt8 = 1
  static let size = 8

  var isClaimed: Bool { flags & Self.claimed != 0 }

  init() {}

  /// The entry as one little-endian word: uses, flags, then the 48-bit event offset.
  init(word: UInt64) {
    uses = UInt8(truncatingIfNeeded: word)
    flags = UInt8(truncatingIfNeeded: word >> 8)
    last = Int64(word >> 16)
  }

  var word: UInt64 { UInt64(uses) | UInt64(flags) << 8 | UInt64(last) << 16 }

  /// The entry once a code's record at `offset` is applied: the one place where records change
  /// entries (a batch, recovery and check all go through it).
  func applying(_ body: Record.Body, at offset: Int64) -> CodeEntry {
    var entry = self
    switch body {
    case .redeem(_, _, _, _, _, let usesAfter): entry.uses = usesAfter
    case .void: entry.uses = uses > 0 ? uses - 1 : 0
    case .claim: entry.flags |= Self.claimed
    case .block, .unblock: break
    }
    entry.last = offset + 1
    return entry
  }
}

/// One campaign's index, `Registry/index/ID.idx`: a header, then 8 bytes per code of the
/// campaign's range (live uses, flags, latest event), addressed by the code's offset in the range.
/// The file has its full size from the start but is sparse, so codes never used take no disk
/// space; it is mapped into memory, so a lookup is one aligned 8-byte load whatever the
/// registry's size, and an update is one store (no system call, no inode update for the
/// journal's sync to carry). Rebuilt from the journal whenever in doubt.
final class CampaignIndex {
  static let headerSize: Int64 = 64
  static let magic = Array("VOUCHERI".utf8)

  let path: String
  let file: FileDescriptor
  let files: any FileLayer
  let base: Int
  let span: Int

  /// The mapped file.
  private let mapping: UnsafeMutableRawPointer
  private let length: Int

  private init(
    path: String, file: FileDescriptor, files: any FileLayer, base: Int, span: Int,
    mapping: UnsafeMutableRawPointer, length: Int
  ) {
    self.path = path
    self.file = file
    self.files = files
    self.base = base
    self.span = span
    self.mapping = mapping
    self.length = length
  }

  deinit {
    files.unmap(mapping, length: length)
    files.close(file)
  }

  /// The header of an index for `campaign` over the journal `journalID`.
  static func header(campaign: Campaign, journalID: [UInt8]) -> [UInt8] {
    var writer = ByteWriter()
    writer.bytes += magic
    writer.u32(2)
    writer.bytes += journalID
    writer.u8(campaign.slot.rawValue)
    writer.u32(UInt32(campaign.base))
    writer.u32(UInt32(campaign.channels.count * campaign.capacity))
    writer.u32(Checksum.crc32c(writer.bytes))
    writer.bytes += [UInt8](repeating: 0, count: Int(headerSize) - writer.bytes.count)
    return writer.bytes
  }

  /// Opens the index of `campaign`.
  ///
  /// With `create` (the caller holds the registry lock), a missing index is made complete under a
  /// unique temporary name (header, full sparse length, synced) and linked into place, so an
  /// existing index is never replaced. Without it, a missing index answers `nil`.
  static func open(
    folder: String, campaign: Campaign, journalID: [UInt8], files: any FileLayer, create: Bool
  ) throws(RegistryError) -> CampaignIndex? {
    let path = "\(folder)/\(campaign.id).idx"
    let expected = header(campaign: campaign, journalID: journalID)
    let span = campaign.channels.count * campaign.capacity
    let length = Int(entriesStart(span: span)) + span * CodeEntry.size
    do throws(SystemError) {
      if !files.exists(path) {
        guard create else { return nil }
        let temporary = "\(path).\(getpid()).\(UInt32.random(in: 0 ... .max)).new"
        let handle = try files.open(temporary, create: true)
        do throws(SystemError) {
          defer { files.close(handle) }
          try files.write(handle, expected, at: 0, path: temporary)
          try files.truncate(handle, to: Int64(length), path: temporary)
          try files.sync(handle, path: temporary)
        } catch {
          try? files.remove(temporary)
          throw error
        }
        do throws(SystemError) {
          try files.link(temporary, to: path)
        } catch {
          // Someone else created it first: theirs is the index.
          guard error.code == EEXIST else {
            try? files.remove(temporary)
            throw error
          }
        }
        try? files.remove(temporary)
        try files.syncDirectory(folder)
      }
      let file = try files.open(path, create: false)
      var keep = false
      defer { if !keep { files.close(file) } }
      let header = try files.read(file, at: 0, count: Int(headerSize), path: path)
      guard header == expected, try files.size(file, path: path) >= Int64(length) else {
        throw SystemError("use", path, code: EBADMSG)
      }
      let mapping = try files.map(file, length: length, path: path)
      keep = true
      return CampaignIndex(
        path: path, file: file, files: files, base: campaign.base, span: span, mapping: mapping,
        length: length)
    } catch {
      if error.code == EBADMSG {
        throw .damaged(
          path: path, offset: 0,
          reason:
            "the index header or length does not match the journal and campaign"
        )
      }
      throw .io(error)
    }
  }

  /// The header byte a rebuild sets in the index it replaces. Every process maps the same page,
  /// so a process still holding the old file sees it at once and opens the new one.
  static let replacedFlagOffset = 63

  /// Whether a rebuild replaced this index file.
  var isReplaced: Bool {
    mapping.load(fromByteOffset: Self.replacedFlagOffset, as: UInt8.self) != 0
  }

  /// Marks this index file replaced (by a rebuild, under the lock).
  func markReplaced() {
    mapping.storeBytes(of: 1, toByteOffset: Self.replacedFlagOffset, as: UInt8.self)
  }

  /// Pages whose disk space this object has made sure of.
  private var reserved = Set<Int>()

  /// Makes sure the disk space under a code's entry is allocated, so that storing the entry
  /// cannot fail: called before the journal write that the entry will reflect.
  func reserve(payload: UInt32) throws(RegistryError) {
    for page in [position(payload) >> 12, bit(payload).offset >> 12] where !reserved.contains(page)
    {
      do {
        try files.reserve(file, offset: Int64(page) << 12, length: 4096, path: path)
      } catch {
        throw .io(error)
      }
      reserved.insert(page)
      markAllocated(page: page)
    }
  }

  /// Pages known to have their disk space allocated, one bit each: reserved by this object, or
  /// found to be data by `lseek` (two calls per extent, so a dense index costs two in all). Only
  /// these are read through the mapping: on some file systems (tmpfs) touching a hole of a shared
  /// mapping allocates it, and on a full one that is a SIGBUS, not an error.
  private lazy var allocated = [UInt64](repeating: 0, count: (length >> 12) / 64 + 1)

  private func markAllocated(page: Int) {
    allocated[page >> 6] |= 1 << UInt64(page & 63)
  }

  /// How to read the byte at `offset`: `true` through the mapping (its page is allocated),
  /// `false` not at all (its page is a hole, which reads as zeros), `nil` with `pread` (the file
  /// system could not say).
  private func readsMapped(_ offset: Int) -> Bool? {
    let page = offset >> 12
    if allocated[page >> 6] & (1 << UInt64(page & 63)) != 0 { return true }
    let end: Int64?
    do {
      end = try files.dataExtent(file, at: Int64(page) << 12, path: path)
    } catch {
      return nil
    }
    guard let end else { return false }
    for covered in page...((min(Int(end), length) - 1) >> 12) { markAllocated(page: covered) }
    return true
  }

  /// The entry of the code with payload `payload`: one aligned load, atomic against a writer,
  /// from an allocated page; zero from a hole; else one `pread` (of 8 aligned bytes, also atomic
  /// against a store through a mapping).
  func entry(payload: UInt32) throws(RegistryError) -> CodeEntry {
    let at = position(payload)
    switch readsMapped(at) {
    case true?:
      return CodeEntry(
        word: UInt64(littleEndian: mapping.load(fromByteOffset: at, as: UInt64.self)))
    case false?:
      return CodeEntry()
    case nil:
      var word: UInt64 = 0
      try read(into: &word, at: at)
      return CodeEntry(word: UInt64(littleEndian: word))
    }
  }

  /// Reads a value of the file at `offset` with `pread`, never through the mapping.
  private func read<T>(into value: inout T, at offset: Int) throws(RegistryError) {
    let count = MemoryLayout<T>.size
    let got: Int
    do {
      got = try withUnsafeMutableBytes(of: &value) { (buffer) throws(SystemError) -> Int in
        try files.read(file, into: buffer, at: Int64(offset), path: path)
      }
    } catch {
      throw .io(error)
    }
    guard got == count else {
      throw .damaged(path: path, offset: Int64(offset), reason: "the index file is cut short")
    }
  }

  /// Calls `visit` with every entry and its bit, in order of payload, reading the file in large
  /// chunks with `pread` (never through the mapping, so holes stay holes): for `registry check`.
  func forEachEntry(_ visit: (UInt32, CodeEntry, Bool) -> Bool) throws(RegistryError) {
    let bitmap = try readRange(at: Int(Self.headerSize), count: (span + 7) / 8)
    let start = Int(Self.entriesStart(span: span))
    let perChunk = (1 << 20) / CodeEntry.size
    var first = 0
    while first < span {
      let count = min(perChunk, span - first)
      let bytes = try readRange(at: start + first * CodeEntry.size, count: count * CodeEntry.size)
      for i in 0..<count {
        let index = first + i
        var word: UInt64 = 0
        for b in (0..<8).reversed() { word = word << 8 | UInt64(bytes[i * 8 + b]) }
        let bit = bitmap[index / 8] & (UInt8(1) << (index % 8)) != 0
        if !visit(UInt32(base + index), CodeEntry(word: word), bit) { return }
      }
      first += count
    }
  }

  private func readRange(at offset: Int, count: Int) throws(RegistryError) -> [UInt8] {
    let bytes: [UInt8]
    do {
      bytes = try files.read(file, at: Int64(offset), count: count, path: path)
    } catch {
      throw .io(error)
    }
    guard bytes.count == count else {
      throw .damaged(path: path, offset: Int64(offset), reason: "the index file is cut short")
    }
    return bytes
  }

  /// Writes the entry of a code (not synced: the journal is the truth).
  func write(_ entry: CodeEntry, payload: UInt32) {
    mapping.storeBytes(
      of: entry.word.littleEndian, toByteOffset: position(payload), as: UInt64.self)
    // The entry first, then its bit: a code's bit is never set while its entry is still empty.
    let (offset, mask) = bit(payload)
    let byte = mapping.load(fromByteOffset: offset, as: UInt8.self)
    let wanted = entry.last != 0 ? byte | mask : byte & ~mask
    if wanted != byte { mapping.storeBytes(of: wanted, toByteOffset: offset, as: UInt8.self) }
  }

  /// Flushes the index to disk, for a checkpoint.
  func sync() throws(RegistryError) {
    do {
      try files.sync(file, path: path)
    } catch {
      throw .syncFailed(path: path, code: error.code)
    }
  }

  private func position(_ payload: UInt32) -> Int {
    precondition(
      Int(payload) >= base && Int(payload) < base + span, "a payload outside the campaign's range")
    return Int(Self.entriesStart(span: span)) + (Int(payload) - base) * CodeEntry.size
  }

  /// Where the entries start: after the header and the bitmap of codes with events (one bit per
  /// code, rounded up to whole words).
  static func entriesStart(span: Int) -> Int64 { headerSize + Int64((span + 63) / 64 * 8) }

  /// The byte offset of a code's entry in its campaign's index file, for messages.
  static func entryOffset(_ campaign: Campaign, payload: Int) -> Int64 {
    let span = campaign.channels.count * campaign.capacity
    return entriesStart(span: span) + Int64(payload - campaign.base) * Int64(CodeEntry.size)
  }

  /// The byte and bit of a code in the bitmap of codes with events.
  private func bit(_ payload: UInt32) -> (offset: Int, mask: UInt8) {
    let index = Int(payload) - base
    return (Int(Self.headerSize) + index / 8, UInt8(1) << (index % 8))
  }

  /// Sets a code's bit (recovery, when its entry is already on disk).
  func markEvents(payload: UInt32) {
    let (offset, mask) = bit(payload)
    let byte = mapping.load(fromByteOffset: offset, as: UInt8.self)
    if byte & mask == 0 {
      mapping.storeBytes(of: byte | mask, toByteOffset: offset, as: UInt8.self)
    }
  }

  /// Whether the code has had an event: a second record of it, apart from its entry, so that an
  /// entry zeroed on disk is told from a code never used. A lock-free reader that finds an empty
  /// entry with its bit set may have raced a writer (entry first, then bit): it asks again under
  /// the lock.
  func hasEvents(payload: UInt32) throws(RegistryError) -> Bool {
    let (offset, mask) = bit(payload)
    switch readsMapped(offset) {
    case true?: return mapping.load(fromByteOffset: offset, as: UInt8.self) & mask != 0
    case false?: return false
    case nil:
      var byte: UInt8 = 0
      try read(into: &byte, at: offset)
      return byte & mask != 0
    }
  }

}
