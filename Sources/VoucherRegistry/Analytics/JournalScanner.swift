/// Reads the journal from one offset to another in order, through one fixed buffer, decoding
/// records in place: memory stays flat however long the journal is.
final class JournalScanner {
  private let journal: Journal
  private let stop: Int64
  private let buffer: UnsafeMutableRawBufferPointer
  /// The journal offset of `buffer[0]`, and how many bytes of the buffer are filled.
  private var bufferStart: Int64
  private var filled = 0
  /// The next record's offset.
  private(set) var offset: Int64

  /// Room for the largest record (8 + 65,535 bytes) and then some.
  static let bufferSize = 1 << 20

  init(journal: Journal, from start: Int64, to stop: Int64) {
    self.journal = journal
    self.stop = stop
    buffer = .allocate(byteCount: Self.bufferSize, alignment: 16)
    bufferStart = start
    offset = start
  }

  deinit { buffer.deallocate() }

  /// What the scanner found next.
  enum Step {
    /// A whole, valid record at `offset`.
    case record(RawRecord, offset: Int64)
    /// Bytes at `offset` that are not a valid record.
    case invalid(offset: Int64)
    /// The end.
    case end
  }

  /// The next record; `skip(to:)` may move on after an invalid one.
  func next() throws(RegistryError) -> Step {
    guard offset < stop else { return .end }
    var local = Int(offset - bufferStart)
    if filled - local < Record.headerSize + 65_535 && bufferStart + Int64(filled) < stop {
      try refill(at: local)
      local = 0
    }
    let available = min(filled - local, Int(stop - offset))
    switch RawRecord.decode(UnsafeRawPointer(buffer.baseAddress! + local), count: available) {
    case .record(let record):
      let at = offset
      offset += Int64(record.length)
      return .record(record, offset: at)
    case .truncated, .invalid:
      return .invalid(offset: offset)
    }
  }

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
