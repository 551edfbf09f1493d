import VoucherKit

#if canImport(Glibc)
  import Glibc
#endif

/// Refuses a home whose folders every user may write.
///
/// Anyone who can write `Keys/` can add a key of their own and issue genuine codes; anyone who
/// can write `Registry/` can replace the journal, and with it every redemption. A sticky bit
/// does not help (new files can still be added), so any folder writable by others is refused.
/// Symbolic links are followed: a home or a registry on another disk is common, and only someone
/// who can write the folder holding a link can plant one, which this check refuses.
///
/// - Parameter home: The home to check; folders that do not exist yet are skipped.
/// - Throws: A configuration error (exit 78) naming the folder and its mode.
func checkHomeFolders(_ home: VoucherHome) throws(CommandError) {
  for folder in [home.path, home.keys, home.campaigns, home.registry, home.registry + "/index"] {
    var info = stat()
    guard stat(folder, &info) == 0, info.st_mode & 0o002 != 0 else { continue }
    let mode = String(info.st_mode & 0o7777, radix: 8)
    throw CommandError(
      ExitStatus.configuration,
      "\(printable(folder, limit: 4096)) is writable by every user (mode \(mode)), so anyone could "
        + "replace keys or redemptions; run 'chmod o-w \(printable(folder, limit: 4096))'")
  }
}
