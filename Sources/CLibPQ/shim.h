#ifndef VOUCHER_CLIBPQ_SHIM_H
#define VOUCHER_CLIBPQ_SHIM_H

// libpq, for the PostgreSQL registry only (the `PostgreSQL` package trait): no other target
// imports it, and the default build never does.
#include <libpq-fe.h>

#endif
