import VoucherKit

#if PostgreSQL
  import VoucherPostgres
#endif

/// A database registry named on the command line (`--registry`) or in `VOUCHER_REGISTRY`:
/// checked before any command runs, and never printed (messages name its database and host).
struct RegistryURI: Sendable {
  #if PostgreSQL
    /// The checked libpq target.
    let target: PGTarget
  #endif

  /// Checks a registry URI.
  ///
  /// - Throws: Exit 69 (`EX_UNAVAILABLE`) in a build without the `PostgreSQL` trait; a usage
  ///   error (64) for a string libpq cannot parse or one holding a password.
  init(_ text: String) throws(CommandError) {
    #if PostgreSQL
      do {
        target = try PGTarget(text)
      } catch {
        throw .usage("--registry: \(printable(error.description, limit: 300))")
      }
    #else
      throw CommandError(
        ExitStatus.unavailable,
        "this build of voucher has no PostgreSQL support, so it cannot open a --registry (or VOUCHER_REGISTRY) URI; build it with 'swift build --traits PostgreSQL'"
      )
    #endif
  }
}
