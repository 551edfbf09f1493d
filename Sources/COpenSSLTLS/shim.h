#ifndef VOUCHER_COPENSSLTLS_SHIM_H
#define VOUCHER_COPENSSLTLS_SHIM_H

// Keep every deprecated OpenSSL API out of reach of Swift code.
#define OPENSSL_API_COMPAT 30000
#define OPENSSL_NO_DEPRECATED 1

#include <openssl/ssl.h>
#include <openssl/err.h>

#endif
