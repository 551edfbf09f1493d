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

    /// Changes a campaign's end for the whole chain.
    ///
    /// - Returns: Whether the chain has the campaign.
    public static func share(
      ends: String?, of campaign: CampaignID, _ target: PGTarget, timeout: Double
    )
      throws(RegistryError) -> Bool
    {
      let registry = try open(target, campaigns: CampaignBook([]), timeout: timeout)
      return try registry.withConnection { (connection) throws(PGError) in
        try connection.execute(
          "UPDATE voucher_campaigns SET ends = $2, updated_at = now() WHERE id = $1",
          [campaign.rawValue, ends]
        ).affected == 1
      }
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
