import VoucherKit

/// The append-only journal, `Registry/journal`: the registry's source of truth. Everything else
/// under `Registry/` can be rebuilt from it.
///
/// It starts with a 32-byte header (`VOUCHERJ`, version, a random journal id that ties the other
/// files to this journal, CRC-32C), then records (see ``Record``).
final class Journal {
  static let headerSize: Int64 = 32
  static let magic = Array("VOUCHERJ".utf8)

  let path: String
  let file: Int32
  let files: any FileLayer
  /// The random id written at creation.
  let id: [UInt8]

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
    guard let id = Self.parseHeader(header) else {
      files.close(file)
      throw .damaged(path: path, offset: 0, reason: "the journal header is not valid")
    }
    self.id = id
  }

  deinit { files.close(file) }

  /// The header bytes of a new journal.
  static func header(id: [UInt8]) -> [UInt8] {
    var writer = ByteWriter()
    writer.bytes += magic
    writer.u32(1)
    writer.bytes += id
    writer.u32(Checksum.crc32c(writer.bytes))
    return writer.bytes
  }

  private static func parseHeader(_ bytes: [UInt8]) -> [UInt8]? {
    guard bytes.count == Int(headerSize), Array(bytes[0..<8]) == magic else { return nil }
    var reader = ByteReader(bytes[8...])
    guard reader.u32() == 1 else { return nil }
    let id = Array(bytes[12..<28])
    guard Checksum.crc32c(bytes[0..<28]) == UInt32(bytes[28]) | UInt32(bytes[29]) << 8 | UInt32(bytes[30]) << 16 | UInt32(bytes[31]) << 24 else {
      return nil
    }
    return id
  }

  /// The journal's length in bytes.
  func size() throws(RegistryError) -> Int64 {
    do {
      return try files.size(file, path: path)
    } catch {
      throw .io(error)
    }
  }

  /// Writes records at `offset` (the end) without syncing.
  func write(_ bytes: [UInt8], at offset: Int64) throws(RegistryError) {
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
    let bytes: [UInt8]
    do {
      bytes = try files.read(file, at: offset, count: Record.headerSize + 65_535, path: path)
    } catch {
      throw .io(error)
    }
    switch Record.decode(bytes[...]) {
    case .record(let record, let length): return (record, length)
    case .truncated: throw .damaged(path: path, offset: offset, reason: "a record is cut short")
    case .invalid(let reason): throw .damaged(path: path, offset: offset, reason: reason)
    }
  }

  /// How a scan ended.
  enum ScanEnd: Equatable {
    /// Every byte up to the end is whole records.
    case clean
    /// From this offset to the end: not a whole record, and no valid record after it (a torn
    /// tail, left by a crash while appending).
    case tornTail(at: Int64)
  }

  /// Reads records from `start` to `end` in order, calling `visit` with each offset and record.
  ///
  /// - Throws: ``RegistryError/damaged(path:offset:reason:)`` when invalid bytes are followed by
  ///   a valid record: damage, never a torn tail.
  func scan(from start: Int64, to end: Int64, _ visit: (Int64, Record, Int) throws(RegistryError) -> Void) throws(RegistryError) -> ScanEnd {
    var offset = start
    var buffer: [UInt8] = []
    var bufferStart: Int64 = start
    let chunk = 1 << 20
    while offset < end {
      let have = bufferStart + Int64(buffer.count)
      if offset + Int64(Record.headerSize) + 65_535 > have && have < end {
        // Refill: keep the unread tail, read the next chunk.
        let keep = buffer.count - Int(offset - bufferStart)
        buffer = Array(buffer.suffix(keep))
        bufferStart = offset
        do {
          buffer += try files.read(file, at: offset + Int64(keep), count: min(chunk, Int(end - offset) - keep), path: path)
        } catch {
          throw .io(error)
        }
      }
      let local = Int(offset - bufferStart)
      let available = min(buffer.count, Int(end - bufferStart))
      switch Record.decode(buffer[local..<available]) {
      case .record(let record, let length):
        try visit(offset, record, length)
        offset += Int64(length)
      case .truncated, .invalid:
        if let next = try findValidRecord(after: offset, end: end) {
          let reason: String
          if case .invalid(let why) = Record.decode(buffer[local..<available]) { reason = why } else { reason = "a record is cut short" }
          throw .damaged(path: path, offset: offset, reason: "\(reason), and a valid record follows at \(next)")
        }
        return .tornTail(at: offset)
      }
    }
    return .clean
  }

  /// The offset of the first valid record after `offset`, if any: tells damage from a torn tail.
  func findValidRecord(after offset: Int64, end: Int64) throws(RegistryError) -> Int64? {
    var position = offset + 1
    while position < end {
      let bytes: [UInt8]
      do {
        bytes = try files.read(file, at: position, count: Int(min(Int64(1 << 20) + 65_543, end - position)), path: path)
      } catch {
        throw .io(error)
      }
      if bytes.isEmpty { return nil }
      var index = 0
      while index < bytes.count {
        if bytes[index] == Record.marker, case .record = Record.decode(bytes[index...]) { return position + Int64(index) }
        index += 1
        if index >= 1 << 20 { break }
      }
      position += Int64(index)
    }
    return nil
  }

  /// Cuts a torn tail, keeping the cut bytes in a side file beside the journal.
  ///
  /// - Returns: The side file's path.
  func cutTail(at offset: Int64, end: Int64, folder: String, now: Int64) throws(RegistryError) -> String {
    let side = "\(folder)/torn-\(offset)-\(now).bin"
    do {
      let bytes = try files.read(file, at: offset, count: Int(end - offset), path: path)
      let handle = try files.open(side, create: true)
      defer { files.close(handle) }
      try files.write(handle, bytes, at: 0, path: side)
      try files.sync(handle, path: side)
      try files.syncDirectory(folder)
      try files.truncate(file, to: offset, path: path)
    } catch {
      throw .io(error)
    }
    try sync()
    return side
  }
}
