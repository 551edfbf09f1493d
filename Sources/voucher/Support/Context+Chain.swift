import VoucherKit

#if PostgreSQL
  import VoucherPostgres
#endif

/// What a chain's tills share through a PostgreSQL registry: every command reads its campaigns
/// and key states through here, and the commands that change them share the change.
///
/// With a file registry these are the home's own. With a PostgreSQL registry the chain's
/// campaigns (with their end dates as last changed) come first, the home's own ones whose id and
/// code range the chain does not have after them; each key's state is the later of the home's and
/// the chain's (a key retired or revoked at any till is so at all). Key secrets stay in the home.
extension Context {
  /// The campaigns this command works with.
  func campaigns() throws -> CampaignBook {
    try Self.campaigns(home: home, uri: registryURI, timeout: lockTimeout, fresh: false)
  }

  /// The campaigns of a home and its chain; `fresh` reads the chain's again (a running server)
  /// instead of once per command.
  static func campaigns(home: VoucherHome, uri: RegistryURI?, timeout: Double, fresh: Bool)
    throws -> CampaignBook
  {
    let own = try home.campaignStore.load()
    #if PostgreSQL
      if let uri {
        let state =
          fresh
          ? try PostgresRegistry.chainState(uri.target, timeout: timeout)
          : try uri.chainState(timeout: timeout)
        let chain = state.campaigns
        let extra = own.campaigns.filter { mine in
          !chain.contains { $0.id == mine.id || overlaps($0, mine) }
        }
        return CampaignBook(chain + extra)
      }
    #endif
    return own
  }

  /// The key ring this command works with.
  func keyRing() throws -> KeyRing {
    let own = try KeyRing.load(from: home.keys)
    #if PostgreSQL
      if let uri = registryURI {
        return own.raising(
          try uri.chainState(timeout: lockTimeout).keyStates)
      }
    #endif
    return own
  }

  /// Shares campaigns with the chain (a campaign added, a registry created); nothing with a
  /// file registry.
  func share(campaigns: [Campaign]) throws {
    #if PostgreSQL
      if let uri = registryURI {
        try PostgresRegistry.share(campaigns: campaigns, uri.target, timeout: lockTimeout)
      }
    #endif
  }

  /// Shares key states with the chain; nothing with a file registry.
  func share(keys: [KeyInfo]) throws {
    #if PostgreSQL
      if let uri = registryURI {
        try PostgresRegistry.share(
          keyStates: Dictionary(keys.map { ($0.slot, $0.state) }) { $1 }, uri.target,
          timeout: lockTimeout)
      }
    #endif
  }

  /// Changes a campaign in the chain's table, when the registry is a PostgreSQL one that has it.
  ///
  /// - Returns: The campaign before and after, or `nil` (a file registry, a campaign the chain
  ///   does not have).
  func share(
    changing campaign: CampaignID, _ change: (Campaign) throws(CampaignError) -> Campaign
  ) throws -> (before: Campaign, after: Campaign)? {
    #if PostgreSQL
      if let uri = registryURI {
        return try PostgresRegistry.change(
          campaign: campaign, uri.target, timeout: lockTimeout, change)
      }
    #endif
    return nil
  }
}

/// Whether two campaigns' code ranges meet.
private func overlaps(_ a: Campaign, _ b: Campaign) -> Bool {
  a.slot == b.slot && a.base < b.base + b.span && b.base < a.base + a.span
}
