#if PostgreSQL
  import Foundation
  import Testing
  import VoucherPostgres
  import VoucherTestSupport

  @testable import VoucherKit
  @testable import VoucherRegistry

  @Suite("Hostile strings reach PostgreSQL only as parameters")
  struct PostgresHostileTests {
    @Test(
      "every naughty string as a void reason, a block reason and (where the grammar allows) every id: stored and read back byte for byte, no statement changed"
    )
    func hostileFields() throws {
      let fixture = try Fixture(capacity: 10_000)
      defer { fixture.remove() }
      let uri = try PostgresStoreKind.database(of: fixture)
      let server = try #require(try? PostgresServer.shared.get())
      let database = try #require(URL(string: uri)?.lastPathComponent)
      // A canary an injected statement would drop or change.
      try server.psql(database, "CREATE TABLE canary (n integer); INSERT INTO canary VALUES (42)")
      let store = try PostgresStoreKind().open(fixture)
      let strings = try TestData.naughtyStrings()
      var recorded = 0
      var ids = 0
      for (index, text) in strings.enumerated() {
        let voucher = try fixture.voucher(index + 1)
        // Ids take only A-Z a-z 0-9 . _ : -: the strings their grammar accepts go through too.
        let storeID = try? StoreID(text)
        let profile = try? ProfileID(text)
        let request = try? RequestID(text)
        ids += [storeID != nil, profile != nil, request != nil].filter { $0 }.count
        guard
          case .redeemed(let receipt, false) = try store.redeem(
            voucher, store: storeID ?? StoreID("S1"), terminal: try? TerminalID(text),
            profile: profile, request: request, now: fixture.now)
        else { throw TestFailure("not redeemed: \(text)") }
        #expect(receipt.store?.rawValue == storeID?.rawValue ?? "S1")
        recorded += 1
        guard let reason = try? Reason(text) else { continue }
        guard case .voided = try store.void(voucher, reason: reason, now: fixture.now) else {
          throw TestFailure("not voided: \(text)")
        }
        try store.block(
          campaign: fixture.campaign, channel: ChannelID("receipt")!,
          serials: (index + 1)...(index + 1),
          reason: reason, unblock: false, now: fixture.now)
        recorded += 2
        let history = try store.history(of: voucher)
        #expect(history.map(\.kind) == [.redeemed, .voided])
        #expect(history[1].reason == text, "\(Array(text.utf8))")
        if let profile { #expect(history[0].profile == profile.rawValue) }
        let other = try fixture.voucher(index + 1, channel: 1)
        #expect(try store.peek(other).block?.reason == text)
      }
      #expect(ids > 0 && recorded > strings.count)
      var events = 0
      try store.forEachEvent { _ in events += 1 }
      #expect(events == recorded)
      #expect(
        try server.psql(database, "SELECT n FROM canary")
          .trimmingCharacters(in: .whitespacesAndNewlines)
          == "42")
      #expect(try store.check().damage.isEmpty)
    }
  }
#endif

#if PostgreSQL
  import Synchronization

  @Suite("A connection lost during COMMIT")
  struct PostgresCommitTests {
    @Test(
      "the backend killed while its COMMIT runs: the batch is resolved by its token and answered once, recorded once"
    )
    func lostDuringCommit() throws {
      let fixture = try Fixture()
      defer { fixture.remove() }
      let uri = try PostgresStoreKind.database(of: fixture)
      let server = try #require(try? PostgresServer.shared.get())
      let database = try #require(URL(string: uri)?.lastPathComponent)
      // A deferred trigger makes every COMMIT that records a batch wait a second: time enough to
      // kill the backend from outside while its COMMIT is under way.
      try server.psql(
        database,
        """
        CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS
          $$ BEGIN PERFORM pg_sleep(1); RETURN NULL; END $$;
        CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON voucher_commits
          DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit();
        """)
      let store = try PostgresStoreKind().open(fixture)
      let voucher = try fixture.voucher(5)
      let killed = Atomic(false)
      let killer = Thread {
        // The first backend seen sleeping in the trigger is terminated.
        for _ in 0..<100 {
          usleep(50_000)
          let done = try? server.psql(
            database,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND datname = current_database()"
          )
          if done?.contains("t") == true {
            killed.store(true, ordering: .relaxed)
            return
          }
        }
      }
      killer.start()
      let answer = try store.redeem(
        voucher, store: StoreID("S1"), request: RequestID("till-1:7"), now: fixture.now)
      while !killer.isFinished { usleep(10_000) }
      let terminated = killed.load(ordering: .relaxed)
      #expect(terminated)
      guard case .redeemed(_, false) = answer else {
        throw TestFailure("answered \(answer), not one fresh redemption")
      }
      #expect(
        try server.psql(database, "SELECT count(*) FROM voucher_events WHERE kind = 1")
          .trimmingCharacters(in: .whitespacesAndNewlines) == "1")
      #expect(try store.status(of: voucher).uses == 1)
    }
  }
#endif

#if PostgreSQL
  @Suite("Serialization failures and deadlocks")
  struct PostgresRetryTests {
    /// A trigger that fails the first `failures` write transactions, alternately with a
    /// serialization failure (40001) and a deadlock (40P01); a sequence counts them, since it
    /// is not rolled back with them.
    func failing(_ failures: Int, _ fixture: Fixture) throws -> (any RegistryStore, String) {
      let uri = try PostgresStoreKind.database(of: fixture)
      let server = try #require(try? PostgresServer.shared.get())
      let database = try #require(URL(string: uri)?.lastPathComponent)
      try server.psql(
        database,
        """
        CREATE SEQUENCE failures;
        CREATE FUNCTION fail_first() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE n bigint := nextval('failures');
        BEGIN
          IF n <= \(failures) THEN
            RAISE EXCEPTION 'injected' USING ERRCODE = CASE WHEN n % 2 = 1 THEN '40001' ELSE '40P01' END;
          END IF;
          RETURN NULL;
        END $$;
        CREATE TRIGGER fail_first AFTER INSERT ON voucher_commits FOR EACH ROW EXECUTE FUNCTION fail_first();
        """)
      return (try PostgresStoreKind().open(fixture), database)
    }

    @Test("40001 then 40P01: the batch is run again and answered once, recorded once")
    func retried() throws {
      let fixture = try Fixture()
      defer { fixture.remove() }
      let (store, database) = try failing(2, fixture)
      let voucher = try fixture.voucher(9)
      guard
        case .redeemed(_, false) = try store.redeem(voucher, store: StoreID("S1"), now: fixture.now)
      else { throw TestFailure("not redeemed") }
      let server = try #require(try? PostgresServer.shared.get())
      #expect(
        try server.psql(
          database,
          "SELECT count(*) || ' ' || (SELECT last_value FROM failures) FROM voucher_events"
        )
        .trimmingCharacters(in: .whitespacesAndNewlines) == "1 3")
    }

    @Test("failing every time: given up after a bounded number of tries, nothing recorded")
    func bounded() throws {
      let fixture = try Fixture()
      defer { fixture.remove() }
      let (store, database) = try failing(1_000, fixture)
      let voucher = try fixture.voucher(9)
      #expect(throws: RegistryError.self) {
        _ = try store.redeem(voucher, store: StoreID("S1"), now: fixture.now)
      }
      let server = try #require(try? PostgresServer.shared.get())
      #expect(
        try server.psql(
          database,
          "SELECT count(*) || ' ' || (SELECT last_value FROM failures) FROM voucher_events"
        )
        .trimmingCharacters(in: .whitespacesAndNewlines) == "0 8")
      #expect(try store.status(of: voucher).uses == 0)
    }
  }
#endif
