/// Errors raised while adding or reading prize allocations.
public enum PrizeError: Error, Equatable, CustomStringConvertible {
  /// The tiers are not usable: none, a count below 1, or a name given twice.
  case invalidTiers(String)
  /// The serials lie outside the channel's capacity.
  case outOfRange(first: Int, last: Int, capacity: Int)
  /// The serials overlap an allocation of the same channel.
  case overlaps(channel: ChannelID, first: Int, last: Int)
  /// The tiers hold more prizes than the range has serials.
  case tooManyPrizes(prizes: Int, serials: Int)
  /// An allocation's seed file is missing.
  case missingSeed(path: String)
  /// A seed file is readable by group or others; it must be mode 0600.
  case seedTooOpen(path: String, mode: UInt16)
  /// A prize file is not what voucher writes.
  case malformedFile(path: String, reason: String)
  /// Another process held the prize folder's lock for too long.
  case busy(path: String)
  /// OpenSSL's generator gave no seed.
  case randomFailed
  /// A file could not be read or written.
  case io(SystemError)

  public var description: String {
    switch self {
    case .invalidTiers(let reason): return "invalid prize tiers: \(reason)"
    case .outOfRange(let first, let last, let capacity):
      return "serials \(first) to \(last) lie outside the channel's serials 1 to \(capacity)"
    case .overlaps(let channel, let first, let last):
      return
        "the serials overlap the prize allocation of channel '\(channel)', serials \(first) to \(last)"
    case .tooManyPrizes(let prizes, let serials):
      return "\(prizes) prizes do not fit in \(serials) serials"
    case .missingSeed(let path): return "the prize seed \(path) is missing"
    case .seedTooOpen(let path, let mode):
      return "the prize seed \(path) has mode \(String(mode, radix: 8)); it must be 0600"
    case .malformedFile(let path, let reason): return "\(path) is malformed: \(reason)"
    case .busy(let path): return "the prize folder is busy (lock \(path) held too long)"
    case .randomFailed: return "the random generator failed; no seed was made"
    case .io(let error): return error.description
    }
  }
}
