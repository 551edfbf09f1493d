#ifndef VOUCHER_CSQLITE_SHIM_H
#define VOUCHER_CSQLITE_SHIM_H

// SQLite, for the benchmark's peer only: no product target links it.
#include <sqlite3.h>

// SQLITE_TRANSIENT is a function-like macro cast Swift cannot import.
static inline void (*voucher_sqlite_transient(void))(void *) { return SQLITE_TRANSIENT; }

#endif
