import Testing
import VoucherTestSupport

@testable import VoucherKit

@Suite("HMAC-SHA256")
struct HMACSHA256Tests {
  @Test("RFC 4231 test cases 1-7, full and truncated")
  func rfc4231() throws {
    let rows = try vectorRows("rfc4231_hmac_sha256")
    #expect(rows.count == 7)
    for row in rows {
      let key = hex(row["key_hex"]!)
      let data = hex(row["data_hex"]!)
      let mac = HMACSHA256(key: key).authenticate(data)
      #expect(mac == hex(row["full_hmac_sha256_hex"]!), "case \(row["case"]!)")
      #expect(Array(mac.prefix(16)) == hex(row["trunc128_hex"]!), "case \(row["case"]!)")
      #expect(Array(mac.prefix(8)) == hex(row["trunc64_hex"]!), "case \(row["case"]!)")
      // The published value, which case 5 prints truncated to 128 bits.
      let published = hex(row["rfc_expected_hex"]!)
      #expect(Array(mac.prefix(published.count)) == published, "case \(row["case"]!)")
      // The hot path (messages of at most 55 bytes) gives the same leading 64 bits.
      if data.count <= 55 {
        let leading = data.withUnsafeBytes {
          HMACSHA256(key: key).leadingBits(of: $0.baseAddress!, length: $0.count)
        }
        #expect(
          leading == UInt64(bigEndian: mac.withUnsafeBytes { $0.load(as: UInt64.self) }),
          "case \(row["case"]!)")
      }
    }
  }

  @Test("agrees with OpenSSL's HMAC() for every key and message length across block boundaries")
  func agreesWithOpenSSL() {
    var random = SeededGenerator(seed: 4231)
    for keyLength in [0, 1, 16, 31, 32, 55, 56, 63, 64, 65, 127, 128, 131, 200] {
      for messageLength in 0...200 {
        let key = (0..<keyLength).map { _ in UInt8.random(in: 0...255, using: &random) }
        let message = (0..<messageLength).map { _ in UInt8.random(in: 0...255, using: &random) }
        let reference = OpenSSL.referenceHMACSHA256(key: key, message: message)
        #expect(HMACSHA256(key: key).authenticate(message) == reference)
        if (1...55).contains(messageLength) {
          let leading = message.withUnsafeBytes {
            HMACSHA256(key: key).leadingBits(of: $0.baseAddress!, length: $0.count)
          }
          #expect(leading == reference.prefix(8).reduce(0) { $0 << 8 | UInt64($1) })
          let digest = HMACSHA256.sha256(message)
          #expect(
            message.withUnsafeBytes {
              HMACSHA256.sha256LeadingBits(of: $0.baseAddress!, length: $0.count)
            } == digest.prefix(8).reduce(0) { $0 << 8 | UInt64($1) })
        }
      }
    }
  }

  @Test("SHA-256 of the empty string and of 'abc' (FIPS 180-4 examples)")
  func sha256() {
    #expect(
      HMACSHA256.sha256([])
        == hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"))
    #expect(
      HMACSHA256.sha256(Array("abc".utf8))
        == hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"))
    let long = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
    #expect(
      HMACSHA256.sha256(long)
        == hex("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"))
  }

  @Test("tags compare in constant time and still compare correctly")
  func constantTimeEquality() {
    #expect(OpenSSL.constantTimeEquals(0x1234, 0x1234))
    #expect(!OpenSSL.constantTimeEquals(0x1234, 0x1235))
    #expect(!OpenSSL.constantTimeEquals(1 << 63, 0))
  }
}
