import Foundation

/// A throwaway PostgreSQL server for the tests: `initdb` and `pg_ctl` in a temporary folder,
/// listening on a Unix socket in that folder only, run as the `postgres` user when the tests run
/// as root (`initdb` refuses root). One server per test process (startup costs seconds), stopped
/// when the process exits; a server left behind by a test process that died is stopped by the
/// next one.
public final class PostgresServer: Sendable {
  /// The folder: `data/` (the cluster), the socket, `log`.
  public let folder: String
  /// The server binaries' folder.
  public let bin: String
  /// The user the server runs as, when the tests run as root.
  let runAs: String?

  /// The one server of this test process, or why there is none (the tests then skip with it).
  public static let shared: Result<PostgresServer, Unavailable> = {
    let made = Result { () throws(Unavailable) in try launch() }
    if case .success = made { atexit { PostgresServer.stopShared() } }
    return made
  }()

  /// A server of one test's own (one that stops and restarts it), stopped with ``stop()``.
  public static func startPrivate() throws(Unavailable) -> PostgresServer { try launch() }

  /// Stops the server and removes its folder.
  public func stop() {
    try? control(["stop", "-D", folder + "/data", "-m", "fast", "-w"])
    try? FileManager.default.removeItem(atPath: folder)
  }

  /// Why there is no server.
  public struct Unavailable: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
  }

  private init(folder: String, bin: String, runAs: String?) {
    self.folder = folder
    self.bin = bin
    self.runAs = runAs
  }

  /// A libpq URI of a database on this server, as the superuser.
  public func uri(database: String) -> String {
    "postgresql:///\(database)?host=\(folder)&user=postgres"
  }

  /// Creates a fresh, empty database and answers its URI.
  public func freshDatabase(_ prefix: String = "t") throws -> String {
    let name =
      "\(prefix)_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(20))"
    try psql("postgres", "CREATE DATABASE \(name)")
    return uri(database: name)
  }

  /// Runs SQL with `psql` (fixed statements of the tests; never input) and answers its output.
  @discardableResult
  public func psql(_ database: String, _ sql: String) throws -> String {
    let result = try Self.run(
      bin + "/psql",
      [
        "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", folder, "-U", "postgres", "-d",
        database,
        "-c", sql,
      ])
    guard result.status == 0 else {
      throw Unavailable(description: "psql failed: \(result.output)")
    }
    return result.output
  }

  /// Stops the server at once, as a crash would (`pg_ctl stop -m immediate`): no checkpoint.
  public func stopImmediately() throws {
    try control(["stop", "-D", folder + "/data", "-m", "immediate", "-w"])
  }

  /// Starts the server (again), waiting until it takes connections.
  public func start() throws {
    try control([
      "start", "-D", folder + "/data", "-l", folder + "/log", "-w", "-t", "60", "-o",
      "-c listen_addresses='' -c unix_socket_directories='\(folder)' -c max_connections=300 -c shared_buffers=64MB",
    ])
  }

  private func control(_ arguments: [String]) throws {
    let result = try Self.run(bin + "/pg_ctl", arguments, as: runAs)
    guard result.status == 0 else {
      throw Unavailable(description: "pg_ctl \(arguments[0]) failed: \(result.output)")
    }
  }

  // MARK: - Starting

  private static func launch() throws(Unavailable) -> PostgresServer {
    do {
      guard let bin = findBinaries() else {
        throw Unavailable(
          description:
            "no PostgreSQL server binaries (initdb, pg_ctl) in /usr/lib/postgresql/*/bin or $VOUCHER_PG_BIN; install Debian's postgresql"
        )
      }
      var runAs: String?
      if getuid() == 0 {
        guard getpwnam("postgres") != nil else {
          throw Unavailable(
            description: "running as root, and there is no 'postgres' user to run initdb as")
        }
        runAs = "postgres"
      }
      stopAbandoned()
      let folder = "/tmp/voucher-pg-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
      try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
      try "\(getpid())\n".write(toFile: folder + "/owner", atomically: true, encoding: .utf8)
      if let runAs, let user = getpwnam(runAs) {
        chown(folder, user.pointee.pw_uid, user.pointee.pw_gid)
      }
      chmod(folder, 0o700)
      let initdb = try run(
        bin + "/initdb",
        [
          "-D", folder + "/data", "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C",
          "--no-sync",
        ],
        as: runAs)
      guard initdb.status == 0 else {
        throw Unavailable(description: "initdb failed: \(initdb.output)")
      }
      let server = PostgresServer(folder: folder, bin: bin, runAs: runAs)
      try server.start()
      return server
    } catch let error as Unavailable {
      throw error
    } catch {
      throw Unavailable(description: "\(error)")
    }
  }

  /// Stops the shared server and removes its folder (at the test process's exit).
  private static func stopShared() {
    guard case .success(let server) = shared else { return }
    server.stop()
  }

  /// Stops servers of earlier test processes that died without stopping theirs.
  private static func stopAbandoned() {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/tmp") else { return }
    for name in names where name.hasPrefix("voucher-pg-") {
      let folder = "/tmp/" + name
      guard let owner = try? String(contentsOfFile: folder + "/owner", encoding: .utf8),
        let pid = pid_t(owner.trimmingCharacters(in: .whitespacesAndNewlines)),
        kill(pid, 0) != 0, errno == ESRCH
      else { continue }
      if let bin = findBinaries() {
        _ = try? run(
          bin + "/pg_ctl", ["stop", "-D", folder + "/data", "-m", "immediate", "-w"],
          as: getuid() == 0 ? "postgres" : nil)
      }
      try? FileManager.default.removeItem(atPath: folder)
    }
  }

  /// The folder of `initdb`, `pg_ctl` and `psql`: `$VOUCHER_PG_BIN`, else the newest
  /// `/usr/lib/postgresql/*/bin`.
  public static func findBinaries() -> String? {
    let has = { (folder: String) in
      ["initdb", "pg_ctl", "psql"].allSatisfy {
        FileManager.default.isExecutableFile(atPath: folder + "/" + $0)
      }
    }
    if let given = ProcessInfo.processInfo.environment["VOUCHER_PG_BIN"], has(given) {
      return given
    }
    let root = "/usr/lib/postgresql"
    let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
      .compactMap(Int.init).sorted(by: >)
    return versions.map { "\(root)/\($0)/bin" }.first(where: has)
  }

  /// Runs a program (as `user` through `runuser` when given) and answers its status and output.
  ///
  /// Spawned and waited for directly (`posix_spawn`, `waitpid`), output through a file: this runs
  /// while the shared server is made, inside a one-time initializer, where `Process` hung.
  public static func run(_ path: String, _ arguments: [String], as user: String? = nil) throws -> (
    status: Int32, output: String
  ) {
    let argv = (user.map { ["/usr/sbin/runuser", "-u", $0, "--", path] } ?? [path]) + arguments
    let log = FileManager.default.temporaryDirectory.appendingPathComponent(
      "voucher-pg-run-\(UUID().uuidString)"
    ).path
    defer { unlink(log) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    var pointers = argv.map { strdup($0) } + [nil]
    defer { for pointer in pointers { free(pointer) } }
    var pid = pid_t()
    let spawned = posix_spawn(&pid, argv[0], &actions, nil, &pointers, environ)
    guard spawned == 0 else {
      throw Unavailable(description: "cannot run \(argv[0]): error \(spawned)")
    }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
    let exited = status & 0x7f == 0
    return (exited ? (status >> 8) & 0xff : 128 + (status & 0x7f), output)
  }
}
