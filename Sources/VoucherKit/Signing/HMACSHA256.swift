internal import CVoucherCrypto

/// An HMAC-SHA256 key prepared once, so that each MAC over a short message costs two SHA-256
/// compressions and allocates nothing.
///
/// The prepared state is secret-equivalent; the type deliberately has no description.
struct HMACSHA256: Sendable {
  private var key = vc_hmac_sha256_key()

  /// Prepares a key from secret bytes of any length.
  init(key secret: some Collection<UInt8>) {
    let bytes = Array(secret)
    bytes.withUnsafeBufferPointer { vc_hmac_sha256_key_init(&key, $0.baseAddress, $0.count) }
  }

  /// The full 32-byte MAC of `message`.
  func authenticate(_ message: some Collection<UInt8>) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: 32)
    let bytes = Array(message)
    withUnsafePointer(to: key) { key in
      bytes.withUnsafeBufferPointer { vc_hmac_sha256(key, $0.baseAddress, $0.count, &out) }
    }
    return out
  }

  /// The leading 64 bits of the MAC of `length` bytes at `message`, big-endian: the hot path.
  @inline(__always)
  func leadingBits(of message: UnsafeRawPointer, length: Int) -> UInt64 {
    var out: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    withUnsafePointer(to: key) { key in
      withUnsafeMutableBytes(of: &out) {
        vc_hmac_sha256(key, message.assumingMemoryBound(to: UInt8.self), length,
                       $0.baseAddress!.assumingMemoryBound(to: UInt8.self))
      }
    }
    return UInt64(bigEndian: out.0)
  }

  /// SHA-256 of `length` bytes at `message`, leading 64 bits, big-endian. At most 55 bytes cost
  /// one compression.
  @inline(__always)
  static func sha256LeadingBits(of message: UnsafeRawPointer, length: Int) -> UInt64 {
    var out: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    withUnsafeMutableBytes(of: &out) {
      vc_sha256(message.assumingMemoryBound(to: UInt8.self), length,
                $0.baseAddress!.assumingMemoryBound(to: UInt8.self))
    }
    return UInt64(bigEndian: out.0)
  }

  /// The full SHA-256 digest of `message`.
  static func sha256(_ message: some Collection<UInt8>) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: 32)
    let bytes = Array(message)
    bytes.withUnsafeBufferPointer { vc_sha256($0.baseAddress, $0.count, &out) }
    return out
  }
}

/// Overwrites secret bytes in a way the compiler cannot elide.
func wipe(_ bytes: inout [UInt8]) {
  bytes.withUnsafeMutableBytes { vc_cleanse($0.baseAddress, $0.count) }
}
