#if PostgreSQL
  import FoundationEssentials
  import VoucherKit
  import VoucherRegistry

  extension PostgresRegistry {
    /// Performs a batch as one transaction (see ``PostgresRegistry``): answered once, with what
    /// was committed, or not at all.
    public func perform(_ operations: [RegistryOperation], now: Date) throws(RegistryError)
      -> [RegistryResult]
    {
      try writeTransaction { (connection, token, pending) throws(PGError) in
        try perform(operations, now: now, token: token, on: connection, pending: &pending)
      }
    }

    /// Runs a write transaction until it is answered once: `body` sets `pending` to its answer
    /// just before it sends the COMMIT (with an insert of `token` into `voucher_commits`).
    ///
    /// A connection lost after that leaves it unknown whether the transaction committed: the
    /// token, looked up once connected again, says which; committed, `pending` is the answer;
    /// not, the transaction runs again from the start. Serialization failures, deadlocks and a
    /// race a constraint caught are run again a bounded number of times; a server away, until
    /// the timeout.
    func writeTransaction<T>(
      _ body: (PGConnection, _ token: String, _ pending: inout T?) throws(PGError) -> T
    ) throws(RegistryError) -> T {
      let deadline = monotonicSeconds() + timeout
      var attempt = 0
      while true {
        attempt += 1
        let token = Self.token()
        var pending: T?
        do {
          return try body(try connect(deadline: deadline), token, &pending)
        } catch {
          if let answer = pending, error.isServerGone {
            dropConnection()
            let committed = try withConnection { (connection) throws(PGError) in
              try connection.execute("SELECT 1 FROM voucher_commits WHERE token = $1", [token])
                .count == 1
            }
            if committed { return answer }
          } else if error.isServerGone {
            dropConnection()
          } else {
            rollBack()
          }
          let retry =
            error.isServerGone
            ? monotonicSeconds() < deadline
            : (error.isRetryable || error.isUniqueViolation) && attempt < Self.attempts
          guard retry else {
            throw error.isServerGone
              ? .unreachable(registry: target.description, reason: error.description)
              : .database(registry: target.description, reason: error.description)
          }
          pause(attempt)
        }
      }
    }

    /// A fresh commit token: 128 random bits in hex.
    static func token() -> String {
      var generator = SystemRandomNumberGenerator()
      return (0..<2).map { _ in
        let value = generator.next() as UInt64
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
      }.joined()
    }

    /// One try of a batch.
    private func perform(
      _ operations: [RegistryOperation], now: Date, token: String, on connection: PGConnection,
      pending: inout [RegistryResult]?
    ) throws(PGError) -> [RegistryResult] {
      let codes = operations.map { CodeKey($0.voucher) }
      let written = Set(zip(operations, codes).filter { $0.0.writes }.map(\.1)).sorted()
      let read = Array(Set(codes)).sorted()
      let writes = operations.filter(\.writes).count

      // Round trip 1: lock the written codes in a fixed order, take ids, read histories.
      // READ COMMITTED, whatever the server's default: a statement after a profile's lock must
      // see what the lock's previous holder committed (see ProfileCounts.read).
      var statements = [PGStatement("BEGIN ISOLATION LEVEL READ COMMITTED")]
      for code in written {
        statements.append(
          PGStatement(
            """
            INSERT INTO voucher_codes (campaign, channel, serial) VALUES ($1, $2, $3)
            ON CONFLICT DO NOTHING
            """, code.parameters))
      }
      for code in written {
        statements.append(
          PGStatement(
            """
            SELECT 1 FROM voucher_codes WHERE campaign = $1 AND channel = $2 AND serial = $3
            FOR UPDATE
            """, code.parameters))
      }
      let idsAt = statements.count
      if writes > 0 {
        statements.append(
          PGStatement(
            "SELECT nextval('voucher_event_ids') FROM generate_series(1, $1)", [String(writes)]))
      }
      let historiesAt = statements.count
      statements += read.flatMap(Self.historyStatements)
      let results = try checked(connection.pipeline(statements))
      var ids = writes > 0 ? (0..<results[idsAt].count).map { results[idsAt].integer($0, 0) } : []
      ids.sort()
      var histories: [CodeKey: [EventRow]] = [:]
      var blocks: [CodeKey: [EventRow]] = [:]
      for (index, code) in read.enumerated() {
        let events = results[historiesAt + 2 * index]
        let ranges = results[historiesAt + 2 * index + 1]
        histories[code] = (0..<events.count).map { EventRow(events, $0) }
        blocks[code] = (0..<ranges.count).map { EventRow(ranges, $0) }
      }

      // Per-profile limits: the profiles the batch may count towards, locked, then counted.
      var counts = try ProfileCounts.read(
        ProfileCounts.keys(operations, codes: codes, histories: histories), on: connection,
        checked: checked)

      // The rules, in order: later operations see the events of earlier ones.
      var inserts: [PGStatement] = []
      var answers: [RegistryResult] = []
      var nextID = ids.makeIterator()
      let time = Int64((now.timeIntervalSince1970 * 1000).rounded(.down))
      for (operation, code) in zip(operations, codes) {
        let voucher = operation.voucher
        let campaignID = voucher.campaign.id.rawValue
        let rules = RedemptionRules(
          campaign: voucher.campaign,
          history: CodeHistory(
            newestFirst: histories[code, default: []].reversed().compactMap(\.codeEvent)),
          block: Self.blockInfo(blocks[code, default: []]),
          limits: LimitCount(now: now) { [counts] in
            counts.uses(ProfileKey(campaign: campaignID, profile: $0.rawValue))
          })
        func record<Answer>(_ decision: Decision<Answer>) -> Answer {
          switch decision {
          case .answer(let answer):
            return answer
          case .record(let event, let answer):
            let row = EventRow(id: nextID.next()!, time: time, code: code, event)
            histories[code, default: []].append(row)
            counts.add(row)
            inserts.append(row.insert)
            inserts += Self.useStatements(row, code: code)
            return answer(EventID(row.id), row.date)
          }
        }
        switch operation {
        case .redeem(_, let store, let terminal, let profile, let request):
          answers.append(
            .redeem(
              record(
                rules.redeem(store: store, terminal: terminal, profile: profile, request: request)))
          )
        case .void(_, let reason, let request):
          answers.append(.void(record(rules.void(reason: reason, request: request))))
        case .claim(_, let profile, let prize):
          answers.append(.claim(record(rules.claim(profile: profile, prize: prize))))
        case .status:
          answers.append(.status(rules.status))
        case .history:
          let events = (histories[code, default: []] + blocks[code, default: []]).sorted {
            $0.id < $1.id
          }
          answers.append(.history(events.map(\.event)))
        }
      }

      // Round trip 2: the events, the uses, the token, COMMIT.
      guard !inserts.isEmpty else {
        try connection.execute("ROLLBACK")
        return answers
      }
      inserts.append(PGStatement("INSERT INTO voucher_commits (token) VALUES ($1)", [token]))
      inserts.append(PGStatement("COMMIT"))
      pending = answers
      _ = try checked(connection.pipeline(inserts))
      return answers
    }

    /// The statements that read a code's events and the blocks over it, in this order.
    static func historyStatements(_ code: CodeKey) -> [PGStatement] {
      [
        PGStatement(
          """
          SELECT \(EventRow.columns) FROM voucher_events
          WHERE campaign = $1 AND channel = $2 AND serial = $3 AND kind <= 3 ORDER BY id
          """, code.parameters),
        PGStatement(
          """
          SELECT \(EventRow.columns) FROM voucher_events
          WHERE campaign = $1 AND channel = $2 AND kind >= 4 AND serial <= $3 AND last_serial >= $3
          ORDER BY id
          """, code.parameters),
      ]
    }

    /// The statements that keep `voucher_uses` in step with a new event: a redemption takes its
    /// use number; a void gives its redemption's back.
    static func useStatements(_ row: EventRow, code: CodeKey) -> [PGStatement] {
      switch row.kind {
      case 1:
        return [
          PGStatement(
            """
            INSERT INTO voucher_uses (campaign, channel, serial, use_number, event)
            VALUES ($1, $2, $3, $4, $5)
            """, code.parameters + [String(row.usesAfter ?? 0), String(row.id)])
        ]
      case 2:
        return [
          PGStatement("DELETE FROM voucher_uses WHERE event = $1", [String(row.undoes ?? 0)])
        ]
      default:
        return []
      }
    }

    /// The block in force over a code (``BlockInfo/inForce(_:)``), from the blocks and
    /// unblocks of the ranges holding it.
    static func blockInfo(_ ranges: [EventRow]) -> BlockInfo? {
      BlockInfo.inForce(
        ranges.sorted { $0.id < $1.id }.map {
          BlockInfo.RangeEvent(blocked: $0.kind == 4, time: $0.date, reason: $0.reason)
        })
    }

    /// The results of a pipeline, or the first error of a statement that ran.
    func checked(_ results: [Result<PGRows, PGError>]) throws(PGError) -> [PGRows] {
      var rows: [PGRows] = []
      rows.reserveCapacity(results.count)
      var aborted: PGError?
      for result in results {
        switch result {
        case .success(let value): rows.append(value)
        case .failure(let error) where error.aborted: aborted = aborted ?? error
        case .failure(let error): throw error
        }
      }
      if let aborted { throw aborted }
      return rows
    }

    /// What the registry knows of a code, read in one implicit transaction without locks.
    public func peek(_ voucher: Voucher) throws(RegistryError) -> CodeStatus {
      let code = CodeKey(voucher)
      let results = try withConnection { (connection) throws(PGError) in
        try checked(connection.pipeline(Self.historyStatements(code)))
      }
      let events = (0..<results[0].count).map { EventRow(results[0], $0) }
      let ranges = (0..<results[1].count).map { EventRow(results[1], $0) }
      return RedemptionRules(
        campaign: voucher.campaign,
        history: CodeHistory(newestFirst: events.reversed().compactMap(\.codeEvent)),
        block: Self.blockInfo(ranges)
      ).status
    }
  }

  extension RegistryOperation {
    /// The code the operation is about.
    var voucher: Voucher {
      switch self {
      case .redeem(let voucher, _, _, _, _), .void(let voucher, _, _), .claim(let voucher, _, _),
        .status(let voucher), .history(let voucher):
        return voucher
      }
    }

    /// Whether it may record an event.
    var writes: Bool {
      switch self {
      case .redeem, .void, .claim: return true
      case .status, .history: return false
      }
    }
  }
#endif
