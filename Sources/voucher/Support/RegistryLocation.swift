import VoucherKit
import VoucherRegistry

#if PostgreSQL
  import VoucherPostgres
#endif

/// Where the registry is and how long to wait for its lock: the one place every command opens
/// the registry, as the store contract (`registry rebuild`, which is the file registry's own,
/// is the exception). A registry named by a URI (`--registry`) is a PostgreSQL database.
struct RegistryLocation: Sendable {
  let home: VoucherHome
  /// The database registry, or `nil` for the file registry under the home.
  let uri: RegistryURI?
  /// Seconds to wait for another process's lock (`VOUCHER_LOCK_TIMEOUT`, else 10): a lock held
  /// longer (a stopped process) makes the command answer busy, exit 75, instead of hanging.
  let lockTimeout: Double

  /// Opens the registry.
  ///
  /// - Parameters:
  ///   - campaigns: The home's campaigns.
  ///   - create: Whether to create it where it is missing and no code was issued yet (writes do).
  /// - Throws: ``RegistryError`` when it is missing (and not made), vanished, busy or damaged.
  ///
  /// A database registry is never created here: `voucher registry init` does it on purpose.
  func open(campaigns: CampaignBook, create: Bool) throws(RegistryError) -> any RegistryStore {
    #if PostgreSQL
      if let uri {
        return try PostgresRegistry.open(uri.target, campaigns: campaigns, timeout: lockTimeout)
      }
    #endif
    return try Registry.open(
      home: home, campaigns: campaigns, create: create, lockTimeout: lockTimeout)
  }

  /// Opens the registry for readers: `nil` in a home that never issued a code and has none.
  ///
  /// - Throws: ``RegistryError/vanished(path:)`` when it is missing in a home that issued codes.
  ///   A database registry named on purpose is opened, or its absence is an error.
  func openIfPresent(campaigns: CampaignBook) throws(RegistryError) -> (any RegistryStore)? {
    if uri != nil { return try open(campaigns: campaigns, create: false) }
    return try Registry.openIfPresent(home: home, campaigns: campaigns, lockTimeout: lockTimeout)
  }
}

extension Context {
  /// Where this command finds the registry.
  var registry: RegistryLocation {
    RegistryLocation(home: home, uri: registryURI, lockTimeout: lockTimeout)
  }
}

/// Registry warnings (a repaired torn tail) as `warning:` lines.
func reportWarnings(_ registry: any RegistryStore, _ context: Context) {
  for warning in registry.takeWarnings() { context.console.warning(warning) }
}

/// Reads `VOUCHER_LOCK_TIMEOUT`: seconds from 0 to 3600, whole or with a decimal fraction (`0.5`);
/// unset or empty means 10.
///
/// - Throws: A usage error (exit 64) for anything else, before any command runs: a timeout
///   misread silently would make a busy registry wait for the wrong time, or not at all.
func parseLockTimeout(_ text: String?) throws(CommandError) -> Double {
  guard let text, !text.isEmpty else { return 10 }
  let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
  let isDigits = { (part: Substring) in
    !part.isEmpty && part.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
  }
  guard parts.allSatisfy(isDigits), let seconds = Double(text), seconds <= 3600 else {
    throw .usage(
      "VOUCHER_LOCK_TIMEOUT must be a number of seconds from 0 to 3600 (such as 10 or 0.5), not '\(printable(text))'"
    )
  }
  return seconds
}
