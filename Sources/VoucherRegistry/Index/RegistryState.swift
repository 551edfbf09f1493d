#if canImport(Glibc)
  import Glibc
#endif

/// `Registry/state`: how far the index reflects the journal.
///
/// - `applied`: every record before it is in the index files. Written after each operation
///   without a sync, so it survives a killed process (the page cache keeps it) but maybe not a
///   power loss.
/// - `checkpoint`: every record before it is in the index files *on disk*: written only after the
///   index files were synced.
/// - `boot`: the kernel's boot id when `applied` was written. A different boot id means the
///   machine restarted since, unsynced index writes may be lost, and only `checkpoint` is trusted:
///   the records after it are applied again (applying is idempotent).
struct RegistryState: Equatable {
  static let size = 64
  static let magic = Array("VOUCHERS".utf8)

  var journalID: [UInt8]
  var applied: Int64
  var checkpoint: Int64
  var boot: [UInt8]

  func encoded() -> [UInt8] {
    var writer = ByteWriter()
    writer.bytes += Self.magic
    writer.u32(1)
    writer.bytes += journalID
    writer.i64(applied)
    writer.i64(checkpoint)
    writer.bytes += boot
    writer.u32(Checksum.crc32c(writer.bytes))
    return writer.bytes
  }

  /// Parses the file, or `nil` when it is not a valid state file.
  static func parse(_ bytes: [UInt8]) -> RegistryState? {
    guard bytes.count == size, Array(bytes[0..<8]) == magic else { return nil }
    var reader = ByteReader(bytes[8...])
    guard reader.u32() == 1 else { return nil }
    let id = Array(bytes[12..<28])
    var numbers = ByteReader(bytes[28..<44])
    let applied = numbers.i64()
    let checkpoint = numbers.i64()
    let boot = Array(bytes[44..<60])
    var crc = ByteReader(bytes[60..<64])
    guard Checksum.crc32c(bytes[0..<60]) == crc.u32() else { return nil }
    return RegistryState(journalID: id, applied: applied, checkpoint: checkpoint, boot: boot)
  }

  /// The running kernel's boot id (16 bytes), or zeros when it cannot be read; zeros never match,
  /// so without a boot id every open trusts only the checkpoint.
  static let currentBoot: [UInt8] = {
    let fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return [UInt8](repeating: 0, count: 16) }
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 64)
    let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, 64) }
    guard n > 0 else { return [UInt8](repeating: 0, count: 16) }
    let digits = buffer.prefix(n).filter {
      ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66)
    }
    guard digits.count == 32 else { return [UInt8](repeating: 0, count: 16) }
    func value(_ d: UInt8) -> UInt8 { d <= 0x39 ? d - 0x30 : d - 0x61 + 10 }
    return stride(from: 0, to: 32, by: 2).map { value(digits[$0]) << 4 | value(digits[$0 + 1]) }
  }()

  static let unknownBoot = [UInt8](repeating: 0, count: 16)
}
