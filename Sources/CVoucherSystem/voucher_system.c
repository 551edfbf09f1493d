// System calls the Swift Glibc module does not export (renameat2 is declared only under
// _GNU_SOURCE in some glibc versions, and syscall() is variadic, which Swift cannot call).
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "voucher_system.h"

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

int vs_exchange(const char *from, const char *to) {
  return (int)syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, RENAME_EXCHANGE);
}
