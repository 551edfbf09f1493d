#if PostgreSQL
  import Foundation
  import VoucherKit
  import VoucherRegistry

  /// What every till of a chain shares through its PostgreSQL registry besides the events (which
  /// hold the blocks): the campaigns, with their end dates, and the keys' states. Key secrets stay
  /// on each machine, in its home's `Keys/`, and never reach the database.
  public struct ChainState: Sendable {
    /// The campaigns, their end dates as last changed.
    public let campaigns: [Campaign]
    /// The state of each key slot, as last raised.
    public let keyStates: [KeySlot: KeyState]
  }

  extension PostgresRegistry {
    /// Reads the chain's campaigns and key states.
    ///
    /// - Throws: `RegistryError/damaged(path:offset:reason:)` naming a campaign whose stored
    ///   definition cannot be read.
    public static func chainState(_ target: PGTarget, timeout: Double) throws(RegistryError)
      -> ChainState
    {
      let registry = try open(target, campaigns: CampaignBook([]), timeout: timeout)
      let (campaignRows, keyRows) = try registry.withConnection {
        (connection) throws(PGError) -> (PGRows, PGRows) in
        (
          try connection.execute("SELECT id, definition, ends FROM voucher_campaigns ORDER BY id"),
          try connection.execute("SELECT slot, state FROM voucher_key_states")
        )
      }
      var campaigns: [Campaign] = []
      for row in 0..<campaignRows.count {
        guard
          let campaign = try? JSONDecoder().decode(
            Campaign.self, from: Data((campaignRows[row, 1] ?? "").utf8))
        else {
          throw .damaged(
            path: "\(target.description), table voucher_campaigns", offset: Int64(row),
            reason: "the definition of campaign '\(campaignRows[row, 0] ?? "")' cannot be read")
        }
        campaigns.append(campaign.changing(ends: campaignRows[row, 2]))
      }
      var states: [KeySlot: KeyState] = [:]
      for row in 0..<keyRows.count {
        if let slot = KeySlot(Int(keyRows.integer(row, 0))),
          let state = keyRows[row, 1].flatMap(KeyState.init(rawValue:))
        {
          states[slot] = state
        }
      }
      return ChainState(campaigns: campaigns, keyStates: states)
    }

    /// Shares campaigns with the chain: each one not there yet is added; one there already keeps
    /// its stored definition (campaigns are added at one place, the chain's office).
    ///
    /// - Returns: The ids of the campaigns added now.
    @discardableResult
    public static func share(campaigns: [Campaign], _ target: PGTarget, timeout: Double)
      throws(RegistryError) -> [CampaignID]
    {
      let registry = try open(target, campaigns: CampaignBook([]), timeout: timeout)
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
      var added: [CampaignID] = []
      for campaign in campaigns {
        guard let data = try? encoder.encode(campaign) else { continue }
        let rows = try registry.withConnection { (connection) throws(PGError) in
          try connection.execute(
            """
            INSERT INTO voucher_campaigns (id, definition, ends) VALUES ($1, $2, $3)
            ON CONFLICT (id) DO NOTHING
            """, [campaign.id.rawValue, String(decoding: data, as: UTF8.self), campaign.ends])
        }
        if rows.affected == 1 { added.append(campaign.id) }
      }
      return added
    }

    /// Changes a campaign for the whole chain, in one transaction that holds the campaign's row:
    /// `change` gets the campaign as the chain has it now (its end as last changed) and answers
    /// the campaign to keep, whose definition and end replace the row's. Two tills changing a
    /// campaign at once both land, one after the other.
    ///
    /// - Returns: The campaign before and after, or `nil` when the chain does not have it.
    /// - Throws: What `change` throws (nothing is written then), or a `RegistryError`.
    public static func change(
      campaign id: CampaignID, _ target: PGTarget, timeout: Double,
      _ change: (Campaign) throws(CampaignError) -> Campaign
    ) throws -> (before: Campaign, after: Campaign)? {
      let registry = try open(target, campaigns: CampaignBook([]), timeout: timeout)
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
      var refusal: (any Error)?
      let result = try registry.withConnection {
        (connection) throws(PGError) -> (before: Campaign, after: Campaign)? in
        refusal = nil
        try connection.execute("BEGIN")
        do throws(PGError) {
          let rows = try connection.execute(
            "SELECT definition, ends FROM voucher_campaigns WHERE id = $1 FOR UPDATE",
            [id.rawValue])
          guard rows.count == 1 else {
            try connection.execute("ROLLBACK")
            return nil
          }
          let changed: (before: Campaign, after: Campaign)
          do {
            guard
              let stored = try? JSONDecoder().decode(
                Campaign.self, from: Data((rows[0, 0] ?? "").utf8))
            else {
              throw RegistryError.damaged(
                path: "\(target.description), table voucher_campaigns", offset: 0,
                reason: "the definition of campaign '\(id)' cannot be read")
            }
            let before = stored.changing(ends: rows[0, 1])
            changed = (before, try change(before))
          } catch {
            refusal = error
            try connection.execute("ROLLBACK")
            return nil
          }
          if changed.after != changed.before {
            let definition = String(
              decoding: (try? encoder.encode(changed.after)) ?? Data(), as: UTF8.self)
            try connection.execute(
              "UPDATE voucher_campaigns SET definition = $2, ends = $3, updated_at = now() WHERE id = $1",
              [id.rawValue, definition, changed.after.ends])
          }
          try connection.execute("COMMIT")
          return changed
        } catch {
          _ = try? connection.execute("ROLLBACK")
          throw error
        }
      }
      if let refusal { throw refusal }
      return result
    }

    /// The chain's campaigns' last change, to tell cheaply whether they changed: the number of
    /// campaigns and the latest `updated_at`, as text. One statement on this registry's
    /// connection, so a running server that asks often keeps one connection for it.
    public func campaignsStamp() throws(RegistryError) -> String {
      let rows = try withConnection { (connection) throws(PGError) in
        try connection.execute("SELECT count(*), max(updated_at) FROM voucher_campaigns")
      }
      return "\(rows[0, 0] ?? "") \(rows[0, 1] ?? "")"
    }

    /// Shares key states with the chain: each slot's state is raised (active, retired, revoked),
    /// never lowered.
    public static func share(keyStates: [KeySlot: KeyState], _ target: PGTarget, timeout: Double)
      throws(RegistryError)
    {
      let registry = try open(target, campaigns: CampaignBook([]), timeout: timeout)
      for (slot, state) in keyStates {
        try registry.withConnection { (connection) throws(PGError) in
          try connection.execute(
            """
            INSERT INTO voucher_key_states (slot, state) VALUES ($1, $2)
            ON CONFLICT (slot) DO UPDATE SET state = EXCLUDED.state, changed_at = now()
            WHERE array_position(ARRAY['active', 'retired', 'revoked'], EXCLUDED.state)
              > array_position(ARRAY['active', 'retired', 'revoked'], voucher_key_states.state)
            """, [String(slot.rawValue), state.rawValue])
        }
      }
    }
  }
#endif
