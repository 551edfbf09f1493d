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
  /// The clock: the time of fences, side files and lock deadlines (tests set it).
  let clock: @Sendable () -> Date
  /// The running kernel's boot id, asked of the file layer once.
  let boot: [UInt8]
  private var indexes: [CampaignID: CampaignIndex] = [:]
  /// The journal's end after the current operation's recovery.
  var end: Int64 = 0
  var state: RegistryState
  var blocks = BlockList()
  /// The block file's identity when `blocks` was read: it is read again only when it changed.
  private var blocksStamp: (inode: UInt64, size: Int64, modified: Int64)?
  /// Whether this process has brought the index up to the journal since the machine booted;
  /// after that, lock-free reads see every acknowledged write.
  private var recovered = false
  /// Per-profile counts for campaigns with limits, derived from the journal (see ProfileTally).
  var tally = ProfileTally(from: Journal.headerSize)
  /// Things worth telling the user that are not errors (a repaired torn tail).
  public internal(set) var warnings: [String] = []

  /// The warnings so far, which are then forgotten (for a long-running process).
  public func takeWarnings() -> [String] {
    defer { warnings = [] }
    return warnings
  }

  /// Records between checkpoints: the index files are synced this often (in journal bytes).
  static let checkpointInterval: Int64 = 1 << 20

  var journalPath: String { folder + "/journal" }
  var statePath: String { folder + "/state" }
  var blocksPath: String { folder + "/blocks" }
  var indexFolder: String { folder + "/" + indexFolderName }
  /// The index folder's name: `index`, or a rebuild's staging folder while it fills one.
  var indexFolderName = "index"
  /// Set while a rebuild replays into a staging folder: block records are collected, and the
  /// block list is written once, when the new index is complete.
  var deferBlockWrites = false
  var fencePath: String { folder + "/FENCED" }

  /// The lock file, open for the registry object's life; `flock` on it per operation.
  private let lockFile: FileDescriptor
  /// The state file, mapped: reading and writing it costs no system call.
  private let stateFile: FileDescriptor
  private let stateMapping: UnsafeMutableRawPointer

  private init(
    folder: String, files: any FileLayer, campaigns: CampaignBook, journal: Journal,
    lockTimeout: Double, clock: @escaping @Sendable () -> Date
  ) throws(RegistryError) {
    self.folder = folder
    self.files = files
    self.campaigns = campaigns
    self.journal = journal
    self.lockTimeout = lockTimeout
    self.clock = clock
    boot = files.bootID()
    state = RegistryState(
      journalID: journal.id, applied: Journal.headerSize, checkpoint: Journal.headerSize,
      boot: RegistryState.unknownBoot)
    let statePath = folder + "/state"
    do {
      lockFile = try files.open(folder + "/lock", create: true)
    } catch {
      throw .io(error)
    }
    do {
      stateFile = try files.open(statePath, create: false)
    } catch {
      files.close(lockFile)
      throw .io(error)
    }
    do {
      guard try files.size(stateFile, path: statePath) == Int64(RegistryState.size) else {
        throw RegistryError.damaged(
          path: statePath, offset: 0,
          reason: "the state file has the wrong size")
      }
      stateMapping = try files.map(stateFile, length: RegistryState.size, path: statePath)
    } catch let error as RegistryError {
      files.close(lockFile)
      files.close(stateFile)
      throw error
    } catch {
      files.close(lockFile)
      files.close(stateFile)
      throw .io(error as? SystemError ?? SystemError("map", statePath, code: 5))
    }
  }

  deinit {
    files.unmap(stateMapping, length: RegistryState.size)
    files.close(stateFile)
    files.close(lockFile)
  }

  /// The state file's bytes.
  private func readStateBytes() -> [UInt8] {
    [UInt8](UnsafeRawBufferPointer(start: stateMapping, count: RegistryState.size))
  }

  /// Whether a home has a registry.
  public static func exists(in home: VoucherHome) -> Bool {
    FileSystem.exists(home.registry + "/journal")
  }

  /// Opens a home's registry.
  ///
  /// A registry is created implicitly only in a home that has never issued a code (the first
  /// `issue` does it). Once codes are out, a missing or empty registry folder is a disk that did
  /// not mount or a restore gone wrong: it is refused, never silently made anew, and only
  /// ``create(home:)`` starts an empty one.
  ///
  /// - Parameters:
  ///   - home: The home folder.
  ///   - campaigns: The home's campaigns, which say which campaign each code belongs to.
  ///   - create: Whether to create the registry when it is missing and the home has issued no
  ///     code yet (write commands do).
  ///   - lockTimeout: Seconds to wait for another process's lock before answering busy.
  /// - Throws: ``RegistryError/vanished(path:)`` when the registry is missing in a home that has
  ///   issued codes; ``RegistryError/missing(path:)`` without a registry and without `create`.
  public static func open(
    home: VoucherHome, campaigns: CampaignBook, create: Bool, lockTimeout: Double = 10
  ) throws(RegistryError) -> Registry {
    if !exists(in: home) && home.hasIssuedCodes { throw .vanished(path: home.registry) }
    return try open(
      folder: home.registry, campaigns: campaigns, create: create, lockTimeout: lockTimeout,
      files: SystemFiles())
  }

  /// Opens a home's registry if it has one, for readers: `nil` in a home that never issued a code
  /// and has no registry (codes are then checked by their signature alone).
  ///
  /// - Throws: ``RegistryError/vanished(path:)`` when the registry is missing in a home that has
  ///   issued codes: answering without it could call a redeemed code valid.
  public static func openIfPresent(
    home: VoucherHome, campaigns: CampaignBook, lockTimeout: Double = 10
  ) throws(RegistryError) -> Registry? {
    if !exists(in: home) {
      if home.hasIssuedCodes { throw .vanished(path: home.registry) }
      return nil
    }
    return try open(home: home, campaigns: campaigns, create: false, lockTimeout: lockTimeout)
  }

  /// Creates an empty registry in a home on purpose (`voucher registry init`), also where codes
  /// were issued before, for example to start again after a registry was lost for good.
  ///
  /// - Throws: ``RegistryError/alreadyExists(path:)`` when the home has a registry.
  public static func create(home: VoucherHome) throws(RegistryError) {
    let files = SystemFiles()
    if files.exists(home.registry + "/journal") { throw .alreadyExists(path: home.registry) }
    try createRegistry(at: home.registry, files: files, now: Date())
  }

  package static func open(
    folder: String, campaigns: CampaignBook, create: Bool, lockTimeout: Double, files: any FileLayer,
    clock: @escaping @Sendable () -> Date = { Date() }
  ) throws(RegistryError) -> Registry {
    if !files.exists(folder + "/journal") {
      guard create else { throw .missing(path: folder) }
      try createRegistry(at: folder, files: files, now: clock())
    }
    let journal = try Journal(path: folder + "/journal", files: files)
    return try Registry(
      folder: folder, files: files, campaigns: campaigns, journal: journal,
      lockTimeout: lockTimeout, clock: clock)
  }

  /// Creates a complete registry in a temporary folder and renames it into place, so that a
  /// crash at any step leaves either no registry or a complete one.
  private static func createRegistry(at link: String, files: any FileLayer, now: Date)
    throws(RegistryError)
  {
    // A registry folder that is a symbolic link (to another disk) is created where it points:
    // the staging folder must be on that file system, and renaming over the link would fail.
    let folder =
      (try? files.status(link))??.isSymbolicLink == true ? files.resolveLink(link) ?? link : link
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
      let state = RegistryState(
        journalID: id, applied: Journal.headerSize, checkpoint: Journal.headerSize,
        boot: RegistryState.unknownBoot)
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
      do throws(SystemError) {
        try files.syncDirectory(parent)
      } catch {
        // The registry exists but its name may not survive a power loss: fenced until a check
        // has synced its folder's parent.
        fence(
          folder: folder, files: files,
          reason: "a sync of \(parent) failed at \(ISO8601.format(now))")
        throw error
      }
    } catch {
      removeStaging(staging, files: files)
      throw .io(error)
    }
  }

  private static func removeStaging(_ staging: String, files: any FileLayer) {
    for name in ["journal", "state", "blocks", "lock"] { try? files.remove(staging + "/" + name) }
    try? files.removeFolder(staging + "/index")
    try? files.removeFolder(staging)
  }

  // MARK: - Operations under the lock

  /// Runs `body` under the registry lock, after recovery.
  func locked<T>(writing: Bool, recovering: Bool = true, _ body: () throws(RegistryError) -> T)
    throws(RegistryError) -> T
  {
    try lock()
    defer { files.unlock(lockFile) }
    if writing, recovering, files.exists(fencePath) {
      let reason = (try? files.readFile(fencePath, limit: 4096)).map {
        String(decoding: $0, as: UTF8.self)
      }
      throw .fenced(
        reason: (reason ?? "").split(separator: "\n").first.map(String.init) ?? "it was fenced")
    }
    do throws(RegistryError) {
      // Readers repair a torn tail too (once, under the lock), unless writes are fenced: else
      // every reader would replay and warn until the next write.
      if recovering {
        try recover(repairTail: writing || !files.exists(fencePath))
      } else {
        try loadState()
      }
      return try body()
    } catch {
      // Whatever file or folder it was, a failed sync is fatal: the kernel may have dropped the
      // dirty pages, so a later sync could succeed without them.
      if let path = error.failedSyncPath, !files.exists(fencePath) {
        fence("a sync of \(path) failed at \(ISO8601.format(clock()))")
      }
      throw error
    }
  }

  /// Takes the lock, waiting up to the timeout. The kernel drops an `flock` when its holder dies,
  /// so a killed holder never blocks anyone; a stopped one makes this answer busy.
  private func lock() throws(RegistryError) {
    let path = folder + "/lock"
    func tryLock() throws(RegistryError) -> Bool {
      do {
        return try files.tryLock(lockFile, path: path)
      } catch {
        throw .io(error)
      }
    }
    if try tryLock() { return }
    let deadline = clock().addingTimeInterval(lockTimeout)
    var pause: UInt32 = 100
    while true {
      if try tryLock() { return }
      if clock() >= deadline { throw .busy(path: path) }
      usleep(pause)
      pause = min(pause * 2, 20_000)
    }
  }

  /// Recovery as `registry check` needs it: replays what a killed writer left unapplied, but
  /// leaves a torn tail for the report.
  func recoverForCheck() throws(RegistryError) { try recover(repairTail: false) }

  /// Reads the state and block list without replaying anything.
  func loadState() throws(RegistryError) {
    let bytes = readStateBytes()
    if let stored = RegistryState.parse(bytes), stored.journalID == journal.id { state = stored }
    end = state.applied
    if let list = try? loadBlocks() { blocks = list }
  }

  /// Brings the index up to the journal's end.
  private func recover(repairTail: Bool) throws(RegistryError) {
    let bytes = readStateBytes()
    guard let stored = RegistryState.parse(bytes), stored.journalID == journal.id else {
      throw .damaged(
        path: statePath, offset: 0,
        reason: "the state file is not valid for this journal")
    }
    state = stored
    // An erasure interrupted by a crash is completed before anything reads the journal.
    try applyPatchLog()
    // Only what was synced is trusted by a process that has not yet brought the index up to the
    // journal itself: the records after the checkpoint are applied again (applying is
    // idempotent, and costs a read of at most a checkpoint interval of journal). Unsynced index
    // pages can be lost while a newer `state` survives without the machine restarting (a
    // writeback error, a FUSE or network file system restarting, a VM restored), and an index
    // behind the journal must never answer for a code. Without a readable boot id, every
    // recovery must assume the machine restarted.
    let rebooted =
      state.boot != boot || boot == RegistryState.unknownBoot
    var restarted = rebooted || !recovered
    if restarted { state.applied = state.checkpoint }
    // No index folder (a rebuild that could not swap folders atomically was cut short between
    // its two renames, or the folder was removed): every record is applied again.
    if !files.exists(indexFolder) {
      do {
        try files.makeDirectory(indexFolder)
        try files.syncDirectory(folder)
      } catch {
        throw .io(error)
      }
      dropIndexes()
      state.checkpoint = Journal.headerSize
      state.applied = Journal.headerSize
      restarted = true
    }
    try reloadBlocksIfChanged()
    var known = state.applied
    var unrepaired = false
    // Records past `applied` were written by a process that died before it answered: they may
    // not be on disk yet. Find the end first, make those records durable, and only then apply
    // them, so that no answer (a replayed receipt, a used-up) rests on bytes only the page cache
    // holds. (Records below the stored `applied` were synced before they were answered.)
    var unsynced = false
    func scanToEnd() throws(RegistryError) -> Journal.ScanEnd {
      let scanEnd = try journal.scan(
        from: known,
        { (offset, _, _) throws(RegistryError) in if offset >= stored.applied { unsynced = true } })
      switch scanEnd {
      case .clean(let dataEnd): end = dataEnd
      case .tornTail(let at): end = at
      }
      if end < stored.applied {
        throw .damaged(
          path: journalPath, offset: end,
          reason: "the data ends before the length \(stored.applied) recorded before the restart")
      }
      return scanEnd
    }
    var scanEnd: Journal.ScanEnd
    do throws(RegistryError) {
      scanEnd = try scanToEnd()
    } catch {
      // Damage between the checkpoint and `applied`, on the same boot: the index reached the
      // page cache for those records, so trust it as far as `applied` (as every reader did
      // before it checked from the checkpoint) and let each operation meet the damage in its
      // own code's chain, rather than refuse every code. After a reboot nothing is trusted.
      guard case .damaged(_, let offset, _) = error, !rebooted, known < stored.applied else {
        throw error
      }
      warnings.append(
        "the journal is damaged at byte offset \(offset), after the last checkpoint; check the registry"
      )
      restarted = false
      known = stored.applied
      state.applied = stored.applied
      scanEnd = try scanToEnd()
    }
    if unsynced {
      do {
        try journal.sync()
      } catch {
        fence("a sync of the journal failed during recovery at \(ISO8601.format(clock()))")
        throw error
      }
    }
    if end > known {
      _ = try journal.scan(
        from: known,
        { (offset, record, _) throws(RegistryError) in
          if offset < end { try apply(record, at: offset) }
        })
    }
    if case .tornTail(let at) = scanEnd {
      unrepaired = !(try handleTail(at: at, repair: repairTail))
    }
    // After a restart, a write that was never acknowledged may have reached the disk in part,
    // and not only at its start (sectors persist out of order): clear the stray bytes after the
    // data. A valid record among them below the length recorded before the restart was
    // acknowledged, though: that is damage to report, never to clear.
    if restarted, case .clean = scanEnd, try journal.endOfNonZero(after: end) > end {
      if let next = try journal.findValidRecord(after: end, end: try journal.fileSize()),
        next < stored.applied
      {
        throw .damaged(
          path: journalPath, offset: end,
          reason: "the data stops here but an acknowledged record follows at \(next)")
      }
      unrepaired = !(try handleTail(at: end, repair: repairTail))
    }
    if end != known || restarted {
      state.applied = end
      // A reader leaves a tail for the next writer: keeping the old boot id makes it look again.
      if !unrepaired { state.boot = boot }
      try writeState()
    }
    recovered = true
  }

  /// Clears (with `repair`) or reports a torn tail; answers whether it was cleared.
  ///
  /// A reader's repair that cannot write (a read-only mount, say) leaves the tail for the next
  /// writer; a failed sync is thrown, and fences, as for any write.
  private func handleTail(at offset: Int64, repair: Bool) throws(RegistryError) -> Bool {
    if repair {
      do {
        let (side, count) = try journal.clearTail(
          at: offset, folder: folder, now: Int64(clock().timeIntervalSince1970))
        warnings.append(
          "repaired a torn tail of the journal at byte offset \(offset): \(count) bytes, kept in \(side)"
        )
        return true
      } catch {
        if error.failedSyncPath != nil { throw error }
      }
    }
    warnings.append(Self.tornTailWarning(at: offset))
    return false
  }

  /// Whether this process has recovered the registry since the machine booted.
  var isRecovered: Bool { recovered }

  /// Reads the block list again if it changed (for lock-free readers).
  func refreshBlocks() throws(RegistryError) { try reloadBlocksIfChanged() }

  /// Reads the block list again if its file was replaced since it was read.
  private func reloadBlocksIfChanged() throws(RegistryError) {
    let status: FileStatus?
    do {
      status = try files.status(blocksPath)
    } catch {
      throw .io(error)
    }
    guard let status else { throw .io(SystemError("inspect", blocksPath, code: ENOENT)) }
    let stamp = (inode: status.inode, size: status.size, modified: status.modified)
    if let known = blocksStamp, known == stamp { return }
    blocks = try loadBlocks()
    blocksStamp = stamp
  }

  /// Live uses of a code, read without the lock: one `pread` of its index entry, whatever the
  /// registry's size.
  ///
  /// A redemption is acknowledged only after its index entry is written, so a lock-free read sees
  /// every acknowledged redemption, once this process has brought the index up to the journal
  /// (done here on first use, under the lock). It may miss one still in flight.
  public func uses(of voucher: Voucher) throws(RegistryError) -> Int {
    if !recovered { try locked(writing: false) {} }
    let payload = voucher.campaign.payload(channel: voucher.channelIndex, serial: voucher.serial)
    return Int(try existingIndex(for: voucher.campaign)?.entry(payload: payload).uses ?? 0)
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
      if !deferBlockWrites { try writeBlocks() }
    default:
      guard let code = record.code,
        let campaign = campaigns.campaign(slot: code.slot, payload: Int(code.payload))
      else {
        throw .damaged(
          path: journalPath, offset: offset,
          reason: "the record names a code of no campaign in this home")
      }
      let index = try index(for: campaign)
      let entry = try index.entry(payload: code.payload)
      guard entry.last < offset + 1 else {
        // Applied before, and the entry reached the disk; its bit may not have (another page).
        // The common case of a replay: read only, so nothing is allocated or mapped for it.
        if !(try index.hasEvents(payload: code.payload)) {
          try index.reserve(payload: code.payload)
          index.markEvents(payload: code.payload)
        }
        return
      }
      try index.reserve(payload: code.payload)
      index.write(entry.applying(record.body, at: offset), payload: code.payload)
    }
  }

  /// After a failed sync: zeroes the records that were not made durable, so that no reader
  /// applies them from the page cache (they were never acknowledged), and fences the registry.
  func discardUnsynced(at offset: Int64, count: Int) {
    try? journal.write([UInt8](repeating: 0, count: count), at: offset)
    fence("a sync of the journal failed at \(ISO8601.format(clock())) (byte offset \(offset))")
  }

  /// Refuses further writes until `registry check` passes (best effort: the disk may be failing).
  func fence(_ reason: String) { Self.fence(folder: folder, files: files, reason: reason) }

  /// Writes `FENCED` in a registry folder (best effort).
  static func fence(folder: String, files: any FileLayer, reason: String) {
    let path = folder + "/FENCED"
    guard let file = try? files.open(path, create: true) else { return }
    defer { files.close(file) }
    try? files.write(file, Array((reason + "\n").utf8), at: 0, path: path)
    try? files.sync(file, path: path)
    try? files.syncDirectory(folder)
  }

  /// Syncs every index file, the index folder and the state, then records the checkpoint. A
  /// failed sync fences the registry.
  func checkpoint() throws(RegistryError) {
    do throws(RegistryError) {
      try syncIndexesAndState()
    } catch {
      if let path = error.failedSyncPath, !files.exists(fencePath) {
        fence("a sync of \(path) failed at \(ISO8601.format(clock()))")
      }
      throw error
    }
  }

  private func syncIndexesAndState() throws(RegistryError) {
    try syncIndexFiles()
    state.checkpoint = state.applied
    try writeState(sync: true)
  }

  /// Syncs every index file and the index folder.
  func syncIndexFiles() throws(RegistryError) {
    let names: [String]
    do {
      names = try files.list(indexFolder)
    } catch {
      throw .io(error)
    }
    for name in names where name.hasSuffix(".idx") {
      let path = indexFolder + "/" + name
      let file: FileDescriptor
      do {
        file = try files.open(path, create: false)
      } catch {
        throw .io(error)
      }
      defer { files.close(file) }
      do {
        try files.sync(file, path: path)
      } catch {
        throw .syncFailed(path: path, code: error.code)
      }
    }
    // An index linked into place whose folder sync failed is made durable here at the latest:
    // the checkpoint must never cover records whose index file could vanish with a power loss.
    do {
      try files.syncDirectory(indexFolder)
    } catch {
      throw .syncFailed(path: indexFolder, code: error.code)
    }
  }

  func writeState(sync: Bool = false) throws(RegistryError) {
    state.encoded().withUnsafeBytes {
      stateMapping.copyMemory(from: $0.baseAddress!, byteCount: RegistryState.size)
    }
    guard sync else { return }
    do {
      try files.sync(stateFile, path: statePath)
    } catch {
      throw .syncFailed(path: statePath, code: error.code)
    }
  }

  private func loadBlocks() throws(RegistryError) -> BlockList {
    let bytes: [UInt8]
    do {
      bytes = try files.readFile(blocksPath, limit: 64 << 20)
    } catch {
      throw .io(error)
    }
    return try BlockList.parse(bytes, journalID: journal.id, path: blocksPath)
  }

  /// Rewrites the block list atomically and durably (blocks are rare).
  func writeBlocks() throws(RegistryError) {
    blocksStamp = nil
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

  /// The index of a campaign, opened (or created: the caller holds the lock) once per registry
  /// object, and again after a rebuild marked it replaced.
  func index(for campaign: Campaign) throws(RegistryError) -> CampaignIndex {
    if let index = indexes[campaign.id], !index.isReplaced { return index }
    guard
      let index = try CampaignIndex.open(
        folder: indexFolder, campaign: campaign, journalID: journal.id, files: files, create: true)
    else { throw .io(SystemError("create", "\(indexFolder)/\(campaign.id).idx", code: ENOENT)) }
    indexes[campaign.id] = index
    return index
  }

  /// The index of a campaign if it exists, never creating it: for lock-free readers only (it
  /// may take the lock, so it must not be called under it).
  func existingIndex(for campaign: Campaign) throws(RegistryError) -> CampaignIndex? {
    if let index = indexes[campaign.id], !index.isReplaced { return index }
    // No index, or one a rebuild replaced: take the lock once, which waits out a rebuild in
    // progress, before reading the new one.
    indexes[campaign.id] = nil
    try locked(writing: false) {}
    let index = try CampaignIndex.open(
      folder: indexFolder, campaign: campaign, journalID: journal.id, files: files, create: false)
    indexes[campaign.id] = index
    return index
  }

  /// Forgets opened index files (after a rebuild replaced them).
  func dropIndexes() { indexes = [:] }
}

extension Registry: RegistryStore {}
