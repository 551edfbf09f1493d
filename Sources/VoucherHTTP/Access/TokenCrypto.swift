internal import COpenSSL

/// What the HTTP front takes from libcrypto: secrets from its CSPRNG, SHA-256, and comparison
/// in constant time. The one file of this target that touches OpenSSL.
enum TokenCrypto {
  /// `count` bytes from OpenSSL's CSPRNG; `nil` when it fails (not seeded).
  static func randomBytes(count: Int) -> [UInt8]? {
    var bytes = [UInt8](repeating: 0, count: count)
    let status = bytes.withUnsafeMutableBufferPointer {
      RAND_priv_bytes($0.baseAddress, Int32($0.count))
    }
    return status == 1 ? bytes : nil
  }

  /// The SHA-256 digest of `bytes`.
  static func sha256(_ bytes: [UInt8]) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: 32)
    var length: UInt32 = 32
    bytes.withUnsafeBufferPointer { input in
      _ = EVP_Digest(input.baseAddress, input.count, &out, &length, EVP_sha256(), nil)
    }
    return out
  }

  /// Whether two digests are equal, compared in time independent of where they differ.
  static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    return a.withUnsafeBytes { l in
      b.withUnsafeBytes { r in CRYPTO_memcmp(l.baseAddress, r.baseAddress, l.count) == 0 }
    }
  }
}
