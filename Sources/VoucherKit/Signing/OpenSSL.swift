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

  /// Whether two byte strings are equal, compared in time independent of where they differ.
  static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    return a.withUnsafeBytes { l in
      b.withUnsafeBytes { r in CRYPTO_memcmp(l.baseAddress, r.baseAddress, a.count) == 0 }
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

/// SHA-256 over bytes given in pieces, through libcrypto's EVP interface: a print file hashed as
/// it is written.
package final class SHA256Hasher {
  private let context: OpaquePointer

  /// A fresh hash.
  package init() {
    context = EVP_MD_CTX_new()!
    EVP_DigestInit_ex(context, EVP_sha256(), nil)
  }

  deinit { EVP_MD_CTX_free(context) }

  /// Adds bytes.
  package func update(_ bytes: UnsafeRawBufferPointer) {
    guard let base = bytes.baseAddress, bytes.count > 0 else { return }
    EVP_DigestUpdate(context, base, bytes.count)
  }

  /// Starts afresh with `bytes`.
  package func reset(_ bytes: [UInt8]) {
    EVP_DigestInit_ex(context, EVP_sha256(), nil)
    bytes.withUnsafeBytes { update($0) }
  }

  /// The digest of everything added, in lower-case hexadecimal; the hasher starts afresh.
  package func finish() -> String {
    var digest = [UInt8](repeating: 0, count: 32)
    var length: UInt32 = 32
    EVP_DigestFinal_ex(context, &digest, &length)
    EVP_DigestInit_ex(context, EVP_sha256(), nil)
    return digest.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
  }
}
