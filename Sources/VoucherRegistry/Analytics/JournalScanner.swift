/// Reads the journal from one offset on, in order, through one buffer, decoding records in
/// place: the journal's one scanner. Recovery, `registry check` and rebuild scan with it through
/// ``Journal/scan(from:_:)``; reports, exports and erasure directly. Memory stays flat however
/// long the journal is (the buffer grows only for a single commit larger than it).
///
/// In a version 2 journal it steps over each commit's frame header (marker, length, CRC-32C) and
/// reads the records inside. With `verifyFrames` it checks each frame's checksum first, which
/// tells a torn commit from a whole one (recovery's concern); readers of data recovery already
/// found whole do without. Each record's own checksum is always checked.
final class JournalScanner {
  private let journal: Journal
  /// Where scanning stops: the end of the data, or the file's size as known.
  private(set) var stop: Int64
  private let verifyFrames: Bool
  private var buffer: UnsafeMutableRawBufferPointer
  /// The journal offset of `buffer[0]`, and how many bytes of the buffer are filled.
  private var bufferStart: Int64
  private var filled = 0
  /// The next record's offset.
  private(set) var offset: Int64
  /// The frame being read (version 2 journals): where it starts and where it ends.
  private var frame: (start: Int64, end: Int64)
  /// Whether the frame being read passed its checksum.
  private var frameVerified = false
  /// How much the next read asks for: small at first (recovery usually finds one commit or
  /// none), four times more with each read, up to the buffer (a report's long scan).
  private var chunk = 4096

  /// Room for the largest record (8 + 65,535 bytes) and then some.
  static let bufferSize = 1 << 20

  init(journal: Journal, from start: Int64, to stop: Int64, verifyFrames: Bool = false) {
    self.journal = journal
    self.stop = stop
    self.verifyFrames = verifyFrames
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
    /// Bytes at `offset` that are not a valid record or frame (a torn tail, or damage).
    case invalid(offset: Int64)
    /// A record at `offset` that is not valid inside a frame whose checksum holds: damage.
    case malformed(offset: Int64, reason: String)
    /// The data ends at `offset`: zeros where a record or frame would start, or `stop`.
    case end(offset: Int64)
  }

  /// Scans on to a later `stop` (the file grew).
  func extend(to newStop: Int64) { stop = max(stop, newStop) }

  /// The next record; `skip(to:)` may move on after an invalid one.
  func next() throws(RegistryError) -> Step {
    guard offset < stop else { return .end(offset: offset) }
    let atBoundary = !journal.framed || offset == frame.end
    if atBoundary {
      // The data ends at zeros where the next record or frame would start.
      let (local, available) = try ensure(Journal.frameHeaderSize + Record.headerSize)
      let head = min(available, Record.headerSize)
      let zeros = UnsafeRawBufferPointer(start: buffer.baseAddress! + local, count: head)
        .allSatisfy { $0 == 0 }
      if zeros && (head == Record.headerSize || bufferStart + Int64(filled) >= stop) {
        return .end(offset: offset)
      }
    }
    if journal.framed && offset == frame.end {
      // A frame header: marker, three zero bytes, the length of the records, their CRC-32C.
      var (local, available) = try ensure(Journal.frameHeaderSize)
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
      let end = start + Int64(Journal.frameHeaderSize) + length
      guard length > 0, end <= stop else { return .invalid(offset: offset) }
      if verifyFrames {
        (local, available) = try ensure(Int(end - start))
        let base = UnsafeRawPointer(buffer.baseAddress! + local)
        let stored = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        let crc = Checksum.crc32c(
          UnsafeRawBufferPointer(start: base + Journal.frameHeaderSize, count: Int(length)),
          continuing: Checksum.crc32c(UnsafeRawBufferPointer(start: base + 4, count: 4)))
        guard crc == stored else { return .invalid(offset: offset) }
      }
      frameVerified = verifyFrames
      frame = (start, end)
      offset += Int64(Journal.frameHeaderSize)
    }
    // The record: its header says how long it is.
    var (local, available) = try ensure(Record.headerSize)
    if available >= Record.headerSize {
      let body = Int(
        UInt16(
          littleEndian: UnsafeRawPointer(buffer.baseAddress! + local).loadUnaligned(
            fromByteOffset: 2, as: UInt16.self)))
      (local, available) = try ensure(Record.headerSize + body)
    }
    if journal.framed { available = min(available, Int(frame.end - offset)) }
    switch RawRecord.decode(UnsafeRawPointer(buffer.baseAddress! + local), count: available) {
    case .record(let record):
      let at = offset
      offset += Int64(record.length)
      return .record(record, offset: at, frame: journal.framed ? frame.start : -1)
    case .truncated where frameVerified && journal.framed:
      return .malformed(offset: offset, reason: "a record in a valid frame is malformed")
    case .invalid(let reason) where frameVerified && journal.framed:
      return .malformed(offset: offset, reason: "a record in a valid frame is malformed (\(reason))")
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

  /// Makes `count` bytes from `offset` available in the buffer, or as many as there are before
  /// `stop`; answers where they start in the buffer and how many there are.
  private func ensure(_ count: Int) throws(RegistryError) -> (local: Int, available: Int) {
    var local = Int(offset - bufferStart)
    let wanted = Int(min(Int64(count), stop - offset))
    if filled - local < wanted {
      if wanted > buffer.count {
        // One commit larger than the buffer: grow it for the scan's rest.
        let larger = UnsafeMutableRawBufferPointer.allocate(byteCount: wanted, alignment: 16)
        larger.baseAddress!.copyMemory(from: buffer.baseAddress! + local, byteCount: filled - local)
        buffer.deallocate()
        buffer = larger
        filled -= local
        bufferStart = offset
        local = 0
      }
      try refill(at: local, atLeast: wanted)
      local = 0
    }
    return (local, min(filled - local, Int(stop - offset)))
  }

  /// Keeps the unread bytes from `local` on and reads after them, so that at least `count`
  /// bytes are buffered where the file has them.
  private func refill(at local: Int, atLeast count: Int) throws(RegistryError) {
    let keep = filled - local
    if keep > 0 && local > 0 {
      buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + local, byteCount: keep)
    }
    bufferStart += Int64(local)
    filled = keep
    let from = bufferStart + Int64(filled)
    let size = min(buffer.count - filled, max(chunk, count - filled))
    chunk = min(chunk * 4, buffer.count)
    let wanted = Int(min(Int64(size), stop - from))
    guard wanted > 0 else { return }
    let got: Int
    do {
      got = try journal.files.read(
        journal.file,
        into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled..<(filled + wanted)]),
        at: from, path: journal.path)
    } catch {
      throw .io(error)
    }
    filled += got
    // The file ends before `stop`: what there is is all there is.
    if got < wanted { stop = bufferStart + Int64(filled) }
  }
}
