import FoundationEssentials

/// The prizes of one print run: so many winning serials per tier among serials `first` to `last`
/// of a channel, chosen by ``PrizeSelection`` from a secret seed kept in a file of its own.
public struct PrizeAllocation: Sendable, Hashable, Codable {
  /// The channel.
  public let channel: ChannelID
  /// The run's first serial.
  public let first: Int
  /// The run's last serial.
  public let last: Int
  /// The tiers, in order.
  public let tiers: [PrizeTier]
  /// The published commitment (``PrizeSelection/commitment(seed:campaign:channel:serials:tiers:)``).
  public let commitment: String
  /// When it was added (ISO 8601).
  public let created: String

  /// The run's serials.
  public var serials: ClosedRange<Int> { first...last }
  /// How many prizes it holds.
  public var prizes: Int { tiers.reduce(0) { $0 + $1.count } }
  /// The name of its seed file in the campaign's prize folder.
  var seedName: String { "\(channel).\(first)-\(last).seed" }
}

/// What ``PrizeBook/reveal()`` shows of an allocation once its campaign has ended.
public struct RevealedAllocation: Sendable, Hashable {
  /// The allocation.
  public let allocation: PrizeAllocation
  /// Its seed, in lower-case hexadecimal.
  public let seed: String
  /// Its winning serials, with their prizes, in serial order.
  public let winners: [(serial: Int, prize: PrizeName)]

  public static func == (a: Self, b: Self) -> Bool {
    a.allocation == b.allocation && a.seed == b.seed
  }
  public func hash(into hasher: inout Hasher) { hasher.combine(allocation) }
}
