internal import CVoucherCrypto

/// CRC-32C (Castagnoli), the checksum of every record and file header in the registry.
enum Checksum {
  /// The CRC-32C of some bytes.
  static func crc32c(_ bytes: some Collection<UInt8>, continuing crc: UInt32 = 0) -> UInt32 {
    if let crc = bytes.withContiguousStorageIfAvailable({
      vc_crc32c(crc, $0.baseAddress, $0.count)
    }) {
      return crc
    }
    let copy = Array(bytes)
    return copy.withUnsafeBytes { vc_crc32c(crc, $0.baseAddress, $0.count) }
  }

  /// The checksum a record stores: of its type and length bytes, then its body.
  static func record(_ record: UnsafeRawPointer, bodyLength: Int) -> UInt32 {
    vc_record_crc(record, bodyLength)
  }
}
