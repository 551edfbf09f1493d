import VoucherKit
import VoucherRegistry

/// Where the registry is and how long to wait for its lock: the one place every command opens
/// the registry, as the store contract (`registry rebuild`, which is the file registry's own,
/// is the exception). A registry named by a URI (a database) is a change here alone.
struct RegistryLocation: Sendable {
  let home: VoucherHome
  /// Seconds to wait for another process's lock (`VOUCHER_LOCK_TIMEOUT`, else 10): a lock held
  /// longer (a stopped process) makes the command answer busy, exit 75, instead of hanging.
  let lockTimeout: Double

  /// Opens the registry.
  ///
  /// - Parameters:
  ///   - campaigns: The home's campaigns.
  ///   - create: Whether to create it where it is missing and no code was issued yet (writes do).
  /// - Throws: ``RegistryError`` when it is missing (and not made), vanished, busy or damaged.
  func open(campaigns: CampaignBook, create: Bool) throws(RegistryError) -> any RegistryStore {
    try Registry.open(home: home, campaigns: campaigns, create: create, lockTimeout: lockTimeout)
  }

  /// Opens the registry for readers: `nil` in a home that never issued a code and has none.
  ///
  /// - Throws: ``RegistryError/vanished(path:)`` when it is missing in a home that issued codes.
  func openIfPresent(campaigns: CampaignBook) throws(RegistryError) -> (any RegistryStore)? {
    try Registry.openIfPresent(home: home, campaigns: campaigns, lockTimeout: lockTimeout)
  }
}

extension Context {
  /// Where this command finds the registry.
  var registry: RegistryLocation { RegistryLocation(home: home, lockTimeout: lockTimeout) }
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
