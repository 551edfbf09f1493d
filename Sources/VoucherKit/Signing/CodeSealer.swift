/// The cryptographic core of format 1: a SIV-style seal of a 30-bit payload under one slot's key.
///
/// ```
/// tag    = leading T bits of HMAC-SHA256(K_tag, 01 ‖ slot ‖ T ‖ payload as 4 bytes)
/// mask   = leading 30 bits of SHA-256(K_mask ‖ 02 ‖ slot ‖ T ‖ tag as 8 bytes)
/// body   = tag ‖ (payload ⊕ mask)
/// ```
///
/// `K_tag` and `K_mask` are HMAC-SHA256 of the slot's secret over fixed labels. The mask hash
/// fits one block, so a code costs three SHA-256 compressions: the minimum for an HMAC tag plus
/// one for hiding the payload. The verifier recomputes the mask from the tag it reads, unmasks the
/// payload and checks the tag in constant time.
struct CodeSealer: Sendable {
  let slot: UInt8
  private let tagKey: HMACSHA256
  /// `K_mask` as four words, copied into each mask block.
  private let maskKey: (UInt64, UInt64, UInt64, UInt64)

  /// Derives both keys from a slot's secret.
  init(slot: KeySlot, secret: [UInt8]) {
    self.slot = slot.rawValue
    let master = HMACSHA256(key: secret)
    tagKey = HMACSHA256(key: master.authenticate(Array("voucher/v1/tag".utf8)))
    var mask = master.authenticate(Array("voucher/v1/mask".utf8))
    maskKey = mask.withUnsafeBytes {
      (
        $0.load(fromByteOffset: 0, as: UInt64.self), $0.load(fromByteOffset: 8, as: UInt64.self),
        $0.load(fromByteOffset: 16, as: UInt64.self), $0.load(fromByteOffset: 24, as: UInt64.self)
      )
    }
    wipe(&mask)
  }

  /// The tag of `payload` for a code with `tagBits` bits of tag.
  @inline(__always)
  func tag(payload: UInt32, tagBits: Int) -> UInt64 {
    var message: (UInt64) = 0
    return withUnsafeMutableBytes(of: &message) { bytes in
      bytes[0] = CodeFormat.version
      bytes[1] = slot
      bytes[2] = UInt8(tagBits)
      bytes.storeBytes(of: payload.bigEndian, toByteOffset: 3, as: UInt32.self)
      return tagKey.leadingBits(of: bytes.baseAddress!, length: 7) >> (64 - tagBits)
    }
  }

  /// The 30-bit mask that hides the payload of a code with this tag.
  @inline(__always)
  func mask(tag: UInt64, tagBits: Int) -> UInt32 {
    var block: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (
      maskKey.0, maskKey.1, maskKey.2, maskKey.3, 0, 0
    )
    return withUnsafeMutableBytes(of: &block) { bytes in
      bytes[32] = 2
      bytes[33] = slot
      bytes[34] = UInt8(tagBits)
      bytes.storeBytes(of: tag.bigEndian, toByteOffset: 35, as: UInt64.self)
      let digest = HMACSHA256.sha256LeadingBits(of: bytes.baseAddress!, length: 43)
      return UInt32(truncatingIfNeeded: digest >> (64 - CodeFormat.payloadBits))
    }
  }

  /// The body (tag, then masked payload) of the code for `payload`.
  @inline(__always)
  func seal(payload: UInt32, tagBits: Int) -> UInt128 {
    let tag = tag(payload: payload, tagBits: tagBits)
    let masked = payload ^ mask(tag: tag, tagBits: tagBits)
    return UInt128(tag) << CodeFormat.payloadBits | UInt128(masked)
  }

  /// The payload a body seals, or `nil` when its tag is not genuine.
  @inline(__always)
  func open(body: UInt128, tagBits: Int) -> UInt32? {
    let tag = UInt64(truncatingIfNeeded: body >> CodeFormat.payloadBits)
    let payloadMask = UInt32(CodeFormat.payloadSpace - 1)
    let payload =
      (UInt32(truncatingIfNeeded: body) & payloadMask) ^ mask(tag: tag, tagBits: tagBits)
    let expected = self.tag(payload: payload, tagBits: tagBits)
    return OpenSSL.constantTimeEquals(tag, expected) ? payload : nil
  }
}
