/// An intent log of in-place rewrites, `Registry/forget.pending`: what makes `forget` crash-safe.
///
/// The rewrites are written here and synced first; only then are the target files patched. A
/// crash before the log is whole leaves the old state (the log was never renamed into place); a
/// crash after it leaves a log that the next open applies again (patches are idempotent), then
/// removes. A log that fails its checksum is damage, named, never applied or dropped. The log
/// never holds what was erased, only the new bytes.
///
/// On disk:
/// ```
/// "VOUCHERP" | u32 version 1 | u32 count | count × (short file name | i64 offset | u32 length | bytes) | u32 CRC-32C
/// ```
/// File names are relative to the registry folder.
struct PatchLog: Sendable, Hashable {
  /// One rewrite: `bytes` go to `offset` of `file`.
  struct Patch: Sendable, Hashable {
    let file: String
    let offset: Int64
    let bytes: [UInt8]
  }

  static let name = "forget.pending"
  static let magic = Array("VOUCHERP".utf8)

  let patches: [Patch]

  func encoded() -> [UInt8] {
    var writer = ByteWriter()
    writer.bytes += Self.magic
    writer.u32(1)
    writer.u32(UInt32(patches.count))
    for patch in patches {
      writer.short(patch.file)
      writer.i64(patch.offset)
      writer.u32(UInt32(patch.bytes.count))
      writer.bytes += patch.bytes
    }
    writer.u32(Checksum.crc32c(writer.bytes))
    return writer.bytes
  }

  /// The log in `bytes`, or `nil` when they are not a whole, valid log.
  static func decode(_ bytes: [UInt8]) -> PatchLog? {
    guard bytes.count >= magic.count + 12, Array(bytes[0..<magic.count]) == magic else {
      return nil
    }
    var crc = ByteReader(bytes[(bytes.count - 4)...])
    guard Checksum.crc32c(bytes[0..<(bytes.count - 4)]) == crc.u32() else { return nil }
    var reader = ByteReader(bytes[magic.count..<(bytes.count - 4)])
    guard reader.u32() == 1 else { return nil }
    let count = Int(reader.u32())
    var patches: [Patch] = []
    for _ in 0..<count {
      guard let file = reader.short(), isPlainName(file) else { return nil }
      let offset = reader.i64()
      let length = Int(reader.u32())
      guard !reader.failed, offset >= 0, let data = reader.take(length) else { return nil }
      patches.append(Patch(file: file, offset: offset, bytes: Array(data)))
    }
    guard !reader.failed, reader.isAtEnd else { return nil }
    return PatchLog(patches: patches)
  }

  /// A file name with no folder part: a log cannot name a file outside the registry folder.
  private static func isPlainName(_ name: String) -> Bool {
    !name.isEmpty && name != "." && name != ".." && !name.utf8.contains(0x2F)
      && !name.utf8.contains(0)
  }
}
