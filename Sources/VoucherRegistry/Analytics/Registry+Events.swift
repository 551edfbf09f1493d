import VoucherKit

extension Registry {
  /// Reads every event of the journal, oldest first, as far as the journal reached when the call
  /// began: for reports and exports.
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
    campaign: CampaignID? = nil, _ visit: (JournalEvent) throws -> Void
  ) throws {
    let stop = try locked(writing: false) { () throws(RegistryError) -> Int64 in end }
    var locator = CampaignLocator(campaigns)
    var offset = Journal.headerSize
    var buffer: [UInt8] = []
    var bufferStart = offset
    let chunk = 4 << 20
    while offset < stop {
      var local = Int(offset - bufferStart)
      if local + Record.headerSize + 65_535 > buffer.count,
        bufferStart + Int64(buffer.count) < stop
      {
        // Keep the unread part and read the next chunk after it.
        buffer.removeFirst(local)
        bufferStart = offset
        local = 0
        let from = offset + Int64(buffer.count)
        do {
          buffer += try files.read(
            journal.file, at: from, count: Int(min(Int64(chunk), stop - from)), path: journalPath)
        } catch {
          throw RegistryError.io(error)
        }
      }
      let record: Record
      let length: Int
      switch Record.decode(buffer[local...]) {
      case .record(let decoded, let size):
        record = decoded
        length = size
      case .truncated, .invalid:
        // Perhaps half rewritten by a `forget` in progress: look again once it is done.
        (record, length) = try locked(writing: false) { () throws(RegistryError) in
          try journal.record(at: offset)
        }
        // The chunk may hold the old bytes of later records too: read afresh from here.
        buffer = []
        bufferStart = offset + Int64(length)
      }
      if let event = JournalEvent(record, at: offset, locator: &locator),
        campaign == nil || event.campaign.id == campaign
      {
        try visit(event)
      }
      offset += Int64(length)
    }
  }

  /// The event at a journal offset (what a void undid), or `nil` for a record of no campaign here.
  public func event(at offset: Int64) throws(RegistryError) -> JournalEvent? {
    var locator = CampaignLocator(campaigns)
    let record: Record
    do {
      record = try journal.record(at: offset).record
    } catch {
      record = try locked(writing: false) { () throws(RegistryError) in
        try journal.record(at: offset).record
      }
    }
    return JournalEvent(record, at: offset, locator: &locator)
  }
}
