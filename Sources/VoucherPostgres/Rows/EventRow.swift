#if PostgreSQL
  import FoundationEssentials
  import VoucherKit
  import VoucherRegistry

  /// A code: its campaign, channel index and serial, as the tables key it.
  struct CodeKey: Hashable, Comparable {
    let campaign: String
    let channel: Int
    let serial: Int

    init(_ voucher: Voucher) {
      self.init(
        campaign: voucher.campaign.id.rawValue, channel: voucher.channelIndex,
        serial: voucher.serial)
    }

    init(campaign: String, channel: Int, serial: Int) {
      self.campaign = campaign
      self.channel = channel
      self.serial = serial
    }

    /// The key's columns as parameters.
    var parameters: [String?] { [campaign, String(channel), String(serial)] }

    static func < (a: CodeKey, b: CodeKey) -> Bool {
      (a.campaign, a.channel, a.serial) < (b.campaign, b.channel, b.serial)
    }
  }

  /// One row of `voucher_events`.
  struct EventRow {
    var id: Int64
    var kind: Int
    var time: Int64
    var campaign: String
    var channel: Int
    var serial: Int
    var lastSerial: Int
    var venue: Venue?
    var store: String?
    var terminal: String?
    var profile: String?
    var profileErased: Bool
    var request: String?
    var reason: String?
    var undoes: Int64?
    var usesAfter: Int?
    /// The prize a claim won.
    var prize: String?

    /// The columns every read selects, in this order.
    static let columns =
      "id, kind, time_ms, campaign, channel, serial, last_serial, venue, store, terminal, profile, profile_erased, request, reason, undoes, uses_after, prize"

    /// The row `row` of a result selecting ``columns`` (from column `first` on).
    init(_ rows: PGRows, _ row: Int, from first: Int = 0) {
      id = rows.integer(row, first)
      kind = Int(rows.integer(row, first + 1))
      time = rows.integer(row, first + 2)
      campaign = rows[row, first + 3] ?? ""
      channel = Int(rows.integer(row, first + 4))
      serial = Int(rows.integer(row, first + 5))
      lastSerial = Int(rows.integer(row, first + 6))
      venue = rows[row, first + 7].flatMap(Venue.init(rawValue:))
      store = rows[row, first + 8]
      terminal = rows[row, first + 9]
      profile = rows[row, first + 10]
      profileErased = rows[row, first + 11] == "t"
      request = rows[row, first + 12]
      reason = rows[row, first + 13]
      undoes = rows[row, first + 14].flatMap { Int64($0) }
      usesAfter = rows[row, first + 15].flatMap { Int($0) }
      prize = rows[row, first + 16]
    }

    /// The row of an event the rules decided on.
    init(id: Int64, time: Int64, code: CodeKey, _ event: NewEvent) {
      self.id = id
      self.time = time
      campaign = code.campaign
      channel = code.channel
      serial = code.serial
      lastSerial = code.serial
      profileErased = false
      switch event {
      case .redeem(let venue, let store, let terminal, let profile, let request, let usesAfter):
        kind = 1
        self.venue = venue
        self.store = store?.rawValue
        self.terminal = terminal?.rawValue
        self.profile = profile?.rawValue
        self.request = request?.rawValue
        self.usesAfter = usesAfter
      case .void(let target, let reason, let request):
        kind = 2
        undoes = target.value
        self.reason = reason?.rawValue
        self.request = request?.rawValue
      case .claim(let profile, let prize):
        kind = 3
        self.profile = profile.rawValue
        self.prize = prize?.rawValue
      }
    }

    /// The row of a block or unblock.
    init(
      id: Int64, time: Int64, campaign: String, channel: Int, serials: ClosedRange<Int>,
      reason: String?, unblock: Bool
    ) {
      self.id = id
      kind = unblock ? 5 : 4
      self.time = time
      self.campaign = campaign
      self.channel = channel
      serial = serials.lowerBound
      lastSerial = serials.upperBound
      self.reason = reason
      profileErased = false
    }

    /// The row of an event copied from another registry; `undoes` is the id here of the
    /// redemption a void undid.
    init(copying event: JournalEvent, id: Int64, undoes: Int64?) {
      self.id = id
      kind = Int(Self.number(of: event.kind))
      time = event.time
      campaign = event.campaign.id.rawValue
      channel = event.channelIndex
      serial = event.serial
      lastSerial = event.lastSerial
      venue = event.kind == .redeemed ? event.venue ?? .store : nil
      store = event.store
      terminal = event.terminal
      profile = event.profile
      profileErased = event.profileErased
      request = event.request
      reason = event.reason
      self.undoes = undoes
      usesAfter = event.kind == .redeemed ? event.usesAfter : nil
      prize = event.kind == .claimed ? event.prize : nil
    }

    /// The number a kind of event is stored as.
    static func number(of kind: Event.Kind) -> Int16 {
      switch kind {
      case .redeemed: return 1
      case .voided: return 2
      case .claimed: return 3
      case .blocked: return 4
      case .unblocked: return 5
      }
    }

    /// The statement that inserts the row.
    var insert: PGStatement {
      PGStatement(
        """
        INSERT INTO voucher_events (\(Self.columns))
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
        """,
        [
          String(id), String(kind), String(time), campaign, String(channel), String(serial),
          String(lastSerial), venue?.rawValue, store, terminal, profile, profileErased ? "t" : "f",
          request, reason, undoes.map { String($0) }, usesAfter.map { String($0) }, prize,
        ])
    }

    var date: Date { Date(timeIntervalSince1970: Double(time) / 1000) }

    var eventKind: Event.Kind {
      switch kind {
      case 1: return .redeemed
      case 2: return .voided
      case 3: return .claimed
      case 4: return .blocked
      default: return .unblocked
      }
    }

    /// The event as the rules see it (`nil` for a block).
    var codeEvent: CodeEvent? {
      let what: CodeEvent.Kind
      switch kind {
      case 1:
        what = .redeemed(
          venue: venue ?? .store, store: store, terminal: terminal, profile: profile,
          request: request, usesAfter: usesAfter ?? 0)
      case 2:
        what = .voided(target: EventID(undoes ?? 0), reason: reason, request: request)
      case 3:
        what = .claimed(profile: profile, prize: prize)
      default:
        return nil
      }
      return CodeEvent(id: EventID(id), time: date, kind: what)
    }

    /// The event as a code's history shows it.
    var event: Event {
      Event(
        kind: eventKind, at: date, id: EventID(id), venue: kind == 1 ? venue : nil,
        store: store, terminal: terminal, profile: profile, profileErased: profileErased,
        request: request, reason: reason)
    }

    /// The event as exports read it, or `nil` for a campaign not in `book`.
    func journalEvent(_ book: CampaignBook) -> JournalEvent? {
      guard let named = CampaignID(campaign), let found = book.campaign(named),
        channel < found.channels.count
      else {
        return nil
      }
      return JournalEvent(
        kind: eventKind, time: time, id: EventID(id), campaign: found, channelIndex: channel,
        serial: serial, lastSerial: lastSerial, venue: kind == 1 ? venue : nil, store: store,
        terminal: terminal, profile: profile, profileErased: profileErased, request: request,
        reason: reason, undoes: undoes.map(EventID.init), usesAfter: usesAfter ?? 0, prize: prize)
    }
  }
#endif
