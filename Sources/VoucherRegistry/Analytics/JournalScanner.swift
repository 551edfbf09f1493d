/// Reads the journal from one offset to another in order, through one fixed buffer, decoding
/// records in place: memory stays flat however long the journal is.
///
/// In a version 2 journal it steps over each commit's frame header (marker, length) and reads the
/// records inside; a frame may be larger than the buffer. Each record's own checksum is checked;
/// the frame's checksum, which tells a torn commit from a whole one, is recovery's concern: the
/// scanner reads only up to the end of the data that recovery found whole.
final class JournalScanner {
  private let journal: Journal
  private let stop: Int64
  private let buffer: UnsafeMutableRawBufferPointer
  /// The journal offset of `buffer[0]`, and how many bytes of the buffer are filled.
  private var bufferStart: Int64
  private var filled = 0
  /// The next record's offset.
  private(set) var offset: Int64
  /// The frame being read (version 2 journals): where it starts and where it ends.
  private var frame: (start: Int64, end: Int64)

  /// Room for the largest record (8 + 65,535 bytes) and then some.
  static let bufferSize = 1 << 20

  init(journal: Journal, from start: Int64, to stop: Int64) {
    self.journal = journal
    self.stop = stop
    buffer = .allocate(byteCount: Self.bufferSize, alignment: 16)
    bufferStart = start
    offset = start
    frame = (-1, start)
  }

  deinit { buffer.deallocate() }

  /// What the scanner found next.
  enum Step {
    /// A whole, valid record at `offset`, in the frame that starts at `frame` (-1 in a version 1
    /// journal).
    case record(RawRecord, offset: Int64, frame: Int64)
    /// Bytes at `offset` that are not a valid record.
    case invalid(offset: Int64)
    /// The end.
    case end
  }

  /// The next record; `skip(to:)` may move on after an invalid one.
  func next() throws(RegistryError) -> Step {
    guard offset < stop else { return .end }
    var local = Int(offset - bufferStart)
    if filled - local < Journal.frameHeaderSize + Record.headerSize + 65_535
      && bufferStart + Int64(filled) < stop
    {
      try refill(at: local)
      local = 0
    }
    var available = min(filled - local, Int(stop - offset))
    if journal.framed && offset == frame.end {
      // A frame header: marker, three zero bytes, the length of the records (then their CRC).
      let header = UnsafeRawPointer(buffer.baseAddress! + local)
      guard available >= Journal.frameHeaderSize,
        header.load(as: UInt8.self) == Journal.frameMarker,
        header.loadUnaligned(fromByteOffset: 1, as: UInt16.self) == 0,
        header.load(fromByteOffset: 3, as: UInt8.self) == 0
      else {
        return .invalid(offset: offset)
      }
      let length = Int64(
        UInt32(littleEndian: header.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
      let start = offset
      guard length > 0, start + Int64(Journal.frameHeaderSize) + length <= stop else {
        return .invalid(offset: offset)
      }
      frame = (start, start + Int64(Journal.frameHeaderSize) + length)
      offset += Int64(Journal.frameHeaderSize)
      local += Journal.frameHeaderSize
      available -= Journal.frameHeaderSize
    }
    if journal.framed { available = min(available, Int(frame.end - offset)) }
    switch RawRecord.decode(UnsafeRawPointer(buffer.baseAddress! + local), count: available) {
    case .record(let record):
      let at = offset
      offset += Int64(record.length)
      return .record(record, offset: at, frame: journal.framed ? frame.start : -1)
    case .truncated, .invalid:
      return .invalid(offset: offset)
    }
  }

  /// The frame the next record belongs to (-1 in a version 1 journal).
  var currentFrame: Int64 { journal.framed ? frame.start : -1 }

  /// Continues at `offset` (after a record read some other way).
  func skip(to next: Int64) {
    offset = next
    bufferStart = next
    filled = 0
  }

  /// Keeps the unread bytes from `local` on and reads after them.
  private func refill(at local: Int) throws(RegistryError) {
    let keep = filled - local
    if keep > 0 && local > 0 {
      buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + local, byteCount: keep)
    }
    bufferStart += Int64(local)
    filled = keep
    let from = bufferStart + Int64(filled)
    let wanted = Int(min(Int64(Self.bufferSize - filled), stop - from))
    guard wanted > 0 else { return }
    do {
      filled += try journal.files.read(
        journal.file,
        into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled..<(filled + wanted)]),
        at: from, path: journal.path)
    } catch {
      throw .io(error)
    }
  }
}
