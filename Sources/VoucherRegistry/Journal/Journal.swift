import VoucherKit

#if canImport(Glibc)
  import Glibc
#endif

/// The journal, `Registry/journal`: the registry's source of truth. Everything else under
/// `Registry/` can be rebuilt from it.
///
/// It starts with a 32-byte header (`VOUCHERJ`, version, a random journal id that ties the other
/// files to this journal, CRC-32C), then one frame per commit (version 2; version 1 journals hold
/// bare records), each holding whole records (see ``Record``), then zeros: the file is
/// allocated ahead in chunks, so that appending a record overwrites allocated space and its
/// `fdatasync` need not commit a new file size (about half the cost of a growing append here).
/// The data ends where a record header would be all zeros.
final class Journal {
  static let headerSize: Int64 = 32
  static let magic = Array("VOUCHERJ".utf8)
  /// How far ahead the file is allocated.
  static let allocationChunk: Int64 = 4 << 20

  let path: String
  let file: FileDescriptor
  let files: any FileLayer
  /// The random id written at creation.
  let id: [UInt8]
  /// Whether each commit is framed (version 2); version 1 journals hold bare records, and are
  /// still read and appended to as they are.
  let framed: Bool
  /// A frame: `u8 0xA6 | 3 zero bytes | u32 length | u32 CRC-32C of (length, records)`, then
  /// `length` bytes of whole records: the records of one commit, all valid or none.
  static let frameMarker: UInt8 = 0xA6
  static let frameHeaderSize = 12
  /// The file's size when last asked: a lower bound, refreshed only when the data reaches it.
  /// Asking on every operation would cost more than the system call: on kernels with multigrain
  /// timestamps, a `stat` makes the next write set a fine-grained mtime, which dirties the inode,
  /// which on an ext4 without a journal makes every `fdatasync` write the inode block too.
  private var knownSize: Int64 = 0

  /// Opens an existing journal and checks its header.
  init(path: String, files: any FileLayer) throws(RegistryError) {
    self.path = path
    self.files = files
    do {
      file = try files.open(path, create: false)
    } catch {
      throw error.isMissing ? .missing(path: path) : .io(error)
    }
    let header: [UInt8]
    do {
      header = try files.read(file, at: 0, count: Int(Self.headerSize), path: path)
    } catch {
      files.close(file)
      throw .io(error)
    }
    guard let (id, version) = Self.parseHeader(header) else {
      files.close(file)
      throw .damaged(path: path, offset: 0, reason: "the journal header is not valid")
    }
    self.id = id
    framed = version >= 2
    knownSize = try fileSize()
  }

  deinit { files.close(file) }

  /// The header bytes of a new journal.
  static func header(id: [UInt8]) -> [UInt8] {
    var writer = ByteWriter()
    writer.bytes += magic
    writer.u32(2)
    writer.bytes += id
    writer.u32(Checksum.crc32c(writer.bytes))
    return writer.bytes
  }

  private static func parseHeader(_ bytes: [UInt8]) -> (id: [UInt8], version: UInt32)? {
    guard bytes.count == Int(headerSize), Array(bytes[0..<8]) == magic else { return nil }
    var reader = ByteReader(bytes[8...])
    let version = reader.u32()
    guard version == 1 || version == 2 else { return nil }
    let id = Array(bytes[12..<28])
    var crc = ByteReader(bytes[28..<32])
    guard Checksum.crc32c(bytes[0..<28]) == crc.u32() else { return nil }
    return (id, version)
  }

  /// The bytes in front of a commit's records: a frame header, or none in a version 1 journal.
  var frameOverhead: Int { framed ? Self.frameHeaderSize : 0 }

  /// The bytes to append for a commit: its records, framed in a version 2 journal.
  func commitBytes(_ records: [UInt8]) -> [UInt8] {
    guard framed else { return records }
    var length = ByteWriter()
    length.u32(UInt32(records.count))
    var writer = ByteWriter()
    writer.u8(Self.frameMarker)
    writer.bytes += [0, 0, 0]
    writer.bytes += length.bytes
    writer.u32(Checksum.crc32c(length.bytes + records))
    writer.bytes += records
    return writer.bytes
  }

  /// The file's length in bytes, allocated space included, asked of the file system.
  func fileSize() throws(RegistryError) -> Int64 {
    do {
      knownSize = try files.size(file, path: path)
      return knownSize
    } catch {
      throw .io(error)
    }
  }

  /// Writes records at `offset` (the end of the data) without syncing, allocating space ahead
  /// when the file is full.
  func write(_ bytes: [UInt8], at offset: Int64) throws(RegistryError) {
    let needed = offset + Int64(bytes.count)
    if needed > knownSize, needed > (try fileSize()) {
      do {
        try files.allocate(file, to: needed + Self.allocationChunk, path: path)
      } catch {
        throw .io(error)
      }
      knownSize = needed + Self.allocationChunk
    }
    do {
      try files.write(file, bytes, at: offset, path: path)
    } catch {
      throw .io(error)
    }
  }

  /// Flushes the journal to disk. A failure is fatal for the operation: never retried.
  func sync() throws(RegistryError) {
    do {
      try files.sync(file, path: path)
    } catch {
      throw .syncFailed(path: path, code: error.code)
    }
  }

  /// The record at `offset`, which must be whole and valid.
  func record(at offset: Int64) throws(RegistryError) -> (record: Record, length: Int) {
    let bytes = try recordBytes(at: offset)
    switch Record.decode(bytes[...]) {
    case .record(let record, let length): return (record, length)
    case .truncated: throw .damaged(path: path, offset: offset, reason: "a record is cut short")
    case .invalid(let reason): throw .damaged(path: path, offset: offset, reason: reason)
    }
  }

  /// The bytes at `offset` that its record header says the record has (at least 256, when the
  /// file has them), not yet checked.
  func recordBytes(at offset: Int64) throws(RegistryError) -> [UInt8] {
    var bytes: [UInt8]
    do {
      // Records are short: one small read, and a second only for a long one.
      bytes = try files.read(file, at: offset, count: 256, path: path)
      if bytes.count >= Record.headerSize {
        let length = Record.headerSize + (Int(bytes[2]) | Int(bytes[3]) << 8)
        if length > bytes.count {
          bytes = try files.read(file, at: offset, count: length, path: path)
        }
      }
    } catch {
      throw .io(error)
    }
    return bytes
  }

  /// How the data ended.
  enum ScanEnd: Equatable {
    /// Whole records up to `end`, then zeros (or the end of the file).
    case clean(end: Int64)
    /// From `at`: bytes that are not a whole record and no valid record after them (a torn
    /// tail, left by a crash while appending a record that was never acknowledged).
    case tornTail(at: Int64)
  }

  /// Reads records from `start` in order, calling `visit` with each offset and record, until the
  /// data ends, through the journal's one scanner (``JournalScanner``), checking every commit's
  /// frame.
  ///
  /// A frame (a record, in a version 1 journal) that is not whole and valid is a commit that
  /// never completed (a torn tail: with its sectors persisted in any order), unless a valid one
  /// follows it: damage.
  ///
  /// - Throws: ``RegistryError/damaged(path:offset:reason:)`` when invalid bytes are followed by
  ///   a valid record: damage, never a torn tail.
  func scan(from start: Int64, _ visit: (Int64, Record, Int) throws(RegistryError) -> Void)
    throws(RegistryError) -> ScanEnd
  {
    // The size known is a lower bound: refreshed only when the data reaches it.
    let scanner = JournalScanner(
      journal: self, from: start, to: max(knownSize, start), verifyFrames: true)
    while true {
      switch try scanner.next() {
      case .record(let raw, let offset, _):
        try visit(offset, Record(raw), raw.length)
      case .end(let offset):
        // The records filled the file as known: it may have grown since.
        if offset >= scanner.stop, try fileSize() > scanner.stop {
          scanner.extend(to: knownSize)
          continue
        }
        return .clean(end: offset)
      case .malformed(let offset, let reason):
        throw .damaged(path: path, offset: offset, reason: reason)
      case .invalid(let offset):
        // Another process may have grown the file past the size known here.
        if try fileSize() > scanner.stop {
          scanner.extend(to: knownSize)
          scanner.skip(to: offset)
          continue
        }
        guard let next = try findValidRecord(after: offset, end: knownSize) else {
          return .tornTail(at: offset)
        }
        if framed {
          let header = try readBytes(at: offset, count: Self.frameHeaderSize)
          let (at, reason) = try damagedRecord(inFrameAt: offset, header: header, before: next)
          throw .damaged(
            path: path, offset: at, reason: "\(reason), and a valid frame follows at \(next)")
        }
        let reason: String
        switch Record.decode(try readBytes(at: offset, count: Record.headerSize + 65_535)[...]) {
        case .invalid(let why): reason = why
        default: reason = "a record is cut short"
        }
        throw .damaged(
          path: path, offset: offset, reason: "\(reason), and a valid record follows at \(next)")
      }
    }
  }

  /// Where damage in the frame at `offset` lies: its first invalid record, if one is found
  /// before `next`, else the frame itself.
  private func damagedRecord(inFrameAt offset: Int64, header: [UInt8], before next: Int64)
    throws(RegistryError) -> (Int64, String)
  {
    guard header.count == Self.frameHeaderSize, header[0] == Self.frameMarker else {
      return (offset, "no frame starts here")
    }
    var position = offset + Int64(Self.frameHeaderSize)
    while position < next {
      let bytes = try readBytes(at: position, count: Int(min(65_543, next - position)))
      switch Record.decode(bytes[...]) {
      case .record(_, let length): position += Int64(length)
      case .invalid(let reason): return (position, reason)
      case .truncated: return (offset, "a commit's frame is not whole and valid")
      }
    }
    return (offset, "a commit's frame is not whole and valid")
  }

  /// The records of the frame at `offset` if it is whole and valid within `end` (for the search
  /// for a valid frame after damage).
  private func frameBody(at offset: Int64, header: [UInt8], end: Int64) throws(RegistryError)
    -> [UInt8]?
  {
    guard header.count == Self.frameHeaderSize, header[0] == Self.frameMarker,
      header[1] == 0, header[2] == 0, header[3] == 0
    else { return nil }
    var reader = ByteReader(header[4...])
    let length = Int64(reader.u32())
    let stored = reader.u32()
    let first = offset + Int64(Self.frameHeaderSize)
    guard length > 0, first + length <= end else { return nil }
    let body = try readBytes(at: first, count: Int(length))
    guard body.count == Int(length),
      Checksum.crc32c(body, continuing: Checksum.crc32c(header[4..<8])) == stored
    else { return nil }
    return body
  }

  func readBytes(at offset: Int64, count: Int) throws(RegistryError) -> [UInt8] {
    do {
      return try files.read(file, at: offset, count: count, path: path)
    } catch {
      throw .io(error)
    }
  }

  /// The offset of the first valid frame after `offset` in a version 2 journal.
  private func findValidFrame(after offset: Int64, end: Int64) throws(RegistryError) -> Int64? {
    var position = offset + 1
    while position < end {
      let bytes = try readBytes(at: position, count: Int(min(Int64(1 << 20), end - position)))
      if bytes.isEmpty { return nil }
      var index = Self.nextByte(Self.frameMarker, in: bytes, from: 0, before: bytes.count)
      while let candidate = index {
        let at = position + Int64(candidate)
        let header = try readBytes(at: at, count: Self.frameHeaderSize)
        if try frameBody(at: at, header: header, end: end) != nil { return at }
        index = Self.nextByte(Self.frameMarker, in: bytes, from: candidate + 1, before: bytes.count)
      }
      position += Int64(bytes.count)
    }
    return nil
  }

  /// The offset of the first valid record (frame, in a version 2 journal) after `offset`, if
  /// any: tells damage from a torn tail.
  func findValidRecord(after offset: Int64, end: Int64) throws(RegistryError) -> Int64? {
    if framed { return try findValidFrame(after: offset, end: end) }
    var position = offset + 1
    while position < end {
      let bytes: [UInt8]
      do {
        bytes = try files.read(
          file, at: position, count: Int(min(Int64(1 << 20) + 65_543, end - position)), path: path)
      } catch {
        throw .io(error)
      }
      if bytes.isEmpty { return nil }
      let limit = min(bytes.count, 1 << 20)
      var index = Self.nextByte(Record.marker, in: bytes, from: 0, before: limit)
      while let candidate = index {
        if case .record = Record.decode(bytes[candidate...]) {
          return position + Int64(candidate)
        }
        index = Self.nextByte(Record.marker, in: bytes, from: candidate + 1, before: limit)
      }
      position += Int64(limit)
    }
    return nil
  }

  /// Where the non-zero bytes after `offset` end (the end of a torn tail or of stray bytes), or
  /// `offset` when only zeros follow.
  func endOfNonZero(after offset: Int64) throws(RegistryError) -> Int64 {
    let size = try fileSize()
    var position = offset
    var last = offset
    while position < size {
      let bytes: [UInt8]
      do {
        bytes = try files.read(
          file, at: position, count: Int(min(Int64(1 << 20), size - position)), path: path)
      } catch {
        throw .io(error)
      }
      if bytes.isEmpty { break }
      if let index = Self.lastNonZero(bytes) { last = position + Int64(index) + 1 }
      position += Int64(bytes.count)
    }
    return last
  }

  /// The index of the next `byte` (a marker) in `bytes[from..<before]`, found with `memchr`: the
  /// search runs through megabytes of allocated zeros after a restart.
  private static func nextByte(_ byte: UInt8, in bytes: [UInt8], from: Int, before: Int) -> Int? {
    guard from < before else { return nil }
    return bytes.withUnsafeBytes { raw -> Int? in
      guard let found = memchr(raw.baseAddress! + from, Int32(byte), before - from) else {
        return nil
      }
      return raw.baseAddress!.distance(to: UnsafeRawPointer(found))
    }
  }

  private static let zeros = [UInt8](repeating: 0, count: 4096)

  /// The index of the last non-zero byte. Compares 4 KiB blocks with `memcmp` from the end, since
  /// after a restart recovery looks through the whole allocated chunk (4 MiB of zeros), which a
  /// byte-by-byte search in a debug build takes a quarter of a second to do.
  static func lastNonZero(_ bytes: [UInt8]) -> Int? {
    var end = bytes.count
    while end > 0 {
      let start = max(0, end - zeros.count)
      let same = bytes.withUnsafeBytes { raw in
        zeros.withUnsafeBytes { memcmp(raw.baseAddress! + start, $0.baseAddress!, end - start) }
      }
      if same != 0 { return bytes[start..<end].lastIndex { $0 != 0 } }
      end = start
    }
    return nil
  }

  /// Clears a torn tail (or stray bytes after the data), keeping the bytes in a side file beside
  /// the journal, and syncs.
  ///
  /// - Returns: The side file's path and how many bytes it keeps.
  func clearTail(at offset: Int64, folder: String, now: Int64) throws(RegistryError) -> (
    String, Int64
  ) {
    let end = try endOfNonZero(after: offset)
    let side = "\(folder)/torn-\(offset)-\(now).bin"
    do {
      let bytes = try files.read(file, at: offset, count: Int(end - offset), path: path)
      let handle = try files.open(side, create: true)
      defer { files.close(handle) }
      try files.write(handle, bytes, at: 0, path: side)
      try files.sync(handle, path: side)
      try files.syncDirectory(folder)
      try files.write(file, [UInt8](repeating: 0, count: bytes.count), at: offset, path: path)
    } catch {
      throw .io(error)
    }
    try sync()
    return (side, end - offset)
  }
}
