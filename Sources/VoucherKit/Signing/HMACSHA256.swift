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

  /// The leading 64 bits of the MAC of at most 55 bytes at `message`: the hot path.
  @inline(__always)
  func leadingBits(of message: UnsafeRawPointer, length: Int) -> UInt64 {
    precondition(length <= 55, "the short-message path takes at most 55 bytes")
    return withUnsafePointer(to: key) { key in
      vc_hmac_sha256_prefix64(key, message.assumingMemoryBound(to: UInt8.self), length)
    }
  }

  /// The leading 64 bits of SHA-256 of at most 55 bytes at `message`: one compression.
  @inline(__always)
  static func sha256LeadingBits(of message: UnsafeRawPointer, length: Int) -> UInt64 {
    precondition(length <= 55, "the short-message path takes at most 55 bytes")
    return vc_sha256_prefix64(message.assumingMemoryBound(to: UInt8.self), length)
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
