@testable import VoucherKit
@testable import VoucherRegistry

/// Fuzzes the journal record decoder, alone and inside the journal's scan.
///
/// Checks: nothing traps; the in-place decoder of reports agrees; a decoded record encodes back to
/// exactly the bytes it came from, and
/// decodes the same from a slice that does not start at index 0; a scan of a journal holding the
/// input visits contiguous records and ends clean, at a torn tail with no valid record after it,
/// or with a damage error naming an offset inside the data.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRecord(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))

  let decoded = Record.decode(bytes[...])
  if case .record(let record, let length) = decoded {
    require(length <= bytes.count, "a record longer than its bytes")
    require(record.encoded() == Array(bytes[..<length]), "a record does not encode back")
  }
  // The in-place decoder that reports and exports use accepts exactly the same records.
  let raw = bytes.withUnsafeBytes { buffer -> RawRecord.Decoded in
    guard let base = buffer.baseAddress else { return .truncated }
    return RawRecord.decode(base, count: buffer.count)
  }
  switch (decoded, raw) {
  case (.record(let record, let length), .record(let view)):
    require(length == view.length && Int(record.body.type) == Int(view.type), "raw record")
    require(record.time == view.time, "raw record time")
  case (.truncated, .truncated), (.invalid, .invalid): break
  default: require(false, "the in-place decoder disagrees: \(decoded) against \(raw)")
  }
  // The erasure log's decoder: never a trap, and what it accepts encodes back the same.
  if let log = PatchLog.decode(bytes) { require(log.encoded() == bytes, "an erasure log") }
  // The same bytes behind one stray byte: slices keep their indices.
  let shifted = [0] + bytes
  switch (decoded, Record.decode(shifted[1...])) {
  case (.record(let a, let m), .record(let b, let n)): require(a == b && m == n, "shifted record")
  case (.truncated, .truncated), (.invalid, .invalid): break
  default: require(false, "a shifted slice decodes differently")
  }

  // The input as the journal after the header, in both versions: bare records (1) and one frame
  // per commit (2).
  for version: UInt32 in [1, 2] { scanJournal(bytes, version: version) }
  return 0
}

/// Scans a journal holding `bytes` after a header of `version`, checking how the scan ends.
func scanJournal(_ bytes: [UInt8], version: UInt32) {
  var header = Journal.header(id: Array(repeating: 7, count: 16))
  if version == 1 {
    header.replaceSubrange(8..<12, with: [1, 0, 0, 0])
    let crc = Checksum.crc32c(header[0..<28])
    header.replaceSubrange(28..<32, with: withUnsafeBytes(of: crc.littleEndian) { Array($0) })
  }
  let memory = MemoryFiles(header + bytes)
  guard let journal = try? Journal(path: "journal", files: memory) else {
    require(false, "a valid header is refused")
    return
  }
  // Records follow each other, with a frame header between commits in version 2.
  let gap = Int64(version == 2 ? Journal.frameHeaderSize : 0)
  var next = Journal.headerSize
  do {
    let end = try journal.scan(from: Journal.headerSize) { offset, record, length in
      require(offset == next || offset == next + gap, "records are not contiguous")
      require(record.encoded().count == length, "a scanned record's length")
      next = offset + Int64(length)
    }
    switch end {
    case .clean(let at):
      require(at == next, "a clean end after the last record")
    case .tornTail(let at):
      require(at == next, "a torn tail after the last record")
      require(
        (try? journal.findValidRecord(after: at, end: Int64(memory.bytes.count))) == .some(nil),
        "a torn tail with a valid record after it")
    }
  } catch {
    guard case .damaged(_, let offset, _) = error else {
      require(false, "scan threw \(error)")
      return
    }
    // Damage is named where the next record or commit starts, or at a record inside that commit.
    require(
      offset >= next && (version == 2 || offset == next) && offset < Int64(memory.bytes.count),
      "damage at \(offset)")
  }
}

/// One file held in memory: enough of ``FileLayer`` for reading a journal.
final class MemoryFiles: FileLayer {
  let bytes: [UInt8]

  init(_ bytes: [UInt8]) { self.bytes = bytes }

  func open(_ path: String, create: Bool) throws(SystemError) -> FileDescriptor { FileDescriptor(rawValue: 3) }
  func close(_ file: FileDescriptor) {}
  func size(_ file: FileDescriptor, path: String) throws(SystemError) -> Int64 { Int64(bytes.count) }
  func read(_ file: FileDescriptor, at offset: Int64, count: Int, path: String) throws(SystemError)
    -> [UInt8]
  {
    let start = Int(min(offset, Int64(bytes.count)))
    return Array(bytes[start..<min(bytes.count, start + count)])
  }
  func write(_ file: FileDescriptor, _ bytes: [UInt8], at offset: Int64, path: String) throws(SystemError) {
    fatalError("the fuzzed journal is read only")
  }
  func sync(_ file: FileDescriptor, path: String) throws(SystemError) {}
  func allocate(_ file: FileDescriptor, to length: Int64, path: String) throws(SystemError) {
    fatalError("the fuzzed journal is read only")
  }
  func reserve(_ file: FileDescriptor, offset: Int64, length: Int64, path: String) throws(SystemError) {}
  func link(_ from: String, to: String) throws(SystemError) {
    fatalError("the fuzzed journal is read only")
  }
  func map(_ file: FileDescriptor, length: Int, path: String) throws(SystemError)
    -> UnsafeMutableRawPointer
  {
    fatalError("the fuzzed journal is not mapped")
  }
  func unmap(_ address: UnsafeMutableRawPointer, length: Int) {}
  func truncate(_ file: FileDescriptor, to length: Int64, path: String) throws(SystemError) {
    fatalError("the fuzzed journal is read only")
  }
  func rename(_ from: String, to: String) throws(SystemError) {
    fatalError("the fuzzed journal is read only")
  }
  func syncDirectory(_ path: String) throws(SystemError) {}
  func makeDirectory(_ path: String) throws(SystemError) {}
  func remove(_ path: String) throws(SystemError) {}
  func exists(_ path: String) -> Bool { true }
}
