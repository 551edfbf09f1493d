import FoundationEssentials
import VoucherKit

#if canImport(Glibc)
import Glibc
#endif

/// The redemption registry of a home: `HOME/Registry/`.
///
/// ```
/// Registry/journal     append-only records with a CRC-32C each: the source of truth
/// Registry/index/      ID.idx per campaign: 8 bytes per code (live uses, flags, latest event)
/// Registry/blocks      blocked serial ranges
/// Registry/state       how far the index reflects the journal (see RegistryState)
/// Registry/lock        the lock every operation takes (flock: dropped when its holder dies)
/// Registry/FENCED      present after a failed sync or found damage: writes are refused
/// ```
///
/// Every operation takes the lock, brings the index up to the journal's end (replaying records a
/// killed process had not applied, cutting a torn tail into a side file), does its work, and
/// releases the lock. A write appends one record and syncs the journal (`fdatasync`) before it
/// answers; the index is updated after, without a sync, and can always be rebuilt.
public final class Registry {
  /// The registry folder.
  public let folder: String
  let files: any FileLayer
  let campaigns: CampaignBook
  let journal: Journal
  private let lockTimeout: Double
  private var indexes: [CampaignID: CampaignIndex] = [:]
  /// The journal's end after the current operation's recovery.
  var end: Int64 = 0
  var state: RegistryState
  var blocks = BlockList()
  /// Things worth telling the user that are not errors (a repaired torn tail).
  public internal(set) var warnings: [String] = []

  /// Records between checkpoints: the index files are synced this often (in journal bytes).
  static let checkpointInterval: Int64 = 1 << 20

  var journalPath: String { folder + "/journal" }
  var statePath: String { folder + "/state" }
  var blocksPath: String { folder + "/blocks" }
  var indexFolder: String { folder + "/index" }
  var fencePath: String { folder + "/FENCED" }

  private init(folder: String, files: any FileLayer, campaigns: CampaignBook, journal: Journal, lockTimeout: Double) {
    self.folder = folder
    self.files = files
    self.campaigns = campaigns
    self.journal = journal
    self.lockTimeout = lockTimeout
    state = RegistryState(journalID: journal.id, applied: Journal.headerSize, checkpoint: Journal.headerSize, boot: RegistryState.unknownBoot)
  }

  /// Whether a home has a registry.
  public static func exists(in home: VoucherHome) -> Bool { FileSystem.exists(home.registry + "/journal") }

  /// Opens a home's registry.
  ///
  /// - Parameters:
  ///   - home: The home folder.
  ///   - campaigns: The home's campaigns, which say which campaign each code belongs to.
  ///   - create: Whether to create the registry when it is missing (write commands do).
  ///   - lockTimeout: Seconds to wait for another process's lock before answering busy.
  /// - Throws: ``RegistryError/missing(path:)`` without a registry and without `create`.
  public static func open(home: VoucherHome, campaigns: CampaignBook, create: Bool, lockTimeout: Double = 10) throws(RegistryError) -> Registry {
    try open(folder: home.registry, campaigns: campaigns, create: create, lockTimeout: lockTimeout, files: SystemFiles())
  }

  package static func open(folder: String, campaigns: CampaignBook, create: Bool, lockTimeout: Double, files: any FileLayer) throws(RegistryError) -> Registry {
    if !files.exists(folder + "/journal") {
      guard create else { throw .missing(path: folder) }
      try createRegistry(at: folder, files: files)
    }
    let journal = try Journal(path: folder + "/journal", files: files)
    return Registry(folder: folder, files: files, campaigns: campaigns, journal: journal, lockTimeout: lockTimeout)
  }

  /// Creates a complete registry in a temporary folder and renames it into place, so that a
  /// crash at any step leaves either no registry or a complete one.
  private static func createRegistry(at folder: String, files: any FileLayer) throws(RegistryError) {
    let parent = FileSystem.parentDirectory(of: folder)
    let staging = "\(folder).new-\(getpid())-\(UInt32.random(in: 0 ... .max))"
    do throws(SystemError) {
      try files.makeDirectory(staging)
      try files.makeDirectory(staging + "/index")
      let id = (0..<16).map { _ in UInt8.random(in: 0...255) }
      func write(_ name: String, _ bytes: [UInt8]) throws(SystemError) {
        let path = staging + "/" + name
        let file = try files.open(path, create: true)
        defer { files.close(file) }
        try files.write(file, bytes, at: 0, path: path)
        try files.sync(file, path: path)
      }
      try write("journal", Journal.header(id: id))
      let state = RegistryState(journalID: id, applied: Journal.headerSize, checkpoint: Journal.headerSize, boot: RegistryState.unknownBoot)
      try write("state", state.encoded())
      try write("blocks", BlockList(entries: [], covered: Journal.headerSize).render(journalID: id))
      try write("lock", [])
      try files.syncDirectory(staging + "/index")
      try files.syncDirectory(staging)
      do throws(SystemError) {
        try files.rename(staging, to: folder)
      } catch {
        // Another process created it first: use theirs.
        guard files.exists(folder + "/journal") else { throw error }
        removeStaging(staging, files: files)
        return
      }
      try files.syncDirectory(parent)
    } catch {
      removeStaging(staging, files: files)
      throw .io(error)
    }
  }

  private static func removeStaging(_ staging: String, files: any FileLayer) {
    for name in ["journal", "state", "blocks", "lock"] { try? files.remove(staging + "/" + name) }
    rmdir(staging + "/index")
    rmdir(staging)
  }

  // MARK: - Operations under the lock

  /// Runs `body` under the registry lock, after recovery.
  func locked<T>(writing: Bool, recovering: Bool = true, _ body: () throws(RegistryError) -> T) throws(RegistryError) -> T {
    let lock: FileLock
    do {
      lock = try FileLock(folder + "/lock", timeout: lockTimeout)
    } catch {
      switch error {
      case .busy(let path): throw .busy(path: path)
      case .io(let error): throw .io(error)
      }
    }
    defer { lock.unlock() }
    if writing, recovering, files.exists(fencePath) {
      let reason = (try? FileSystem.read(fencePath, limit: 4096).bytes).map { String(decoding: $0, as: UTF8.self) }
      throw .fenced(reason: (reason ?? "").split(separator: "\n").first.map(String.init) ?? "it was fenced")
    }
    if recovering { try recover(writing: writing) } else { try loadState() }
    return try body()
  }

  /// Recovery as `registry check` needs it: replays what a killed writer left unapplied, but
  /// leaves a torn tail for the report.
  func recoverForCheck() throws(RegistryError) { try recover(writing: false) }

  /// Reads the state and block list without replaying anything.
  func loadState() throws(RegistryError) {
    end = try journal.size()
    let bytes: [UInt8]
    do {
      let file = try files.open(statePath, create: false)
      defer { files.close(file) }
      bytes = try files.read(file, at: 0, count: RegistryState.size, path: statePath)
    } catch {
      throw .io(error)
    }
    if let stored = RegistryState.parse(bytes), stored.journalID == journal.id { state = stored }
    if let list = try? loadBlocks() { blocks = list }
  }

  /// Brings the index up to the journal's end.
  private func recover(writing: Bool) throws(RegistryError) {
    let size = try journal.size()
    let bytes: [UInt8]
    do {
      let file = try files.open(statePath, create: false)
      defer { files.close(file) }
      bytes = try files.read(file, at: 0, count: RegistryState.size, path: statePath)
    } catch {
      throw .io(error)
    }
    guard let stored = RegistryState.parse(bytes), stored.journalID == journal.id else {
      throw .damaged(path: statePath, offset: 0, reason: "the state file is not valid for this journal; run 'voucher registry rebuild'")
    }
    state = stored
    if state.boot != RegistryState.currentBoot { state.applied = state.checkpoint }
    blocks = try loadBlocks()
    guard state.applied <= size else {
      throw .damaged(path: journalPath, offset: size, reason: "the journal is shorter than its recorded length \(state.applied)")
    }
    end = size
    if state.applied < size {
      let scanEnd = try journal.scan(from: state.applied, to: size) { (offset, record, _) throws(RegistryError) in
        try apply(record, at: offset)
      }
      if case .tornTail(let at) = scanEnd {
        if writing {
          let side = try journal.cutTail(at: at, end: size, folder: folder, now: Int64(Date().timeIntervalSince1970))
          warnings.append("repaired a torn tail of the journal at byte offset \(at): \(size - at) bytes, kept in \(side)")
        } else {
          warnings.append("the journal has a torn tail at byte offset \(at) (\(size - at) bytes); the next write repairs it")
        }
        end = at
      }
      state.applied = end
      state.boot = RegistryState.currentBoot
      try writeState()
    }
  }

  /// Applies one journal record to the index; applying a record twice changes nothing.
  func apply(_ record: Record, at offset: Int64) throws(RegistryError) {
    switch record.body {
    case .block(let range, _), .unblock(let range, _):
      guard offset >= blocks.covered else { return }
      var blocked = true
      if case .unblock = record.body { blocked = false }
      blocks.entries.append(BlockList.Entry(blocked: blocked, offset: offset, range: range))
      blocks.covered = offset + 1
      try writeBlocks()
    default:
      guard let code = record.code, let campaign = campaigns.campaign(slot: code.slot, payload: Int(code.payload)) else {
        throw .damaged(path: journalPath, offset: offset, reason: "the record names a code of no campaign in this home")
      }
      let index = try index(for: campaign)
      var entry = try index.entry(payload: code.payload)
      guard entry.last < offset + 1 else { return }
      switch record.body {
      case .redeem(_, _, _, _, _, let usesAfter): entry.uses = usesAfter
      case .void: entry.uses = entry.uses > 0 ? entry.uses - 1 : 0
      case .claim: entry.flags |= CodeEntry.claimed
      case .block, .unblock: break
      }
      entry.last = offset + 1
      try index.write(entry, payload: code.payload)
    }
  }

  /// Appends one record, syncs it, applies it: the write path of every operation.
  ///
  /// A failed sync fences the registry and is reported; it is never retried.
  @discardableResult
  func append(_ record: Record) throws(RegistryError) -> Int64 {
    let offset = end
    let bytes = record.encoded()
    try journal.write(bytes, at: offset)
    do {
      try journal.sync()
    } catch {
      fence("a sync of the journal failed at \(ISO8601.format(Date())) (byte offset \(offset))")
      throw error
    }
    end = offset + Int64(bytes.count)
    try apply(record, at: offset)
    state.applied = end
    state.boot = RegistryState.currentBoot
    if end - state.checkpoint >= Self.checkpointInterval { try checkpoint() }
    try writeState()
    return offset
  }

  /// Refuses further writes until `registry check` passes (best effort: the disk may be failing).
  func fence(_ reason: String) {
    guard let file = try? files.open(fencePath, create: true) else { return }
    defer { files.close(file) }
    try? files.write(file, Array((reason + "\n").utf8), at: 0, path: fencePath)
    try? files.sync(file, path: fencePath)
    try? files.syncDirectory(folder)
  }

  /// Syncs every index file and the state, then records the checkpoint.
  func checkpoint() throws(RegistryError) {
    let names: [String]
    do {
      names = try FileSystem.list(indexFolder)
    } catch {
      throw .io(error)
    }
    for name in names where name.hasSuffix(".idx") {
      let path = indexFolder + "/" + name
      do {
        let file = try files.open(path, create: false)
        defer { files.close(file) }
        try files.sync(file, path: path)
      } catch {
        fence("a sync of \(path) failed")
        throw .syncFailed(path: path, code: error.code)
      }
    }
    state.checkpoint = state.applied
    try writeState(sync: true)
  }

  func writeState(sync: Bool = false) throws(RegistryError) {
    do {
      let file = try files.open(statePath, create: false)
      defer { files.close(file) }
      try files.write(file, state.encoded(), at: 0, path: statePath)
      if sync { try files.sync(file, path: statePath) }
    } catch {
      throw .io(error)
    }
  }

  private func loadBlocks() throws(RegistryError) -> BlockList {
    let bytes: [UInt8]
    do {
      bytes = try FileSystem.read(blocksPath, limit: 64 << 20).bytes
    } catch {
      throw .io(error)
    }
    return try BlockList.parse(bytes, journalID: journal.id, path: blocksPath)
  }

  /// Rewrites the block list atomically and durably (blocks are rare).
  func writeBlocks() throws(RegistryError) {
    do {
      let temporary = blocksPath + ".new"
      let file = try files.open(temporary, create: true)
      try files.truncate(file, to: 0, path: temporary)
      try files.write(file, blocks.render(journalID: journal.id), at: 0, path: temporary)
      try files.sync(file, path: temporary)
      files.close(file)
      try files.rename(temporary, to: blocksPath)
      try files.syncDirectory(folder)
    } catch {
      throw .io(error)
    }
  }

  /// The index of a campaign, opened (or created) once per registry object.
  func index(for campaign: Campaign) throws(RegistryError) -> CampaignIndex {
    if let index = indexes[campaign.id] { return index }
    let index = try CampaignIndex.open(folder: indexFolder, campaign: campaign, journalID: journal.id, files: files)
    indexes[campaign.id] = index
    return index
  }

  /// Forgets opened index files (after a rebuild replaced them).
  func dropIndexes() { indexes = [:] }
}
