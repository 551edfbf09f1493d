// The speed path of voucher's signing: SHA-256 and HMAC-SHA256 built on libcrypto's SHA-256
// compression function (SHA256_Transform, which uses the SHA extensions where the CPU has them).
//
// OpenSSL 3 marks the low-level SHA256_* functions deprecated in favour of EVP. EVP's HMAC costs
// about 200 ns per short message here (provider dispatch and context copies), against about 90 ns
// for two bare compressions; issuing millions of codes a second needs the latter. The functions are
// still exported by every libcrypto 3.x, and this file is the only place that uses them.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "voucher_crypto.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <string.h>

static const uint32_t sha256_initial[8] = {
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

static void compress(uint32_t state[8], const uint8_t block[64]) {
  SHA256_CTX context;
  memcpy(context.h, state, sizeof context.h);
  SHA256_Transform(&context, block);
  memcpy(state, context.h, sizeof context.h);
}

static void store_big_endian(const uint32_t state[8], uint8_t out[32]) {
  for (int i = 0; i < 8; i++) {
    out[4 * i] = (uint8_t)(state[i] >> 24);
    out[4 * i + 1] = (uint8_t)(state[i] >> 16);
    out[4 * i + 2] = (uint8_t)(state[i] >> 8);
    out[4 * i + 3] = (uint8_t)state[i];
  }
}

/// Continues a hash whose state has already absorbed `prefix_bytes` bytes (a multiple of 64):
/// absorbs `message`, pads (FIPS 180-4 section 5.1.1) and writes the digest. Per-message buffers
/// hold no key material (the pads live only in the prepared key), so the hot path does not wipe them.
static void finish(uint32_t state[8], uint64_t prefix_bytes, const uint8_t *message, size_t length,
                   uint8_t out[32]) {
  uint64_t total_bits = (prefix_bytes + (uint64_t)length) * 8;
  while (length >= 64) {
    compress(state, message);
    message += 64;
    length -= 64;
  }
  uint8_t block[128];
  memset(block, 0, sizeof block);
  if (length > 0) memcpy(block, message, length);
  block[length] = 0x80;
  size_t blocks = length < 56 ? 1 : 2;
  for (int i = 0; i < 8; i++) block[blocks * 64 - 1 - i] = (uint8_t)(total_bits >> (8 * i));
  compress(state, block);
  if (blocks == 2) compress(state, block + 64);
  store_big_endian(state, out);
}

void vc_sha256(const uint8_t *message, size_t length, uint8_t out[32]) {
  uint32_t state[8];
  memcpy(state, sha256_initial, sizeof state);
  finish(state, 0, message, length, out);
}

void vc_hmac_sha256_key_init(vc_hmac_sha256_key *key, const uint8_t *secret, size_t length) {
  uint8_t block[64];
  uint8_t hashed[32];
  memset(block, 0, sizeof block);
  if (length > 64) {
    vc_sha256(secret, length, hashed);
    memcpy(block, hashed, sizeof hashed);
  } else if (length > 0) {
    memcpy(block, secret, length);
  }
  uint8_t pad[64];
  for (int i = 0; i < 64; i++) pad[i] = block[i] ^ 0x36;
  memcpy(key->inner, sha256_initial, sizeof key->inner);
  compress(key->inner, pad);
  for (int i = 0; i < 64; i++) pad[i] = block[i] ^ 0x5c;
  memcpy(key->outer, sha256_initial, sizeof key->outer);
  compress(key->outer, pad);
  OPENSSL_cleanse(block, sizeof block);
  OPENSSL_cleanse(hashed, sizeof hashed);
  OPENSSL_cleanse(pad, sizeof pad);
}

void vc_hmac_sha256(const vc_hmac_sha256_key *key, const uint8_t *message, size_t length,
                    uint8_t out[32]) {
  uint32_t state[8];
  uint8_t inner[32];
  memcpy(state, key->inner, sizeof state);
  finish(state, 64, message, length, inner);
  memcpy(state, key->outer, sizeof state);
  finish(state, 64, inner, sizeof inner, out);
}

/// Fills `block` with a message of at most 55 bytes, its padding and its length in bits, counting
/// `prefix_bytes` already absorbed.
static inline void pad_short(uint8_t block[64], const uint8_t *message, size_t length, uint64_t prefix_bytes) {
  memcpy(block, message, length);
  block[length] = 0x80;
  memset(block + length + 1, 0, 55 - length);
  uint64_t bits = (prefix_bytes + length) * 8;
  for (int i = 0; i < 8; i++) block[63 - i] = (uint8_t)(bits >> (8 * i));
}

uint64_t vc_hmac_sha256_prefix64(const vc_hmac_sha256_key *key, const uint8_t *message, size_t length) {
  SHA256_CTX context;
  uint8_t block[64];
  memcpy(context.h, key->inner, sizeof context.h);
  pad_short(block, message, length, 64);
  SHA256_Transform(&context, block);
  store_big_endian(context.h, block);
  block[32] = 0x80;
  memset(block + 33, 0, 31);
  block[62] = (uint8_t)((96 * 8) >> 8);
  block[63] = (uint8_t)(96 * 8);
  memcpy(context.h, key->outer, sizeof context.h);
  SHA256_Transform(&context, block);
  return (uint64_t)context.h[0] << 32 | context.h[1];
}

uint64_t vc_sha256_prefix64(const uint8_t *message, size_t length) {
  SHA256_CTX context;
  uint8_t block[64];
  memcpy(context.h, sha256_initial, sizeof context.h);
  pad_short(block, message, length, 0);
  SHA256_Transform(&context, block);
  return (uint64_t)context.h[0] << 32 | context.h[1];
}

// MARK: - CRC-32C

static uint32_t crc32c_table[8][256];
static pthread_once_t crc32c_once = PTHREAD_ONCE_INIT;
static int crc32c_hardware = 0;

static void crc32c_init(void) {
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t crc = n;
    for (int k = 0; k < 8; k++) crc = crc & 1 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
    crc32c_table[0][n] = crc;
  }
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t crc = crc32c_table[0][n];
    for (int k = 1; k < 8; k++) {
      crc = crc32c_table[0][crc & 0xFF] ^ (crc >> 8);
      crc32c_table[k][n] = crc;
    }
  }
#if defined(__x86_64__)
  __builtin_cpu_init();
  crc32c_hardware = __builtin_cpu_supports("sse4.2");
#endif
}

static uint32_t crc32c_software(uint32_t crc, const uint8_t *p, size_t n) {
  while (n >= 8) {
    uint64_t word;
    memcpy(&word, p, 8);
    word ^= crc;
    crc = crc32c_table[7][word & 0xFF] ^ crc32c_table[6][(word >> 8) & 0xFF] ^
          crc32c_table[5][(word >> 16) & 0xFF] ^ crc32c_table[4][(word >> 24) & 0xFF] ^
          crc32c_table[3][(word >> 32) & 0xFF] ^ crc32c_table[2][(word >> 40) & 0xFF] ^
          crc32c_table[1][(word >> 48) & 0xFF] ^ crc32c_table[0][word >> 56];
    p += 8;
    n -= 8;
  }
  while (n--) crc = crc32c_table[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
  return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc32c_hardware_path(uint32_t crc, const uint8_t *p, size_t n) {
  uint64_t c = crc;
  while (n >= 8) {
    uint64_t word;
    memcpy(&word, p, 8);
    c = __builtin_ia32_crc32di(c, word);
    p += 8;
    n -= 8;
  }
  uint32_t c32 = (uint32_t)c;
  while (n--) c32 = __builtin_ia32_crc32qi(c32, *p++);
  return c32;
}
#endif

uint32_t vc_crc32c(uint32_t crc, const void *bytes, size_t length) {
  pthread_once(&crc32c_once, crc32c_init);
  crc = ~crc;
#if defined(__x86_64__)
  if (crc32c_hardware) return ~crc32c_hardware_path(crc, bytes, length);
#endif
  return ~crc32c_software(crc, bytes, length);
}

uint32_t vc_record_crc(const void *record, size_t body_length) {
  // Bytes 1 to 3 (type and length), then the body after the stored checksum, in one pass.
  const uint8_t *bytes = record;
  pthread_once(&crc32c_once, crc32c_init);
#if defined(__x86_64__)
  if (crc32c_hardware) {
    uint32_t crc = crc32c_hardware_path(~0u, bytes + 1, 3);
    return ~crc32c_hardware_path(crc, bytes + 8, body_length);
  }
#endif
  return ~crc32c_software(crc32c_software(~0u, bytes + 1, 3), bytes + 8, body_length);
}

void vc_cleanse(void *pointer, size_t length) { OPENSSL_cleanse(pointer, length); }
