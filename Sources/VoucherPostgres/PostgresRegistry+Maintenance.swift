#if PostgreSQL
  import FoundationEssentials
  import VoucherKit
  import VoucherRegistry

  extension PostgresRegistry {
    /// Blocks (or unblocks) a range of serials: one event, in its own transaction, resolved by its
    /// token like a batch if the connection is lost during COMMIT (see
    /// `writeTransaction(_:)`).
    @discardableResult
    public func block(
      campaign: Campaign, channel: ChannelID, serials: ClosedRange<Int>, reason: Reason?,
      unblock: Bool, now: Date
    ) throws(RegistryError) -> Int {
      guard let channelIndex = campaign.channelIndex(channel) else {
        preconditionFailure("the channel is checked by the caller")
      }
      let time = Int64((now.timeIntervalSince1970 * 1000).rounded(.down))
      return try writeTransaction { (connection, token, pending) throws(PGError) in
        let id = try connection.execute("SELECT nextval('voucher_event_ids')").integer(0, 0)
        let row = EventRow(
          id: id, time: time, campaign: campaign.id.rawValue, channel: channelIndex,
          serials: serials, reason: reason?.rawValue, unblock: unblock)
        pending = serials.count
        _ = try checked(
          connection.pipeline([
            PGStatement("BEGIN"), row.insert,
            PGStatement("INSERT INTO voucher_commits (token) VALUES ($1)", [token]),
            PGStatement("COMMIT"),
          ]))
        return serials.count
      }
    }

    /// Erases a profile id from every event that names it, then vacuums the events table so
    /// that the old row versions go too.
    ///
    /// What PostgreSQL may still hold afterwards, which no statement can reach: the write-ahead
    /// log until its segments are recycled (and any archive of it), replicas' copies of that log,
    /// and backups taken before. Vacuum frees dead row versions for reuse; their bytes stay in
    /// the table's pages until overwritten (`VACUUM FULL` rewrites the table, under an exclusive
    /// lock that stops every till meanwhile, so it is left to the operator).
    public func forget(profile: ProfileID) throws(RegistryError) -> ForgetReport {
      let counts = try withConnection { (connection) throws(PGError) -> (Int, Int) in
        let rows = try connection.execute(
          """
          WITH erased AS (
            UPDATE voucher_events SET profile = NULL, profile_erased = true
            WHERE profile = $1 AND kind IN (1, 3) RETURNING kind)
          SELECT count(*) FILTER (WHERE kind = 1), count(*) FILTER (WHERE kind = 3) FROM erased
          """, [profile.rawValue])
        return (Int(rows.integer(0, 0)), Int(rows.integer(0, 1)))
      }
      if counts.0 + counts.1 > 0 {
        try withConnection { (connection) throws(PGError) in
          try connection.execute("VACUUM voucher_events")
        }
      }
      return ForgetReport(redemptions: counts.0, claims: counts.1, sideFiles: 0)
    }

    /// Checks what the constraints cannot: every live use is a redemption not voided, every void
    /// undoes a redemption of its own code, and no code has more live uses than its campaign
    /// allows. Damage is named by table and event id.
    public func check() throws(RegistryError) -> CheckReport {
      let (events, codes, findings) = try withConnection {
        (connection) throws(PGError) -> (Int, Int, [(String, Int64, String)]) in
        let counts = try connection.execute(
          "SELECT (SELECT count(*) FROM voucher_events), (SELECT count(*) FROM voucher_codes)")
        let problems = try connection.execute(
          """
          SELECT 'voucher_uses', u.event, 'a live use whose event is not a redemption of its code'
            FROM voucher_uses u JOIN voucher_events e ON e.id = u.event
            WHERE e.kind <> 1 OR (e.campaign, e.channel, e.serial) <> (u.campaign, u.channel, u.serial)
          UNION ALL
          SELECT 'voucher_uses', u.event, 'a live use of a voided redemption'
            FROM voucher_uses u JOIN voucher_events v ON v.kind = 2 AND v.undoes = u.event
          UNION ALL
          SELECT 'voucher_events', v.id, 'a void that undoes no redemption of its code'
            FROM voucher_events v JOIN voucher_events r ON r.id = v.undoes
            WHERE v.kind = 2 AND (r.kind <> 1
              OR (r.campaign, r.channel, r.serial) <> (v.campaign, v.channel, v.serial))
          UNION ALL
          SELECT 'voucher_events', r.id, 'a redemption neither live nor voided'
            FROM voucher_events r
            WHERE r.kind = 1 AND NOT EXISTS (SELECT 1 FROM voucher_uses u WHERE u.event = r.id)
              AND NOT EXISTS (SELECT 1 FROM voucher_events v WHERE v.kind = 2 AND v.undoes = r.id)
          ORDER BY 2
          LIMIT 100
          """)
        let uses = try connection.execute(
          "SELECT campaign, max(use_number) FROM voucher_uses GROUP BY campaign")
        var findings = (0..<problems.count).map {
          (problems[$0, 0] ?? "", problems.integer($0, 1), problems[$0, 2] ?? "")
        }
        for row in 0..<uses.count {
          if let id = uses[row, 0].flatMap(CampaignID.init), let campaign = campaigns.campaign(id),
            uses.integer(row, 1) > Int64(campaign.uses)
          {
            findings.append(
              ("voucher_uses", 0, "a code of campaign \(id) has more live uses than it allows"))
          }
        }
        return (Int(counts.integer(0, 0)), Int(counts.integer(0, 1)), findings)
      }
      return CheckReport(
        events: events, codes: codes,
        damage: findings.map {
          RegistryError.damaged(
            path: "\(target.description), table \($0.0)", offset: $0.1, reason: $0.2)
        })
    }
  }
#endif
