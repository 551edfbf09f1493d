#ifndef VOUCHER_CRYPTO_H
#define VOUCHER_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

/// An HMAC-SHA256 key reduced to the two SHA-256 chaining values after the inner and outer pad
/// blocks, so that a MAC over a short message costs exactly two compressions and no allocation.
/// The words are secret-equivalent: never print them.
typedef struct vc_hmac_sha256_key {
  uint32_t inner[8];
  uint32_t outer[8];
} vc_hmac_sha256_key;

/// Prepares `key` from a secret of any length (longer than 64 bytes is hashed first, RFC 2104).
void vc_hmac_sha256_key_init(vc_hmac_sha256_key *key, const uint8_t *secret, size_t length);

/// HMAC-SHA256 of `message` under a prepared key; writes 32 bytes to `out`.
void vc_hmac_sha256(const vc_hmac_sha256_key *key, const uint8_t *message, size_t length,
                    uint8_t out[32]);

/// Plain SHA-256 of `message`; a message of at most 55 bytes costs one compression.
void vc_sha256(const uint8_t *message, size_t length, uint8_t out[32]);

/// The leading 64 bits (big-endian) of HMAC-SHA256 of a message of at most 55 bytes: exactly two
/// compressions, no padding buffers beyond one block. The hot path of sealing a code.
uint64_t vc_hmac_sha256_prefix64(const vc_hmac_sha256_key *key, const uint8_t *message, size_t length);

/// The leading 64 bits (big-endian) of SHA-256 of a message of at most 55 bytes: one compression.
uint64_t vc_sha256_prefix64(const uint8_t *message, size_t length);

/// CRC-32C (Castagnoli) of `length` bytes, continuing from `crc` (0 to start): the checksum of
/// every registry record. Uses the SSE 4.2 instruction where the CPU has it.
uint32_t vc_crc32c(uint32_t crc, const void *bytes, size_t length);

/// The CRC-32C a registry record stores: of its bytes 1 to 3 (type and body length), then of its
/// `body_length` body bytes from byte 8, in one call.
uint32_t vc_record_crc(const void *record, size_t body_length);

/// Overwrites `length` bytes at `pointer` in a way the compiler cannot elide.
void vc_cleanse(void *pointer, size_t length);

#endif
