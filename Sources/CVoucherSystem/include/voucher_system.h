#ifndef VOUCHER_SYSTEM_H
#define VOUCHER_SYSTEM_H

/// Swaps two paths atomically (Linux `renameat2` with `RENAME_EXCHANGE`): both must exist.
/// Returns 0, or -1 with `errno` set (EINVAL or ENOSYS where the file system or kernel cannot).
int vs_exchange(const char *from, const char *to);

#endif
