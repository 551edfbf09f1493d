import VoucherKit

extension Registry {
  /// Reads every event of the journal, oldest first, as far as the journal reached when the call
  /// began: for exports.
  ///
  /// The journal is read in large sequential chunks without holding the lock, so tills keep
  /// redeeming meanwhile; memory stays flat however long the journal is. Records are immutable
  /// once acknowledged, except that `forget` may be rewriting one in place: a record that fails
  /// its checksum is read again under the lock, and only then reported as damage.
  ///
  /// - Parameters:
  ///   - campaign: Only this campaign's events, or every campaign's.
  ///   - visit: Called with each event; an error it throws ends the reading.
  /// - Throws: ``RegistryError`` for damage or I/O; whatever `visit` throws.
  public func forEachEvent(
    campaign: CampaignID?, _ visit: (JournalEvent) throws -> Void
  ) throws {
    var locator = CampaignLocator(campaigns)
    try scanRecords { record, offset in
      if let event = JournalEvent(record, at: offset, locator: &locator),
        campaign == nil || event.campaign.id == campaign
      {
        try visit(event)
      }
    }
  }

  /// Adds every event of the journal to a report, as ``forEachEvent(campaign:_:)`` reads them,
  /// without making a value of each.
  public func addEvents(to report: inout ReportBuilder) throws {
    try scanRecords { record, _ in
      var undone: ReportBuilder.Undone?
      if record.type == 2, report.reports(slot: record.slot, payload: record.payload) {
        // A void counts where the redemption it undid counted: read that one (again under the
        // lock if a `forget` may be rewriting it).
        let target: Record
        do throws(RegistryError) {
          target = try journal.record(at: record.voided).record
        } catch {
          guard case .damaged = error else { throw error }
          target = try locked(writing: false) { () throws(RegistryError) in
            try journal.record(at: record.voided).record
          }
        }
        if case .redeem(_, let store, let terminal, _, _, _) = target.body {
          undone = ReportBuilder.Undone(time: target.time, store: store, terminal: terminal)
        }
      }
      report.add(record, undone: undone)
    }
  }

  /// Calls `visit` with every record up to the end of the data when the call began, in order.
  func scanRecords(_ visit: (RawRecord, Int64) throws -> Void) throws {
    let stop = try locked(writing: false) { () throws(RegistryError) -> Int64 in end }
    try scanRecords(to: stop, rereadUnderLock: true) { record, offset, _ in
      try visit(record, offset)
    }
  }

  /// Calls `visit` with every record up to `stop`, its offset and its frame's (-1 in a version 1
  /// journal). A record that fails its check is read again under the lock when
  /// `rereadUnderLock` (a `forget` may be rewriting it), else reported as damage.
  func scanRecords(
    to stop: Int64, rereadUnderLock: Bool, _ visit: (RawRecord, Int64, Int64) throws -> Void
  ) throws {
    let scanner = JournalScanner(journal: journal, from: Journal.headerSize, to: stop)
    while true {
      switch try scanner.next() {
      case .end:
        return
      case .record(let record, let offset, let frame):
        try visit(record, offset, frame)
      case .invalid(let offset), .malformed(let offset, _):
        guard rereadUnderLock else {
          _ = try journal.record(at: offset)
          throw RegistryError.damaged(
            path: journalPath, offset: offset, reason: "no record or frame starts here")
        }
        // Perhaps half rewritten by a `forget` in progress: look again once it is done.
        let bytes = try locked(writing: false) { () throws(RegistryError) -> [UInt8] in
          _ = try journal.record(at: offset)
          return try journal.recordBytes(at: offset)
        }
        let frame = scanner.currentFrame
        let length = try bytes.withUnsafeBytes { raw throws -> Int in
          guard case .record(let record) = RawRecord.decode(raw.baseAddress!, count: raw.count)
          else {
            throw RegistryError.damaged(
              path: journalPath, offset: offset, reason: "the record cannot be read")
          }
          try visit(record, offset, frame)
          return record.length
        }
        scanner.skip(to: offset + Int64(length))
      }
    }
  }
}

extension Registry {
  /// The journal's random id, in hex: the registry's identity, the same wherever its folder
  /// moves (what a copy into another store is keyed by).
  public var journalID: String {
    journal.id.map { byte in
      let hex = String(byte, radix: 16)
      return byte < 16 ? "0" + hex : hex
    }.joined()
  }
}
