import FoundationEssentials
import Synchronization

/// Token buckets for wrong codes (malformed, mistyped, forged), one per API token and one per
/// peer address: each bucket holds up to `burst` wrong codes and refills at `perSecond`. A
/// client whose bucket is empty is answered 429 with `Retry-After` until it refills, whatever
/// it asks about, so a forger's guesses are bounded by the refill rate.
public final class RateLimiter: Sendable {
  /// The most wrong codes in a burst.
  public let burst: Double
  /// Wrong codes per second that a bucket regains.
  public let perSecond: Double
  private let buckets = Mutex<[String: (level: Double, time: Double)]>([:])
  /// When a wrong code was last spent (the clock's seconds, as bits), or -infinity: once a
  /// full refill has passed since, every bucket is full and a check need not take the lock.
  private let lastSpent = Atomic<UInt64>((-Double.infinity).bitPattern)
  private let clock: @Sendable () -> Double

  /// Buckets of `burst` wrong codes refilling at `perSecond`.
  public init(
    burst: Double = 20, perSecond: Double = 0.5,
    clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
  ) {
    self.burst = burst
    self.perSecond = perSecond
    self.clock = clock
  }

  /// Seconds until every one of these buckets holds a wrong code again; 0 when they all do.
  public func wait(_ keys: [String]) -> Int {
    let now = clock()
    let spent = Double(bitPattern: lastSpent.load(ordering: .acquiring))
    if now - spent > burst / perSecond { return 0 }
    return buckets.withLock { buckets in
      var longest = 0.0
      for key in keys {
        let level = refilled(buckets[key], now: now)
        if level < 1 { longest = max(longest, (1 - level) / perSecond) }
      }
      return Int(longest.rounded(.up))
    }
  }

  /// Takes one wrong code from each bucket.
  public func spend(_ keys: [String]) {
    let now = clock()
    buckets.withLock { buckets in
      lastSpent.store(now.bitPattern, ordering: .releasing)
      for key in keys {
        buckets[key] = (max(0, refilled(buckets[key], now: now) - 1), now)
      }
      // Full buckets carry no information: forget them now and then, so memory stays bounded.
      if buckets.count > 100_000 {
        buckets = buckets.filter { refilled($0.value, now: now) < burst }
      }
    }
  }

  private func refilled(_ bucket: (level: Double, time: Double)?, now: Double) -> Double {
    guard let bucket else { return burst }
    return min(burst, bucket.level + max(0, now - bucket.time) * perSecond)
  }
}
