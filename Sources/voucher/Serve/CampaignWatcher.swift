import FoundationEssentials
import Synchronization
import VoucherKit
import VoucherRegistry

#if canImport(Glibc)
  import Glibc
#endif

#if PostgreSQL
  import VoucherPostgres
#endif

/// The campaigns as a running server sees them: `campaign set` and `campaign end` take effect at
/// the server's next request, without a restart.
///
/// The home's `Campaigns/` folder is looked at (one `stat`) on every ask: a campaign file is only
/// ever replaced by a rename, which changes the folder's modification time. With a PostgreSQL
/// registry the chain's campaigns table is asked for its latest change too, at most once every
/// ``chainInterval`` seconds (a round trip to the server). On a change the campaigns are read
/// again and a new verifier made; one that cannot be read keeps the last good verifier and is
/// said once through `report`.
final class CampaignWatcher: Sendable {
  /// Seconds between two looks at a PostgreSQL registry's campaigns table.
  static let chainInterval = 0.25

  private let home: VoucherHome
  private let uri: RegistryURI?
  private let timeout: Double
  private let keyRing: KeyRing
  private let report: @Sendable (String) -> Void
  private let state: Mutex<State>
  #if PostgreSQL
    /// The connection the chain's table is asked on, opened on first use and again after a failure.
    private let chain = Mutex<PostgresRegistry?>(nil)
  #endif

  private struct State {
    var folder: [Int64]
    var chain: String
    var chainLooked: Double
    var verifier: Verifier
    var failing: Bool
  }

  /// Watches the campaigns of `context`, checking codes with `keyRing`.
  init(
    _ context: Context, keyRing: KeyRing, campaigns: CampaignBook,
    report: @escaping @Sendable (String) -> Void
  ) throws {
    home = context.home
    uri = context.registryURI
    timeout = context.lockTimeout
    self.keyRing = keyRing
    self.report = report
    state = Mutex(
      State(
        folder: Self.stamp(context.home.campaigns), chain: "",
        chainLooked: -Double.infinity,
        verifier: Verifier(keyRing: keyRing, campaigns: campaigns), failing: false))
    state.withLock { $0.chain = chainStamp() ?? "" }
  }

  /// The verifier for the campaigns as they are now.
  func current() -> Verifier {
    let folder = Self.stamp(home.campaigns)
    return state.withLock { state in
      var changed = folder != state.folder
      if uri != nil, monotonic() - state.chainLooked >= Self.chainInterval {
        state.chainLooked = monotonic()
        if let chain = chainStamp(), chain != state.chain {
          state.chain = chain
          changed = true
        }
      }
      guard changed else { return state.verifier }
      state.folder = folder
      do {
        let book = try Context.campaigns(home: home, uri: uri, timeout: timeout, fresh: true)
        state.verifier = Verifier(keyRing: keyRing, campaigns: book)
        state.failing = false
      } catch {
        if !state.failing {
          report(
            "the changed campaigns cannot be read, codes are checked against the last ones read: \(CommandError(error).message)"
          )
        }
        state.failing = true
      }
      return state.verifier
    }
  }

  /// The chain's campaigns' latest change, or `nil` without a PostgreSQL registry or when the
  /// server cannot be asked (then the last campaigns stay).
  private func chainStamp() -> String? {
    #if PostgreSQL
      if let uri {
        return chain.withLock { registry in
          do throws(RegistryError) {
            if registry == nil {
              registry = try PostgresRegistry.open(
                uri.target, campaigns: CampaignBook([]), timeout: min(timeout, 1))
            }
            return try registry?.campaignsStamp()
          } catch {
            registry = nil
            return nil
          }
        }
      }
    #endif
    return nil
  }

  /// What changes when a file of the folder is added, removed or renamed over.
  private static func stamp(_ path: String) -> [Int64] {
    var info = stat()
    guard stat(path, &info) == 0 else { return [-1] }
    return [
      Int64(info.st_ino), Int64(info.st_mtim.tv_sec), Int64(info.st_mtim.tv_nsec),
      Int64(info.st_ctim.tv_sec), Int64(info.st_ctim.tv_nsec),
    ]
  }

  private func monotonic() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
  }
}
