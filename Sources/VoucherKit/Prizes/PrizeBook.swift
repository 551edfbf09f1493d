import FoundationEssentials
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// A campaign's prize allocations in a home: `HOME/Prizes/CAMPAIGN/allocations.json` (channel,
/// serials, tiers, commitment: nothing secret) and one seed file per allocation beside it
/// (`CHANNEL.FIRST-LAST.seed`, mode 0600, the folder 0700).
public struct PrizeBook: Sendable {
  /// The campaign's prize folder.
  public let folder: String
  /// The campaign.
  public let campaign: CampaignID

  /// The prize book of `campaign` in `home`.
  public init(home: VoucherHome, campaign: CampaignID) {
    folder = home.path + "/Prizes/" + campaign.rawValue
    self.campaign = campaign
  }

  private var listPath: String { folder + "/allocations.json" }

  private struct List: Codable {
    var allocations: [PrizeAllocation]
  }

  /// The campaign's allocations, in the order added; none when the campaign has no prizes.
  public func allocations() throws(PrizeError) -> [PrizeAllocation] {
    guard FileSystem.exists(listPath) else { return [] }
    let bytes: [UInt8]
    do {
      bytes = try FileSystem.read(listPath).bytes
    } catch {
      if error.isNotRegularFile {
        throw .malformedFile(path: listPath, reason: "not a regular file")
      }
      throw .io(error)
    }
    do {
      return try JSONDecoder().decode(List.self, from: Data(bytes)).allocations
    } catch {
      throw .malformedFile(path: listPath, reason: "not a prize allocation list")
    }
  }

  /// The allocation that covers a serial of a channel, if any.
  public func allocation(channel: ChannelID, serial: Int) throws(PrizeError) -> PrizeAllocation? {
    try allocations().first { $0.channel == channel && $0.serials.contains(serial) }
  }

  /// Checks an allocation without writing anything: the tiers, the range, and that no
  /// allocation of the channel overlaps it.
  ///
  /// - Throws: ``PrizeError`` naming the first problem.
  public func check(
    channel: ChannelID, serials: ClosedRange<Int>, tiers: [PrizeTier], capacity: Int
  ) throws(PrizeError) {
    guard !tiers.isEmpty else { throw .invalidTiers("give at least one tier") }
    guard tiers.allSatisfy({ $0.count >= 1 }) else {
      throw .invalidTiers("every tier needs a count of at least 1")
    }
    guard Set(tiers.map(\.name)).count == tiers.count else {
      throw .invalidTiers("a tier name is given twice")
    }
    guard serials.lowerBound >= 1, serials.upperBound <= capacity else {
      throw .outOfRange(first: serials.lowerBound, last: serials.upperBound, capacity: capacity)
    }
    let prizes = tiers.reduce(0) { $0 + $1.count }
    guard prizes <= serials.count else {
      throw .tooManyPrizes(prizes: prizes, serials: serials.count)
    }
    if let other = try allocations().first(where: {
      $0.channel == channel && $0.serials.overlaps(serials)
    }) {
      throw .overlaps(channel: channel, first: other.first, last: other.last)
    }
  }

  /// Adds an allocation with a fresh seed from OpenSSL's CSPRNG.
  ///
  /// - Parameters:
  ///   - channel: The channel.
  ///   - serials: The print run.
  ///   - tiers: The tiers, in order.
  ///   - capacity: The channel's capacity.
  ///   - now: The time to record.
  ///   - timeout: Seconds to wait for another `prizes add` of the campaign.
  /// - Returns: The allocation, with its commitment.
  /// - Throws: ``PrizeError``: bad tiers, serials out of range or overlapping, or I/O.
  public func add(
    channel: ChannelID, serials: ClosedRange<Int>, tiers: [PrizeTier], capacity: Int, now: Date,
    timeout: Double = 10
  ) throws(PrizeError) -> PrizeAllocation {
    try check(channel: channel, serials: serials, tiers: tiers, capacity: capacity)
    do {
      try FileSystem.makeDirectory(FileSystem.parentDirectory(of: folder), mode: 0o700)
      try FileSystem.makeDirectory(folder, mode: 0o700)
    } catch {
      throw .io(error)
    }
    let lock: FileLock
    do {
      lock = try FileLock(folder + "/.lock", timeout: timeout)
    } catch {
      switch error {
      case .busy(let path): throw .busy(path: path)
      case .io(let error): throw .io(error)
      }
    }
    defer { lock.unlock() }
    var list = try allocations()
    if let other = list.first(where: { $0.channel == channel && $0.serials.overlaps(serials) }) {
      throw .overlaps(channel: channel, first: other.first, last: other.last)
    }
    var seed: [UInt8]
    do {
      seed = try OpenSSL.randomBytes(count: PrizeSelection.seedBytes)
    } catch {
      throw .randomFailed
    }
    defer { wipe(&seed) }
    let allocation = PrizeAllocation(
      channel: channel, first: serials.lowerBound, last: serials.upperBound, tiers: tiers,
      commitment: PrizeSelection.commitment(
        seed: seed, campaign: campaign, channel: channel, serials: serials, tiers: tiers),
      created: ISO8601.format(now))
    var text = Array(
      ("# voucher prize seed. Secret until the campaign ends: mode 0600, never to the print shop.\n"
        + "seed: \(PrizeSelection.hex(seed))\n").utf8)
    defer { wipe(&text) }
    list.append(allocation)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    do {
      // The seed first: a seed file no allocation names (a crash in between) is replaced by the
      // next add of its range, since no commitment to it was ever printed.
      try FileSystem.writeAtomically(
        folder + "/" + allocation.seedName, text, mode: 0o600, replace: true)
      let data = try encoder.encode(List(allocations: list)) + Data("\n".utf8)
      try FileSystem.writeAtomically(listPath, Array(data), replace: true)
    } catch let error as SystemError {
      throw .io(error)
    } catch {
      throw .malformedFile(path: listPath, reason: "could not be encoded")
    }
    return allocation
  }

  /// An allocation's seed, read from its file (which must be mode 0600).
  public func seed(of allocation: PrizeAllocation) throws(PrizeError) -> [UInt8] {
    let path = folder + "/" + allocation.seedName
    guard FileSystem.exists(path) else { throw .missingSeed(path: path) }
    let read: (bytes: [UInt8], mode: mode_t)
    do {
      read = try FileSystem.read(path, limit: 4096)
    } catch {
      if error.isNotRegularFile { throw .malformedFile(path: path, reason: "not a regular file") }
      throw .io(error)
    }
    guard read.mode & 0o077 == 0 else { throw .seedTooOpen(path: path, mode: UInt16(read.mode)) }
    var bytes = read.bytes
    defer { wipe(&bytes) }
    let text = String(decoding: bytes, as: UTF8.self)
    for line in text.split(separator: "\n") where line.hasPrefix("seed:") {
      let hex = String(line.dropFirst(5)).trimmingSpaces
      if let seed = decodeHex(hex), seed.count == PrizeSelection.seedBytes,
        PrizeSelection.commitment(
          seed: seed, campaign: campaign, channel: allocation.channel,
          serials: allocation.serials, tiers: allocation.tiers) == allocation.commitment
      {
        return seed
      }
      throw .malformedFile(
        path: path, reason: "the seed does not match the allocation's commitment")
    }
    throw .malformedFile(path: path, reason: "no 'seed:' line")
  }

  /// An allocation's winning serials with their prizes.
  public func winners(of allocation: PrizeAllocation) throws(PrizeError) -> [Int: PrizeName] {
    var seed = try self.seed(of: allocation)
    defer { wipe(&seed) }
    return PrizeSelection.winners(
      seed: seed, campaign: campaign, channel: allocation.channel, serials: allocation.serials,
      tiers: allocation.tiers)
  }

  /// The prize a serial of a channel wins, or `nil`.
  public func prize(channel: ChannelID, serial: Int) throws(PrizeError) -> PrizeName? {
    guard let allocation = try allocation(channel: channel, serial: serial) else { return nil }
    return try winners(of: allocation)[serial]
  }

  /// Every allocation with its seed and winners: the proof, once the campaign has ended.
  public func reveal() throws(PrizeError) -> [RevealedAllocation] {
    var revealed: [RevealedAllocation] = []
    for allocation in try allocations() {
      let seed = try self.seed(of: allocation)
      let winners = try self.winners(of: allocation).map { (serial: $0.key, prize: $0.value) }
      revealed.append(
        RevealedAllocation(
          allocation: allocation, seed: PrizeSelection.hex(seed),
          winners: winners.sorted { $0.serial < $1.serial }))
    }
    return revealed
  }
}

/// What each code of a home's campaigns wins, for a long-running server: each campaign's winners
/// are computed once and computed again when its allocation list changes (a `prizes add` while
/// the server runs), so a claim is never decided on an outdated list.
public final class PrizeTable: Sendable {
  private struct Cached {
    /// The list file's identity and change time when it was read (`nil`: no file).
    let stamp: [Int]?
    let winners: [ChannelID: [Int: PrizeName]]
  }
  private let home: VoucherHome?
  private let cache = Mutex<[CampaignID: Cached]>([:])

  /// No prizes.
  public init() { home = nil }

  /// The prizes of the campaigns of `home`, each read on its first claim.
  public init(home: VoucherHome) { self.home = home }

  /// The prize a code wins, or `nil`.
  ///
  /// - Throws: ``PrizeError`` when an allocation or its seed cannot be read: the claim must
  ///   then not be recorded without its prize.
  public func prize(campaign: CampaignID, channel: ChannelID, serial: Int) throws(PrizeError)
    -> PrizeName?
  {
    guard let home else { return nil }
    let book = PrizeBook(home: home, campaign: campaign)
    let stamp = book.listStamp()
    if let cached = cache.withLock({ $0[campaign] }), cached.stamp == stamp {
      return cached.winners[channel]?[serial]
    }
    var winners: [ChannelID: [Int: PrizeName]] = [:]
    for allocation in try book.allocations() {
      winners[allocation.channel, default: [:]].merge(try book.winners(of: allocation)) { a, _ in a
      }
    }
    let fresh = Cached(stamp: stamp, winners: winners)
    cache.withLock { $0[campaign] = fresh }
    return winners[channel]?[serial]
  }
}

extension PrizeBook {
  /// The allocation list's device, inode, size and change time, or `nil` when there is none: an
  /// atomic rewrite gives it a new inode.
  func listStamp() -> [Int]? {
    var info = stat()
    guard stat(folder + "/allocations.json", &info) == 0 else { return nil }
    return [
      Int(info.st_dev), Int(info.st_ino), Int(info.st_size), Int(info.st_ctim.tv_sec),
      Int(info.st_ctim.tv_nsec),
    ]
  }
}
