import FoundationEssentials
import VoucherKit

#if canImport(Glibc)
  import Glibc
#endif

extension Registry {
  /// The warning about a torn tail left for the next write to repair.
  static func tornTailWarning(at offset: Int64) -> String {
    "the journal has a torn tail at byte offset \(offset); the next write repairs it"
  }

  /// Checks every record's checksum and chain, and the index, block list and state against the
  /// journal. Damage is reported with its file and offset, never repaired here; a sound registry
  /// that was fenced after a failed sync is unfenced.
  public func check() throws(RegistryError) -> CheckReport {
    try locked(writing: false, recovering: false) { () throws(RegistryError) -> CheckReport in
      var problems: [RegistryError] = []
      do throws(RegistryError) {
        try recoverForCheck()
      } catch {
        if case .damaged = error { problems.append(error) } else { throw error }
      }
      var expected: [CodeRef: CodeEntry] = [:]
      var expectedBlocks = BlockList(entries: [], covered: Journal.headerSize)
      var records = 0
      var torn: (Int64, Int64)?
      do throws(RegistryError) {
        let scanEnd = try journal.scan(from: Journal.headerSize) {
          (offset, record, _) throws(RegistryError) in
          records += 1
          switch record.body {
          case .block(let range, _), .unblock(let range, _):
            var blocked = true
            if case .unblock = record.body { blocked = false }
            expectedBlocks.entries.append(
              BlockList.Entry(blocked: blocked, offset: offset, range: range))
            expectedBlocks.covered = offset + 1
          default:
            guard let code = record.code,
              campaigns.campaign(slot: code.slot, payload: Int(code.payload)) != nil
            else {
              throw .damaged(
                path: journalPath, offset: offset,
                reason: "the record names a code of no campaign in this home")
            }
            let entry = expected[code] ?? CodeEntry()
            guard record.previous == entry.last else {
              throw .damaged(
                path: journalPath, offset: offset,
                reason: "the record's link to the code's previous event is wrong")
            }
            switch record.body {
            case .redeem(_, _, _, _, _, let usesAfter):
              guard entry.uses < 255, usesAfter == entry.uses + 1 else {
                throw .damaged(
                  path: journalPath, offset: offset,
                  reason: "the record's use count does not follow the code's history")
              }
            case .void(let voided, _, _):
              guard voided >= Journal.headerSize, voided < offset, entry.uses > 0 else {
                throw .damaged(
                  path: journalPath, offset: offset,
                  reason: "the void names no live redemption of its code")
              }
            default: break
            }
            expected[code] = entry.applying(record.body, at: offset)
          }
        }
        let dataEnd: Int64
        switch scanEnd {
        case .clean(let at): dataEnd = at
        case .tornTail(let at): dataEnd = at
        }
        let stray = try journal.endOfNonZero(after: dataEnd)
        if stray > dataEnd { torn = (dataEnd, stray - dataEnd) }
        if dataEnd < state.applied {
          throw .damaged(
            path: journalPath, offset: dataEnd,
            reason: "the journal's data ends before its recorded length \(state.applied)")
        }
      } catch {
        if case .damaged = error { problems.append(error) } else { throw error }
      }
      if problems.isEmpty {
        problems += try compareIndexes(expected)
        if expectedBlocks.entries != blocks.entries {
          problems.append(
            RegistryError.damaged(
              path: blocksPath, offset: 0, reason: "it does not match the journal's block records")
          )
        }
      }
      if problems.isEmpty && files.exists(fencePath) {
        // Whichever sync failed, everything is synced again before writes resume: the journal,
        // the index files and their folder, the state, this folder and its parent.
        try journal.sync()
        try checkpoint()
        do throws(SystemError) {
          try files.syncDirectory(folder)
          try files.syncDirectory(FileSystem.parentDirectory(of: folder))
          try files.remove(fencePath)
          try files.syncDirectory(folder)
        } catch {
          throw .io(error)
        }
      }
      // The report names a torn tail itself (with its length): the recovery's warning about the
      // same tail would say it twice.
      if let torn { warnings.removeAll { $0 == Self.tornTailWarning(at: torn.0) } }
      return CheckReport(
        records: records, codes: expected.count, damage: problems,
        tornTail: torn.map { (offset: $0.0, bytes: $0.1) })
    }
  }

  /// Compares every index file with the entries the journal implies.
  private func compareIndexes(_ expected: [CodeRef: CodeEntry]) throws(RegistryError) -> [RegistryError] {
    var problems: [RegistryError] = []
    var byCampaign: [CampaignID: [UInt32: CodeEntry]] = [:]
    for (code, entry) in expected {
      let campaign = campaigns.campaign(slot: code.slot, payload: Int(code.payload))!
      byCampaign[campaign.id, default: [:]][code.payload] = entry
    }
    for campaign in campaigns.campaigns {
      let path = "\(indexFolder)/\(campaign.id).idx"
      let wanted = byCampaign[campaign.id] ?? [:]
      guard files.exists(path) else {
        if !wanted.isEmpty {
          problems.append(.damaged(path: path, offset: 0, reason: "the index file is missing"))
        }
        continue
      }
      let index = try self.index(for: campaign)
      // Read in chunks, never through the mapping: holes stay holes (on tmpfs, touching one
      // through a mapping allocates it, and on a full one that is a SIGBUS).
      try index.forEachEntry { payload, entry, bit in
        let expected = wanted[payload] ?? CodeEntry()
        if entry != expected || bit != (expected != CodeEntry()) {
          problems.append(
            .damaged(
              path: path, offset: CampaignIndex.entryOffset(campaign, payload: Int(payload)),
              reason: "the entry does not match the journal"))
        }
        return problems.count < 20
      }
      if problems.count >= 20 { return problems }
    }
    return problems
  }

  /// Rebuilds the index and the block list from the journal. Refuses a damaged journal; cuts a
  /// torn tail (keeping the bytes in a side file).
  ///
  /// - Returns: How many records were replayed.
  @discardableResult
  public func rebuild() throws(RegistryError) -> Int {
    try locked(writing: true, recovering: false) { () throws(RegistryError) -> Int in
      // An erasure a crash interrupted is completed first: its half-rewritten frame is neither
      // a torn tail to cut nor damage.
      try applyPatchLog()
      // Then make sure the whole journal is sound.
      var records = 0
      switch try journal.scan(
        from: Journal.headerSize, { (_, _, _) throws(RegistryError) in records += 1 })
      {
      case .clean(let at): end = at
      case .tornTail(let at): end = at
      }
      if try journal.endOfNonZero(after: end) > end {
        let (side, count) = try journal.clearTail(
          at: end, folder: folder, now: Int64(clock().timeIntervalSince1970))
        warnings.append(
          "repaired a torn tail of the journal at byte offset \(end): \(count) bytes, kept in \(side)"
        )
      }
      // Build the new index beside the old one, complete and synced, then swap the folders in
      // one step: a rebuild that fails (a full disk) leaves the registry as it was.
      let staging = "index.rebuild-\(getpid())"
      removeFolder(folder + "/" + staging)
      do throws(SystemError) {
        try files.makeDirectory(folder + "/" + staging)
      } catch {
        throw .io(error)
      }
      let (oldBlocks, oldState) = (blocks, state)
      dropIndexes()
      indexFolderName = staging
      deferBlockWrites = true
      blocks = BlockList(entries: [], covered: Journal.headerSize)
      do throws(RegistryError) {
        _ = try journal.scan(
          from: Journal.headerSize,
          { (offset, record, _) throws(RegistryError) in try apply(record, at: offset) })
        try syncIndexFiles()
        deferBlockWrites = false
        try writeBlocks()
      } catch {
        dropIndexes()
        indexFolderName = "index"
        deferBlockWrites = false
        (blocks, state) = (oldBlocks, oldState)
        removeFolder(folder + "/" + staging)
        throw error
      }
      dropIndexes()
      indexFolderName = "index"
      // Processes still mapping an old index file see it marked and open the new one.
      for campaign in campaigns.campaigns {
        // Opened directly: this runs under the lock, which existingIndex(for:) would take again.
        let index = try? CampaignIndex.open(
          folder: indexFolder, campaign: campaign, journalID: journal.id, files: files,
          create: false)
        index?.markReplaced()
      }
      let old = "\(indexFolder).old-\(Int64(clock().timeIntervalSince1970))-\(getpid())"
      do throws(SystemError) {
        do throws(SystemError) {
          try files.exchange(folder + "/" + staging, indexFolder)
          try files.rename(folder + "/" + staging, to: old)
        } catch where error.code == EINVAL || error.code == ENOSYS {
          // No atomic exchange here: a crash between these renames leaves no index folder,
          // which the next recovery treats as an index to rebuild from the whole journal.
          try files.rename(indexFolder, to: old)
          try files.rename(folder + "/" + staging, to: indexFolder)
        }
      } catch {
        throw .io(error)
      }
      // The old index is set aside: removed whatever happens next.
      defer { removeFolder(old) }
      do throws(SystemError) {
        try files.syncDirectory(folder)
      } catch {
        throw .syncFailed(path: folder, code: error.code)
      }
      state = RegistryState(
        journalID: journal.id, applied: end, checkpoint: end, boot: boot)
      try writeState(sync: true)
      if files.exists(fencePath) { try? files.remove(fencePath) }
      return records
    }
  }

  private func removeFolder(_ path: String) {
    for name in (try? files.list(path)) ?? [] { try? files.remove(path + "/" + name) }
    try? files.removeFolder(path)
  }
}
