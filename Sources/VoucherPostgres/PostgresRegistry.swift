#if PostgreSQL
  import FoundationEssentials
  import Glibc
  import VoucherKit
  import VoucherRegistry

  /// A redemption registry in a PostgreSQL database, for a chain whose tills all reach one
  /// registry: the store contract (`RegistryStore`) over libpq.
  ///
  /// A write batch is one transaction, sent in two pipelined round trips: the first locks each
  /// written code's row (`SELECT ... FOR UPDATE`, in a fixed order), takes event ids and reads the
  /// codes' histories and blocks; the program then asks `RedemptionRules`, the same rules as the
  /// file registry's; the second inserts the events, the live uses and the commit's token, and
  /// commits. Exactly once rests on the primary key of `voucher_uses` (see `Schema`).
  ///
  /// Failures: a serialization failure or deadlock (40001, 40P01) or a constraint that caught a
  /// race is retried a bounded number of times; a lost connection is made again (a server
  /// restart) until the timeout; a connection lost during COMMIT is resolved by the commit's
  /// token, so a batch is answered once, with what was committed, or retried whole.
  public final class PostgresRegistry: RegistryStore {
    /// Where the database is.
    public let target: PGTarget
    /// The campaigns the events belong to.
    let campaigns: CampaignBook
    /// How long to try to reach the server before answering unreachable.
    let timeout: Double
    /// The open connection, made again after it broke.
    private var connection: PGConnection?
    /// The schema version this program reads and writes.
    public static var schemaVersion: Int { Schema.version }

    /// How often a batch is tried before its error is answered.
    static let attempts = 8

    private init(target: PGTarget, campaigns: CampaignBook, timeout: Double) {
      self.target = target
      self.campaigns = campaigns
      self.timeout = timeout
    }

    /// Opens the registry in a database whose schema is this program's version.
    ///
    /// - Parameters:
    ///   - target: The database.
    ///   - campaigns: The campaigns.
    ///   - timeout: Seconds to keep trying to reach the server.
    /// - Throws: `RegistryError/schemaVersion(registry:found:expected:)` when the database has no
    ///   registry (version 0: create one) or another version,
    ///   `RegistryError/unreachable(registry:reason:)`.
    public static func open(_ target: PGTarget, campaigns: CampaignBook, timeout: Double)
      throws(RegistryError) -> PostgresRegistry
    {
      let registry = PostgresRegistry(target: target, campaigns: campaigns, timeout: timeout)
      let found = try registry.schemaVersion() ?? 0
      guard found == Schema.version else {
        throw .schemaVersion(registry: target.description, found: found, expected: Schema.version)
      }
      return registry
    }

    /// Creates the registry's tables in a database that has none.
    ///
    /// - Throws: `RegistryError/alreadyExists(path:)` when it has them.
    public static func create(_ target: PGTarget, timeout: Double) throws(RegistryError) {
      let registry = PostgresRegistry(target: target, campaigns: CampaignBook([]), timeout: timeout)
      guard try registry.schemaVersion() == nil else {
        throw .alreadyExists(path: target.description)
      }
      _ = try registry.migrate()
    }

    /// Brings the schema to this program's version, applying each missing version in its own
    /// transaction (under an advisory lock, so that two at once apply each once).
    ///
    /// - Returns: The versions before and after.
    public static func migrate(_ target: PGTarget, timeout: Double) throws(RegistryError) -> (
      from: Int, to: Int
    ) {
      let registry = PostgresRegistry(target: target, campaigns: CampaignBook([]), timeout: timeout)
      return try registry.migrate()
    }

    private func migrate() throws(RegistryError) -> (from: Int, to: Int) {
      let before = try schemaVersion() ?? 0
      if before > Schema.version {
        throw .schemaVersion(registry: target.description, found: before, expected: Schema.version)
      }
      var version = before
      while version < Schema.version {
        try withConnection { (connection) throws(PGError) in
          try connection.execute("BEGIN")
          do throws(PGError) {
            // One migrator at a time; the version is read again under the lock.
            try connection.execute("SELECT pg_advisory_xact_lock(7436211)")
            let current =
              try connection.execute(
                "SELECT to_regclass('voucher_schema') IS NOT NULL"
              )[0, 0] == "t"
              ? Int(try connection.execute("SELECT max(version) FROM voucher_schema").integer(0, 0))
              : 0
            if current == version {
              for statement in Schema.migrations[version] { try connection.execute(statement) }
              try connection.execute(
                "INSERT INTO voucher_schema (version) VALUES ($1)", [String(version + 1)])
            }
            try connection.execute("COMMIT")
          } catch {
            _ = try? connection.execute("ROLLBACK")
            throw error
          }
        }
        version = try schemaVersion() ?? 0
      }
      return (before, version)
    }

    /// The schema's version, or `nil` when the database has no registry.
    func schemaVersion() throws(RegistryError) -> Int? {
      try withConnection { (connection) throws(PGError) -> Int? in
        guard
          try connection.execute("SELECT to_regclass('voucher_schema') IS NOT NULL")[0, 0] == "t"
        else { return nil }
        return Int(try connection.execute("SELECT max(version) FROM voucher_schema").integer(0, 0))
      }
    }

    // MARK: - The connection

    /// Runs `body` on a connection, making one (again) when there is none or it broke, and
    /// retrying a lost connection, a serialization failure or a deadlock: for work that is safe
    /// to repeat (reads, and writes whose every retry starts a new transaction).
    @discardableResult
    func withConnection<T>(_ body: (PGConnection) throws(PGError) -> T) throws(RegistryError) -> T {
      let deadline = monotonicSeconds() + timeout
      var attempt = 0
      while true {
        attempt += 1
        do {
          return try body(try connect(deadline: deadline))
        } catch {
          if error.isServerGone {
            connection = nil
            guard monotonicSeconds() < deadline else {
              throw .unreachable(registry: target.description, reason: error.description)
            }
          } else if error.isRetryable, attempt < Self.attempts {
            // Rolled back by the server: start again.
          } else {
            throw .database(registry: target.description, reason: error.description)
          }
          pause(attempt)
        }
      }
    }

    /// The open connection, or a new one, trying until `deadline` while the server is away.
    func connect(deadline: Double) throws(PGError) -> PGConnection {
      if let connection, connection.isOpen { return connection }
      connection = nil
      var attempt = 0
      while true {
        attempt += 1
        do {
          let made = try PGConnection(target)
          // Durable before it answers: the server's default, asked for in case it was changed.
          try made.execute("SET synchronous_commit = on")
          connection = made
          return made
        } catch {
          guard error.isServerGone, monotonicSeconds() < deadline else { throw error }
          pause(attempt)
        }
      }
    }

    /// Waits a little longer after each failed attempt (10 ms up to 320 ms).
    func pause(_ attempt: Int) {
      usleep(UInt32(10_000 << min(5, attempt - 1)))
    }

    /// Forgets the connection (after an error that left its state unknown).
    func dropConnection() { connection = nil }

    /// Rolls back the open transaction, if the connection still works; a broken one is dropped
    /// and made again by the next operation.
    func rollBack() {
      guard let connection, connection.isOpen else {
        self.connection = nil
        return
      }
      if (try? connection.execute("ROLLBACK")) == nil { self.connection = nil }
    }

    public func takeWarnings() -> [String] { [] }
  }

  /// Seconds on the monotonic clock.
  func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
  }
#endif
