internal import CVoucherCrypto

/// CRC-32C (Castagnoli), the checksum of every record and file header in the registry.
enum Checksum {
  /// The CRC-32C of some bytes.
  static func crc32c(_ bytes: some Collection<UInt8>) -> UInt32 {
    if let crc = bytes.withContiguousStorageIfAvailable({ vc_crc32c(0, $0.baseAddress, $0.count) })
    {
      return crc
    }
    let copy = Array(bytes)
    return copy.withUnsafeBytes { vc_crc32c(0, $0.baseAddress, $0.count) }
  }

  /// The CRC-32C of two byte ranges one after the other, without copying them together.
  static func crc32c(
    _ first: UnsafeRawBufferPointer, then second: UnsafeRawBufferPointer
  ) -> UInt32 {
    vc_crc32c(vc_crc32c(0, first.baseAddress, first.count), second.baseAddress, second.count)
  }
}
