internal import COpenSSL

/// The rest of what voucher takes from libcrypto: its CSPRNG, constant-time comparison, and the
/// one-shot HMAC that cross-checks the speed path in tests.
enum OpenSSL {
  /// `count` bytes from OpenSSL's CSPRNG.
  ///
  /// - Throws: ``KeyRingError/randomFailed`` when the generator is not seeded or fails.
  static func randomBytes(count: Int) throws(KeyRingError) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: count)
    let status = bytes.withUnsafeMutableBufferPointer {
      RAND_priv_bytes($0.baseAddress, Int32($0.count))
    }
    guard status == 1 else { throw .randomFailed }
    return bytes
  }

  /// Whether two 64-bit values are equal, compared in time independent of where they differ.
  @inline(__always)
  static func constantTimeEquals(_ a: UInt64, _ b: UInt64) -> Bool {
    var left = a
    var right = b
    return withUnsafeBytes(of: &left) { l in
      withUnsafeBytes(of: &right) { r in CRYPTO_memcmp(l.baseAddress, r.baseAddress, 8) == 0 }
    }
  }

  /// HMAC-SHA256 through OpenSSL's own one-shot `HMAC()`, for cross-checking the speed path.
  static func referenceHMACSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: 32)
    var length: UInt32 = 32
    key.withUnsafeBufferPointer { k in
      message.withUnsafeBufferPointer { m in
        _ = HMAC(EVP_sha256(), k.baseAddress, Int32(k.count), m.baseAddress, m.count, &out, &length)
      }
    }
    return out
  }
}
