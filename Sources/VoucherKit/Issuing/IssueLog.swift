import FoundationEssentials

#if canImport(Glibc)
  import Glibc
#endif

/// The record of issued serial ranges of one campaign, `HOME/Campaigns/ID.issued`: one JSON object
/// per line, appended and synced before any code of the range is written out.
///
/// A plain issue continues after the highest serial issued for its channel, so two runs never
/// print the same codes; a reprint (`--first`) is recorded too, marked as such.
public struct IssueLog: Sendable {
  /// One issue run.
  public struct Entry: Sendable, Hashable, Codable {
    /// When the range was reserved.
    public let at: String
    /// The channel.
    public let channel: ChannelID
    /// The first serial.
    public let first: Int
    /// How many codes.
    public let count: Int
    /// Whether this run regenerated serials named with `--first`.
    public let reprint: Bool
  }

  /// The log file.
  public let path: String

  /// The log of `campaign` in a campaign folder.
  public init(folder: String, campaign: CampaignID) {
    path = "\(folder)/\(campaign).issued"
  }

  /// Every entry, oldest first. A torn last line (from a crash while appending) is ignored.
  public func entries() throws(CampaignError) -> [Entry] {
    let bytes: [UInt8]
    do {
      bytes = try FileSystem.read(path, limit: 256 << 20).bytes
    } catch {
      if error.isMissing { return [] }
      throw .io(error)
    }
    var entries: [Entry] = []
    let decoder = JSONDecoder()
    var offset = 0
    for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast() {
      defer { offset += line.count + 1 }
      if line.isEmpty { continue }
      guard let entry = try? decoder.decode(Entry.self, from: Data(line)), entry.first >= 1,
        entry.count >= 1
      else {
        throw .malformedFile(
          path: path, reason: "line at byte offset \(offset) is not an issue record")
      }
      entries.append(entry)
    }
    return entries
  }

  /// The serial after the highest one issued for `channel`.
  public func nextSerial(channel: ChannelID) throws(CampaignError) -> Int {
    try entries().filter { $0.channel == channel }.map { $0.first + $0.count }.max() ?? 1
  }

  /// How many distinct serials each channel has had issued: a reprint of issued serials counts
  /// once.
  ///
  /// - Parameter until: Only runs recorded up to this moment.
  public func issuedCounts(until: Date? = nil) throws(CampaignError) -> [ChannelID: Int] {
    var ranges: [ChannelID: [ClosedRange<Int>]] = [:]
    for entry in try entries() {
      if let until, let at = ISO8601.parse(entry.at), at > until { continue }
      ranges[entry.channel, default: []].append(entry.first...(entry.first + entry.count - 1))
    }
    return ranges.mapValues { ranges in
      var count = 0
      var covered = 0  // the highest serial counted so far
      for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
        let start = max(range.lowerBound, covered + 1)
        if range.upperBound >= start { count += range.upperBound - start + 1 }
        covered = max(covered, range.upperBound)
      }
      return count
    }
  }

  /// Reserves serials for an issue run and records them durably, under the campaign's lock.
  ///
  /// - Parameters:
  ///   - campaign: The campaign.
  ///   - channel: The channel.
  ///   - count: How many codes.
  ///   - first: The first serial of a reprint, or `nil` to continue after the last issued serial.
  ///   - now: The time to record.
  ///   - beforeRecording: Runs once the range is known and checked, before it is recorded;
  ///     an error it throws leaves the log untouched (the command stages its output file here).
  /// - Returns: The reserved serials.
  /// - Throws: ``CampaignError/invalidSetting(_:)`` for a count below 1;
  ///   ``CampaignError/capacityExceeded(_:channel:capacity:available:first:)`` when the range
  ///   passes the capacity.
  public func reserve(
    campaign: Campaign, channel: ChannelID, count: Int, first: Int?, now: Date,
    beforeRecording: (ClosedRange<Int>) throws -> Void = { _ in }
  ) throws -> ClosedRange<Int> {
    guard count >= 1 else { throw CampaignError.invalidSetting(.count) }
    let lock: FileLock
    do {
      lock = try FileLock(path + ".lock", timeout: 10)
    } catch {
      switch error {
      case .busy(let path): throw CampaignError.busy(path: path)
      case .io(let error): throw CampaignError.io(error)
      }
    }
    defer { lock.unlock() }
    let start = try first ?? nextSerial(channel: channel)
    guard start >= 1, start <= campaign.capacity, count <= campaign.capacity - start + 1 else {
      let left = max(0, campaign.capacity - start + 1)
      throw CampaignError.capacityExceeded(
        campaign.id, channel: channel, capacity: campaign.capacity, available: left, first: start)
    }
    let serials = start...(start + count - 1)
    try beforeRecording(serials)
    let entry = Entry(
      at: ISO8601.format(now), channel: channel, first: start, count: count, reprint: first != nil)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    try append(Array(try encoder.encode(entry)) + [0x0A])
    return serials
  }

  /// Appends one line and syncs it, first cutting a torn last line if a crash left one.
  private func append(_ line: [UInt8]) throws(CampaignError) {
    // Only a regular file (or none yet) is opened, without blocking: a FIFO or a device put in
    // the log's place is refused, never waited on or written to.
    var info = stat()
    if stat(path, &info) == 0 && info.st_mode & S_IFMT != S_IFREG {
      throw .io(.notRegularFile(path, mode: info.st_mode))
    }
    let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0o644)
    guard fd >= 0 else { throw .io(SystemError("open", path)) }
    defer { close(fd) }
    guard fstat(fd, &info) == 0 else { throw .io(SystemError("inspect", path)) }
    guard info.st_mode & S_IFMT == S_IFREG else {
      throw .io(.notRegularFile(path, mode: info.st_mode))
    }
    var size = lseek(fd, 0, SEEK_END)
    if size > 0 {
      var last: UInt8 = 0
      if pread(fd, &last, 1, size - 1) == 1 && last != 0x0A {
        var cut = size - 1
        while cut > 0 {
          var byte: UInt8 = 0
          guard pread(fd, &byte, 1, cut - 1) == 1 else { break }
          if byte == 0x0A { break }
          cut -= 1
        }
        guard ftruncate(fd, cut) == 0 else { throw .io(SystemError("repair", path)) }
        size = cut
      }
    }
    let written = line.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, size) }
    guard written == line.count else {
      throw .io(SystemError("write", path, code: written < 0 ? errno : ENOSPC))
    }
    guard fdatasync(fd) == 0 else { throw .io(SystemError("sync", path)) }
    if size == 0 {
      do {
        try FileSystem.syncDirectory(FileSystem.parentDirectory(of: path))
      } catch {
        throw .io(error)
      }
    }
  }
}
