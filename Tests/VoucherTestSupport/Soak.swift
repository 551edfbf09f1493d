import Foundation

/// How long the open-ended tests (kill loops, fault injection, file mutations) run.
///
/// By default each runs for its own short, bounded time, so `swift test` stays quick. A soak
/// (`.ci/soak MINUTES`) sets `VOUCHER_SOAK_SECONDS`, and every such test then runs that long.
public enum Soak {
  /// The soak length from `VOUCHER_SOAK_SECONDS`, if one is set.
  public static var seconds: Double? {
    guard let text = ProcessInfo.processInfo.environment["VOUCHER_SOAK_SECONDS"],
      let value = Double(text), value > 0
    else { return nil }
    return value
  }

  /// The time a test runs: the soak length if one is set, else `seconds`.
  public static func duration(default seconds: Double) -> Double { Soak.seconds ?? seconds }

  /// The seed of a seeded test: `VOUCHER_SEED` if set (to replay or vary a soak), else `seed`.
  public static func seed(default seed: UInt64) -> UInt64 {
    ProcessInfo.processInfo.environment["VOUCHER_SEED"].flatMap { UInt64($0) } ?? seed
  }
}
