#if PostgreSQL
  /// The registry's tables, as numbered migrations: version N is reached by applying the
  /// statements of versions 1 to N, each version in one transaction with its row in
  /// `voucher_schema`.
  ///
  /// Exactly once rests on constraints, not on a check in the program: `voucher_uses` has one row
  /// per live use of a code, keyed by `(campaign, channel, serial, use_number)`, where a use's
  /// number is the count of live uses once it is recorded: two transactions that both saw a
  /// single-use code unused would both insert use 1, and the key lets only one commit. A request
  /// id is unique per code and kind of event. The per-code row in `voucher_codes`
  /// is what a writer locks (`SELECT ... FOR UPDATE`) before it reads the code's history.
  enum Schema {
    /// The version this program reads and writes.
    static let version = migrations.count

    /// The statements of each version, in order.
    static let migrations: [[String]] = [
      // 1: codes, events, live uses, commits.
      [
        """
        CREATE TABLE voucher_schema (
          version integer PRIMARY KEY,
          applied_at timestamptz NOT NULL DEFAULT now())
        """,
        // One row per code with events: the row a writer locks.
        """
        CREATE TABLE voucher_codes (
          campaign text NOT NULL,
          channel integer NOT NULL,
          serial integer NOT NULL,
          PRIMARY KEY (campaign, channel, serial))
        """,
        // Event ids in the order recorded: taken under the code's lock.
        "CREATE SEQUENCE voucher_event_ids",
        // Every event: kind 1 redeemed, 2 voided, 3 claimed, 4 blocked, 5 unblocked. A block's
        // range runs from serial to last_serial; a code event has last_serial = serial.
        """
        CREATE TABLE voucher_events (
          id bigint PRIMARY KEY,
          kind smallint NOT NULL CHECK (kind BETWEEN 1 AND 5),
          time_ms bigint NOT NULL,
          campaign text NOT NULL,
          channel integer NOT NULL CHECK (channel >= 0),
          serial integer NOT NULL CHECK (serial >= 1),
          last_serial integer NOT NULL,
          venue text CHECK (venue IN ('store', 'online')),
          store text,
          terminal text,
          profile text,
          profile_erased boolean NOT NULL DEFAULT false,
          request text,
          reason text,
          undoes bigint REFERENCES voucher_events (id),
          uses_after integer,
          CHECK (last_serial >= serial),
          CHECK ((kind = 1) = (venue IS NOT NULL AND uses_after IS NOT NULL)),
          CHECK ((kind = 2) = (undoes IS NOT NULL)))
        """,
        """
        CREATE INDEX voucher_events_code ON voucher_events (campaign, channel, serial, id)
          WHERE kind <= 3
        """,
        """
        CREATE INDEX voucher_events_blocks ON voucher_events (campaign, channel, id)
          WHERE kind >= 4
        """,
        """
        CREATE UNIQUE INDEX voucher_events_request
          ON voucher_events (campaign, channel, serial, kind, request)
          WHERE request IS NOT NULL AND kind <= 2
        """,
        "CREATE INDEX voucher_events_profile ON voucher_events (profile) WHERE profile IS NOT NULL",
        // One row per live use: a void deletes its redemption's row, giving the use back.
        """
        CREATE TABLE voucher_uses (
          campaign text NOT NULL,
          channel integer NOT NULL,
          serial integer NOT NULL,
          use_number integer NOT NULL CHECK (use_number BETWEEN 1 AND 255),
          event bigint NOT NULL UNIQUE REFERENCES voucher_events (id),
          PRIMARY KEY (campaign, channel, serial, use_number),
          FOREIGN KEY (campaign, channel, serial) REFERENCES voucher_codes)
        """,
        // One row per committed write transaction, by a token the writer chose: after a
        // connection lost during COMMIT, the token says whether it committed.
        """
        CREATE TABLE voucher_commits (
          token text PRIMARY KEY,
          committed_at timestamptz NOT NULL DEFAULT now())
        """,
      ],
      // 2: what `registry copy` brought in: each file registry's events by journal id and
      // offset, so that a copy run again, or resumed after a kill, skips what it copied.
      [
        """
        CREATE TABLE voucher_imports (
          source text NOT NULL,
          source_offset bigint NOT NULL,
          event bigint NOT NULL UNIQUE REFERENCES voucher_events (id),
          PRIMARY KEY (source, source_offset))
        """
      ],
      // 3: what every till of the chain shares besides events: the campaigns (as their files
      // hold them, with the end date apart so it can change) and the keys' states. Key secrets
      // are never stored here.
      [
        """
        CREATE TABLE voucher_campaigns (
          id text PRIMARY KEY,
          definition text NOT NULL,
          ends text,
          updated_at timestamptz NOT NULL DEFAULT now())
        """,
        """
        CREATE TABLE voucher_key_states (
          slot integer PRIMARY KEY CHECK (slot BETWEEN 0 AND 30),
          state text NOT NULL CHECK (state IN ('active', 'retired', 'revoked')),
          changed_at timestamptz NOT NULL DEFAULT now())
        """,
      ],
      // 4: the prize a claim won (scratch-card prizes), recorded in the claim's own row, so a
      // code's one claim carries its one award.
      [
        "ALTER TABLE voucher_events ADD COLUMN prize text CHECK (prize IS NULL OR kind = 3)"
      ],
    ]
  }
#endif
