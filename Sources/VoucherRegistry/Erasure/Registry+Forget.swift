import FoundationEssentials
import VoucherKit

/// What `forget` erased.
public struct ForgetReport: Sendable, Hashable {
  /// Redemption records whose profile was erased.
  public let redemptions: Int
  /// Claim records whose profile was erased.
  public let claims: Int
  /// Side files (`torn-*.bin`, bytes cut from a torn journal tail) in which the id was zeroed.
  public let sideFiles: Int

  /// Events touched.
  public var events: Int { redemptions + claims }

  public init(redemptions: Int, claims: Int, sideFiles: Int) {
    self.redemptions = redemptions
    self.claims = claims
    self.sideFiles = sideFiles
  }
}

extension Registry {
  var patchLogPath: String { folder + "/" + PatchLog.name }

  /// Erases a customer profile id from the registry, on the customer's request.
  ///
  /// Every redemption and claim that names the profile keeps its place, time, code, store, use
  /// count and request id; only the profile's bytes are overwritten with zeros, and the record's
  /// checksum is recomputed. Records keep their length, so every offset, chain and index entry
  /// stays as it was, and counts, limits and `registry check` are unchanged. A code claimed by
  /// the profile stays claimed (by nobody who can be named), so nobody else can claim it.
  ///
  /// Crash-safe: the rewrites are first written to an intent log and synced; a crash before that
  /// leaves the old state, a crash after it is completed by the next open.
  ///
  /// - Returns: How many events were touched; zero when the profile appears nowhere.
  public func forget(profile: ProfileID) throws(RegistryError) -> ForgetReport {
    try locked(writing: true) { () throws(RegistryError) -> ForgetReport in
      let needle = Array(profile.rawValue.utf8)
      let erased = String(decoding: [UInt8](repeating: 0, count: needle.count), as: UTF8.self)
      var patches: [PatchLog.Patch] = []
      var redemptions = 0
      var claims = 0
      // Rewritten records by frame (-1: a version 1 journal, whose records stand alone).
      var rewritten: [(frame: Int64, offset: Int64, bytes: [UInt8])] = []
      do {
        try scanRecords(to: end, rereadUnderLock: false) { raw, offset, frame in
          guard raw.type == 1 || raw.type == 3, raw.profile.elementsEqual(needle) else { return }
          let bytes = Array(UnsafeRawBufferPointer(start: raw.base, count: raw.length))
          guard case .record(let record, _) = Record.decode(bytes[...]) else { return }
          let body: Record.Body
          switch record.body {
          case .redeem(let venue, let store, let terminal, _, let request, let usesAfter):
            body = .redeem(
              venue: venue, store: store, terminal: terminal, profile: erased, request: request,
              usesAfter: usesAfter)
            redemptions += 1
          case .claim(_, let prize):
            body = .claim(profile: erased, prize: prize)
            claims += 1
          default:
            return
          }
          let new = Record(
            time: record.time, code: record.code, previous: record.previous, body: body
          ).encoded()
          precondition(new.count == bytes.count, "an erased record keeps its length")
          rewritten.append((frame, offset, new))
        }
      } catch let error as RegistryError {
        throw error
      } catch {
        throw .io(SystemError("read", journalPath, code: 5))
      }
      patches += try journalPatches(rewritten)
      // Bytes cut from a torn tail are kept aside; they may hold the id too.
      var sideFiles = 0
      for name in ((try? files.list(folder)) ?? []).sorted()
      where name.hasPrefix("torn-") && name.hasSuffix(".bin") {
        let bytes: [UInt8]
        do throws(SystemError) {
          bytes = try files.readFile(folder + "/" + name, limit: 1 << 30)
        } catch {
          throw .io(error)
        }
        let hits = occurrences(of: needle, in: bytes)
        guard !hits.isEmpty else { continue }
        sideFiles += 1
        for hit in hits {
          patches.append(
            PatchLog.Patch(
              file: name, offset: Int64(hit), bytes: [UInt8](repeating: 0, count: needle.count)))
        }
      }
      if !patches.isEmpty {
        try writePatchLog(PatchLog(patches: patches))
        try applyPatchLog()
      }
      return ForgetReport(redemptions: redemptions, claims: claims, sideFiles: sideFiles)
    }
  }

  /// The journal patches for rewritten records: each record on its own in a version 1 journal;
  /// in a version 2 journal, each frame holding one, whole, with its checksum recomputed.
  private func journalPatches(_ rewritten: [(frame: Int64, offset: Int64, bytes: [UInt8])])
    throws(RegistryError) -> [PatchLog.Patch]
  {
    var patches: [PatchLog.Patch] = []
    var index = 0
    while index < rewritten.count {
      let frame = rewritten[index].frame
      guard frame >= 0 else {
        patches.append(
          PatchLog.Patch(
            file: "journal", offset: rewritten[index].offset, bytes: rewritten[index].bytes))
        index += 1
        continue
      }
      var header: [UInt8]
      do {
        header = try files.read(
          journal.file, at: frame, count: Journal.frameHeaderSize, path: journalPath)
      } catch {
        throw .io(error)
      }
      var reader = ByteReader(header[4...])
      let length = Int(reader.u32())
      var body: [UInt8]
      do {
        body = try files.read(
          journal.file, at: frame + Int64(Journal.frameHeaderSize), count: length, path: journalPath
        )
      } catch {
        throw .io(error)
      }
      guard body.count == length else {
        throw .damaged(path: journalPath, offset: frame, reason: "a commit's frame is cut short")
      }
      while index < rewritten.count && rewritten[index].frame == frame {
        let at = Int(rewritten[index].offset - frame) - Journal.frameHeaderSize
        body.replaceSubrange(at..<(at + rewritten[index].bytes.count), with: rewritten[index].bytes)
        index += 1
      }
      var crc = ByteWriter()
      crc.u32(Checksum.crc32c(header[4..<8] + body))
      header.replaceSubrange(8..<12, with: crc.bytes)
      patches.append(PatchLog.Patch(file: "journal", offset: frame, bytes: header + body))
    }
    return patches
  }

  /// Writes the intent log whole: a temporary file, synced, renamed into place, folder synced.
  private func writePatchLog(_ log: PatchLog) throws(RegistryError) {
    let temporary = patchLogPath + ".tmp"
    do throws(SystemError) {
      if files.exists(temporary) { try files.remove(temporary) }
      let handle = try files.open(temporary, create: true)
      defer { files.close(handle) }
      try files.write(handle, log.encoded(), at: 0, path: temporary)
      try files.sync(handle, path: temporary)
      try files.rename(temporary, to: patchLogPath)
      try files.syncDirectory(folder)
    } catch {
      throw .io(error)
    }
  }

  /// Applies a pending intent log, if any, then removes it. Runs under the lock: by `forget`,
  /// and by recovery after a crash that interrupted one.
  func applyPatchLog() throws(RegistryError) {
    guard files.exists(patchLogPath) else { return }
    let bytes: [UInt8]
    do {
      bytes = try files.readFile(patchLogPath, limit: 1 << 30)
    } catch {
      throw .io(error)
    }
    guard let log = PatchLog.decode(bytes) else {
      throw .damaged(
        path: patchLogPath, offset: 0,
        reason: "the erasure log of an interrupted erasure is not valid")
    }
    var journalPatched = false
    do throws(SystemError) {
      for patch in log.patches {
        if patch.file == "journal" {
          try files.write(journal.file, patch.bytes, at: patch.offset, path: journalPath)
          journalPatched = true
          continue
        }
        // A side file removed since is nothing left to erase.
        let path = folder + "/" + patch.file
        guard files.exists(path) else { continue }
        let handle = try files.open(path, create: false)
        defer { files.close(handle) }
        try files.write(handle, patch.bytes, at: patch.offset, path: path)
        try files.sync(handle, path: path)
      }
    } catch {
      throw .io(error)
    }
    if journalPatched {
      do {
        try journal.sync()
      } catch {
        fence("a sync of the journal failed while erasing a profile at \(ISO8601.format(clock()))")
        throw error
      }
    }
    do throws(SystemError) {
      try files.remove(patchLogPath)
    } catch {
      throw .io(error)
    }
    do throws(SystemError) {
      try files.syncDirectory(folder)
    } catch {
      // The log might come back after a power loss and undo a later erasure: fence, as for any
      // failed sync.
      fence("a sync of \(folder) failed after an erasure at \(ISO8601.format(clock()))")
      throw .syncFailed(path: folder, code: error.code)
    }
  }
}

/// Every start index of `needle` in `haystack`, overlapping ones included.
private func occurrences(of needle: [UInt8], in haystack: [UInt8]) -> [Int] {
  guard !needle.isEmpty, haystack.count >= needle.count else { return [] }
  var hits: [Int] = []
  let first = needle[0]
  for start in 0...(haystack.count - needle.count)
  where haystack[start] == first && haystack[start..<(start + needle.count)].elementsEqual(needle) {
    hits.append(start)
  }
  return hits
}
