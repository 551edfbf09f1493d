import VoucherKit
import VoucherRegistry

#if PostgreSQL
  import Synchronization
  import VoucherPostgres
#endif

/// A database registry named on the command line (`--registry`) or in `VOUCHER_REGISTRY`:
/// checked before any command runs, and never printed (messages name its database and host).
struct RegistryURI: Sendable {
  #if PostgreSQL
    /// The checked libpq target.
    let target: PGTarget
    /// The chain's state, read once per command (a command is one moment).
    private let chain = ChainStateCache()

    /// The chain's campaigns and key states, read on first use.
    func chainState(timeout: Double) throws(RegistryError) -> ChainState {
      try chain.state { () throws(RegistryError) in
        try PostgresRegistry.chainState(target, timeout: timeout)
      }
    }
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

#if PostgreSQL
  /// Holds the chain's state once read.
  final class ChainStateCache: Sendable {
    private let stored = Mutex<ChainState?>(nil)

    func state(_ read: () throws(RegistryError) -> ChainState) throws(RegistryError) -> ChainState {
      if let known = stored.withLock({ $0 }) { return known }
      let state = try read()
      stored.withLock { $0 = state }
      return state
    }
  }
#endif
