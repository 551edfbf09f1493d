#if PostgreSQL
  import FoundationEssentials
  import VoucherKit
  import VoucherRegistry

  /// What a copy of a file registry into PostgreSQL did.
  public struct CopyReport: Sendable, Hashable {
    /// Events copied by this run.
    public let copied: Int
    /// Events found copied by an earlier run (skipped).
    public let earlier: Int
  }

  extension PostgresRegistry {
    /// Copies a file registry's whole history in, oldest first, in transactions of
    /// `batchSize` events: each event with its code's live use, and a row in `voucher_imports`
    /// keyed by the file registry's journal id and the event's offset. Run again, or after a
    /// kill, it starts after the last committed batch: the same result, never an event twice.
    ///
    /// The codes must have no events of their own here yet: a code redeemed both in the file
    /// registry and in this one fails the copy on the live-use key (nothing of that batch is
    /// copied), which is what exactly once demands until such histories are merged on purpose.
    ///
    /// - Parameters:
    ///   - source: The file registry.
    ///   - batchSize: Events per transaction.
    /// - Returns: How many events were copied now and earlier.
    public func copy(from source: Registry, batchSize: Int = 2_000) throws -> CopyReport {
      let sourceID = "file:" + source.journalID
      let before = try withConnection { (connection) throws(PGError) in
        try connection.execute(
          "SELECT coalesce(max(source_offset), -1), count(*) FROM voucher_imports WHERE source = $1",
          [sourceID])
      }
      let last = before.integer(0, 0)
      var pending: [JournalEvent] = []
      var copied = 0
      try source.forEachEvent(campaign: nil) { event in
        guard event.id.value > last else { return }
        pending.append(event)
        if pending.count >= batchSize {
          try copyBatch(pending, source: sourceID)
          copied += pending.count
          pending.removeAll(keepingCapacity: true)
        }
      }
      if !pending.isEmpty {
        try copyBatch(pending, source: sourceID)
        copied += pending.count
      }
      return CopyReport(copied: copied, earlier: Int(before.integer(0, 1)))
    }

    /// Copies events in one transaction.
    private func copyBatch(_ events: [JournalEvent], source: String) throws(RegistryError) {
      // Resolved by its token like a batch when the connection is lost during COMMIT: a copy is
      // never applied twice, nor answered done when it was not.
      _ = try writeTransaction { (connection, token, pending: inout Bool?) throws(PGError) in
        try connection.execute("BEGIN")
        let ids = try connection.execute(
          "SELECT nextval('voucher_event_ids') FROM generate_series(1, $1)",
          [String(events.count)])
        var here: [Int64: Int64] = [:]
        // Voids of redemptions copied by earlier batches: their ids here.
        let earlier = Set(events.compactMap(\.undoes)).subtracting(events.map(\.id.value))
        if !earlier.isEmpty {
          let found = try connection.execute(
            """
            SELECT source_offset, event FROM voucher_imports
            WHERE source = $1 AND source_offset = ANY ($2::bigint[])
            """, [source, "{" + earlier.map { String($0) }.joined(separator: ",") + "}"])
          for row in 0..<found.count { here[found.integer(row, 0)] = found.integer(row, 1) }
        }
        var statements: [PGStatement] = []
        for (index, event) in events.enumerated() {
          let id = ids.integer(index, 0)
          here[event.id.value] = id
          let row = EventRow(copying: event, id: id, undoes: event.undoes.flatMap { here[$0] })
          if event.kind == .voided && row.undoes == nil {
            throw PGError(
              message: "event \(event.id) undoes \(event.undoes ?? 0), which was not copied",
              state: nil, connectionLost: false)
          }
          let code = CodeKey(campaign: row.campaign, channel: row.channel, serial: row.serial)
          if row.kind <= 3 {
            statements.append(
              PGStatement(
                """
                INSERT INTO voucher_codes (campaign, channel, serial) VALUES ($1, $2, $3)
                ON CONFLICT DO NOTHING
                """, code.parameters))
          }
          statements.append(row.insert)
          statements += Self.useStatements(row, code: code)
          statements.append(
            PGStatement(
              "INSERT INTO voucher_imports (source, source_offset, event) VALUES ($1, $2, $3)",
              [source, String(event.id.value), String(id)]))
        }
        statements.append(
          PGStatement("INSERT INTO voucher_commits (token) VALUES ($1)", [token]))
        statements.append(PGStatement("COMMIT"))
        pending = true
        _ = try checked(connection.pipeline(statements))
        return true
      }
    }
  }
#endif
