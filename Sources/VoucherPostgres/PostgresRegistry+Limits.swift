#if PostgreSQL
  import FoundationEssentials
  import VoucherKit
  import VoucherRegistry

  /// A profile of a campaign with per-profile limits: what a batch locks and counts.
  struct ProfileKey: Hashable, Comparable {
    let campaign: String
    let profile: String

    /// The name of the transaction-level advisory lock that serialises the profile's uses of
    /// the campaign (an advisory lock keeps no row, so erasing the profile leaves nothing).
    var lockName: String { "voucher profile limit\n\(campaign)\n\(profile)" }

    static func < (a: ProfileKey, b: ProfileKey) -> Bool {
      (a.campaign, a.profile) < (b.campaign, b.profile)
    }
  }

  /// The counted events of the profiles a batch may count towards: read under their locks,
  /// and kept in step with the batch's own events.
  struct ProfileCounts {
    /// Each profile's counted events: id, whether a claim, time (ms since 1970).
    private var events: [ProfileKey: [(id: Int64, claim: Bool, time: Int64)]] = [:]

    /// What a profile has used of a campaign.
    func uses(_ key: ProfileKey) -> ProfileUses {
      // Every profile the rules can ask for was locked and read: the one given, or the one of
      // the code's claim, recorded before the batch or by one of its claims (see `keys`).
      assert(events[key] != nil, "a profile counted without its lock")
      let counted = events[key] ?? []
      return ProfileUses(
        redemptions: counted.filter { !$0.claim }.map {
          Date(timeIntervalSince1970: Double($0.time) / 1000)
        },
        claims: counted.filter(\.claim).count)
    }

    /// Counts an event the batch records: a redemption or claim naming a profile adds to it; a
    /// void gives its redemption's use back.
    mutating func add(_ row: EventRow) {
      switch row.kind {
      case 1, 3:
        guard let profile = row.profile else { return }
        let key = ProfileKey(campaign: row.campaign, profile: profile)
        guard events[key] != nil else { return }
        events[key]!.append((row.id, row.kind == 3, row.time))
      case 2:
        for key in events.keys { events[key]!.removeAll { $0.id == row.undoes } }
      default:
        break
      }
    }

    /// The profiles a batch's operations may count towards, in a fixed order: the profile given
    /// to a redemption or claim of a campaign with limits, or the one a redeemed code was
    /// claimed by.
    static func keys(
      _ operations: [RegistryOperation], codes: [CodeKey], histories: [CodeKey: [EventRow]]
    ) -> [ProfileKey] {
      var keys = Set<ProfileKey>()
      for (operation, code) in zip(operations, codes) where operation.voucher.campaign.limits != nil
      {
        let campaign = operation.voucher.campaign
        let profile: ProfileID?
        switch operation {
        case .redeem(_, _, _, let given, _):
          profile = RedemptionRules(
            campaign: campaign,
            history: CodeHistory(
              newestFirst: histories[code, default: []].reversed().compactMap(\.codeEvent)),
            block: nil
          ).countedProfile(given: given)
        case .claim(_, let given, _):
          profile = given
        default:
          profile = nil
        }
        if let profile {
          keys.insert(ProfileKey(campaign: campaign.id.rawValue, profile: profile.rawValue))
        }
      }
      return keys.sorted()
    }

    /// Takes each profile's lock, in order (so two batches cannot deadlock over them), then
    /// reads its counted events: live redemptions (those with a row in `voucher_uses`) and
    /// claims. Under READ COMMITTED each read sees every transaction that held the lock before.
    static func read(
      _ keys: [ProfileKey], on connection: PGConnection,
      checked: ([Result<PGRows, PGError>]) throws(PGError) -> [PGRows]
    )
      throws(PGError) -> ProfileCounts
    {
      var counts = ProfileCounts()
      guard !keys.isEmpty else { return counts }
      var statements = keys.map {
        PGStatement("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [$0.lockName])
      }
      statements += keys.map {
        PGStatement(
          """
          SELECT id, kind, time_ms FROM voucher_events e
          WHERE campaign = $1 AND profile = $2
            AND (kind = 3 OR (kind = 1 AND EXISTS (SELECT 1 FROM voucher_uses u WHERE u.event = e.id)))
          ORDER BY id
          """, [$0.campaign, $0.profile])
      }
      let results = try checked(connection.pipeline(statements))
      for (index, key) in keys.enumerated() {
        let rows = results[keys.count + index]
        counts.events[key] = (0..<rows.count).map {
          (rows.integer($0, 0), rows.integer($0, 1) == 3, rows.integer($0, 2))
        }
      }
      return counts
    }
  }
#endif
