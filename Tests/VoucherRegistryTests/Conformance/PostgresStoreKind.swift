#if PostgreSQL
  import Foundation
  import Synchronization
  import Testing
  import VoucherPostgres
  import VoucherRegistry
  import VoucherTestSupport

  /// A PostgreSQL registry on the test run's throwaway server: one fresh database per fixture
  /// home, its schema made by ``PostgresRegistry/create(_:timeout:)``. Skipped, with the reason,
  /// where the server binaries are missing.
  struct PostgresStoreKind: StoreKind {
    var testDescription: String { "PostgreSQL registry" }

    /// The database of each fixture home.
    private static let databases = Mutex([String: String]())

    func open(_ fixture: Fixture) throws -> any RegistryStore {
      try PostgresRegistry.open(
        try PGTarget(Self.database(of: fixture)), campaigns: fixture.book, timeout: 10)
    }

    /// The URI of the fixture's database, made on first use.
    static func database(of fixture: Fixture) throws -> String {
      let server: PostgresServer
      switch PostgresServer.shared {
      case .success(let running): server = running
      case .failure(let reason): try Test.cancel("no PostgreSQL server: \(reason)")
      }
      return try databases.withLock { made in
        if let uri = made[fixture.home.path] { return uri }
        let uri = try server.freshDatabase("conformance")
        try PostgresRegistry.create(try PGTarget(uri), timeout: 10)
        made[fixture.home.path] = uri
        return uri
      }
    }
  }
#endif
