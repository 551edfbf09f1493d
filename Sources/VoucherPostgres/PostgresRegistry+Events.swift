#if PostgreSQL
  import FoundationEssentials
  import VoucherKit
  import VoucherRegistry

  extension PostgresRegistry {
    /// Rows fetched per round trip of the event cursor.
    static let fetchSize = 20_000

    /// Calls `visit` with every event, oldest first, from one snapshot (a repeatable-read,
    /// read-only transaction read through a cursor): memory stays flat, tills keep redeeming.
    public func forEachEvent(campaign: CampaignID?, _ visit: (JournalEvent) throws -> Void) throws {
      try scan(campaign: campaign, undone: false) { rows, row in
        if let event = EventRow(rows, row).journalEvent(campaigns) { try visit(event) }
      }
    }

    /// Counts every event into a report; a void brings the time, store and till of the
    /// redemption it undid.
    public func addEvents(to report: inout ReportBuilder) throws {
      try scan(campaign: nil, undone: true) { rows, row in
        let event = EventRow(rows, row)
        guard event.kind <= 3, let journal = event.journalEvent(campaigns) else { return }
        let base = EventRow.columnCount
        report.add(
          journal, undoneTime: rows[row, base].flatMap { Int64($0) },
          undoneStore: rows[row, base + 1], undoneTerminal: rows[row, base + 2])
      }
    }

    /// Reads the events in id order through a cursor; with `undone`, each row also carries the
    /// undone redemption's time, store and till.
    private func scan(
      campaign: CampaignID?, undone: Bool, _ visit: (PGRows, Int) throws -> Void
    ) throws {
      let columns = EventRow.columns.split(separator: ",").map { "e." + $0.trimmingPrefix(" ") }
        .joined(separator: ", ")
      let query =
        """
        DECLARE voucher_scan NO SCROLL CURSOR FOR
        SELECT \(columns)\(undone ? ", r.time_ms, r.store, r.terminal" : "")
        FROM voucher_events e\(undone ? " LEFT JOIN voucher_events r ON r.id = e.undoes" : "")
        WHERE $1::text IS NULL OR e.campaign = $1
        ORDER BY e.id
        """
      var failure: (any Error)?
      try withConnection { (connection) throws(PGError) in
        try connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        defer { _ = try? connection.execute("ROLLBACK") }
        try connection.execute(query, [campaign?.rawValue])
        while true {
          let rows = try connection.execute("FETCH \(Self.fetchSize) FROM voucher_scan")
          do {
            for row in 0..<rows.count { try visit(rows, row) }
          } catch {
            failure = error
            return
          }
          if rows.count < Self.fetchSize { return }
        }
      }
      if let failure { throw failure }
    }
  }

  extension EventRow {
    /// How many columns ``columns`` names.
    static let columnCount = columns.split(separator: ",").count
  }
#endif
