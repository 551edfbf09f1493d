#ifndef VOUCHER_COPENSSL_SHIM_H
#define VOUCHER_COPENSSL_SHIM_H

// Keep every deprecated OpenSSL API out of reach of Swift code.
#define OPENSSL_API_COMPAT 30000
#define OPENSSL_NO_DEPRECATED 1

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#endif
