import Dispatch
import Foundation
import Synchronization
import VoucherKit
import VoucherTestSupport

#if canImport(Glibc)
  import Glibc
#endif

/// Where tills and analysts put load, against the peers they would pick instead, each run by
/// the benchmark in the same run: PostgreSQL on a throwaway server started as the tests start
/// one (`pgbench` running the PostgreSQL registry's own event `INSERT`, fsync and synchronous
/// commit on as PostgreSQL ships; `COPY (SELECT ...) TO` of the same rows as CSV), and DuckDB
/// over a Parquet copy of the same events with 2 threads (Python's `duckdb`, when installed).
/// A peer that is missing skips its rows, with a note.
struct PeerBench {
  let scratch: String
  let quick: Bool
  let log: (String) -> Void

  /// The event table the PostgreSQL registry writes (the same columns, checks and index on the
  /// code), and the `INSERT` it makes per redemption.
  static let eventTable = """
    CREATE SEQUENCE voucher_event_ids;
    CREATE TABLE voucher_events (
      id bigint PRIMARY KEY, kind smallint NOT NULL CHECK (kind BETWEEN 1 AND 5),
      time_ms bigint NOT NULL, campaign text NOT NULL, channel integer NOT NULL,
      serial integer NOT NULL, last_serial integer NOT NULL, venue text, store text,
      terminal text, profile text, profile_erased boolean NOT NULL DEFAULT false, request text,
      reason text, undoes bigint, uses_after integer);
    CREATE INDEX voucher_events_code ON voucher_events (campaign, channel, serial, id)
      WHERE kind <= 3;
    """
  static let insert = """
    \\set s random(1, 2000000000)
    INSERT INTO voucher_events (id, kind, time_ms, campaign, channel, serial, last_serial, venue, store, uses_after) VALUES (nextval('voucher_event_ids'), 1, 0, 'pgbench', 0, :s, :s, 'store', 'S1', 1);

    """

  /// The server's rows (8 clients with 1 and with 256 requests in flight, verify with 256) and
  /// a `redeem -` stream, against `pgbench -c 8` and `-c 1`.
  func serveRows(voucher: String) throws -> [Row] {
    guard let postgres = startPostgres() else { return [] }
    defer { postgres.stop() }
    let database = try eventDatabase(postgres, "peers")
    let seconds = quick ? 5 : 10
    log("pgbench -c 8 and -c 1, \(seconds) s each")
    let bench8 = try pgbench(postgres, database, clients: 8, seconds: seconds)
    let bench1 = try pgbench(postgres, database, clients: 1, seconds: seconds)

    let clients = 8
    let single = quick ? 1_500 : 15_000
    let windowed = quick ? 5_000 : 50_000
    let verifies = quick ? 20_000 : 200_000
    let streamed = quick ? 20_000 : 200_000
    let (home, issuer) = try makeHome(
      "peers", capacity: clients * (single + windowed) + streamed + 1_000)
    let socket = scratch + "/peers.sock"
    let server = Process()
    server.executableURL = URL(fileURLWithPath: voucher)
    server.arguments = ["--home", home.path, "serve", "--socket", socket]
    server.standardOutput = FileHandle.nullDevice
    server.standardError = FileHandle.nullDevice
    try server.run()
    defer {
      kill(server.processIdentifier, SIGTERM)
      server.waitUntilExit()
    }
    while !FileManager.default.fileExists(atPath: socket) { usleep(5_000) }

    func redeem(_ serial: Int) -> String {
      "{\"id\":\(serial),\"op\":\"redeem\",\"code\":\"\(issuer.code(channel: 0, serial: serial))\",\"store\":\"S1\"}\n"
    }
    log("serve: 8 clients with 1 redemption in flight each, then 256")
    let one = try socketLoad(socket, clients: clients, window: 1, expect: "\"redeemed\"") {
      client in (0..<single).map { redeem(client * single + $0 + 1) }
    }
    let offset = clients * single
    let many = try socketLoad(socket, clients: clients, window: 256, expect: "\"redeemed\"") {
      client in (0..<windowed).map { redeem(offset + client * windowed + $0 + 1) }
    }
    precondition(
      one.matched == clients * single && many.matched == clients * windowed,
      "serve redeemed \(one.matched + many.matched) of \(clients * (single + windowed))")
    log("serve: 8 clients verifying with 256 in flight each")
    let verifyLines = (0..<256).map {
      "{\"id\":\($0),\"op\":\"verify\",\"code\":\"\(issuer.code(channel: 0, serial: $0 + 1))\",\"at\":\"store\"}\n"
    }
    let verify = try socketLoad(socket, clients: clients, window: 256, expect: "\"used-up\"") {
      _ in Array(repeating: verifyLines, count: verifies / 256).flatMap { $0 }
    }
    precondition(verify.matched == clients * (verifies / 256) * 256, "verify answers went missing")

    // One client streaming codes: `redeem -` reading them from a file.
    let codes = scratch + "/peers-stream.txt"
    let first = offset + clients * windowed + 1
    try (first..<first + streamed).map { issuer.code(channel: 0, serial: $0).description + "\n" }
      .joined().write(toFile: codes, atomically: true, encoding: .utf8)
    log("redeem -: \(streamed) codes from one stream")
    let stream = runProcess(
      voucher, ["--home", home.path, "redeem", "-", "--store", "S2"], input: codes)
    precondition(stream.status == 0, "redeem - did not redeem every code")
    let streamRate = Double(streamed) / stream.seconds

    return [
      Row(
        metric: "serve: 8 clients, 1 in flight each, durable redeems/s", ours: one.rate,
        oursUnit: "redeems/s", baseline: bench8, baselineName: "pgbench -c 8, same INSERT, tps",
        ratio: one.rate / bench8, target: ">= 2", met: one.rate / bench8 >= 2),
      Row(
        metric: "serve: 8 clients, 256 in flight each, durable redeems/s", ours: many.rate,
        oursUnit: "redeems/s", baseline: bench8, baselineName: "pgbench -c 8, same INSERT, tps",
        ratio: many.rate / bench8, target: ">= 6", met: many.rate / bench8 >= 6),
      Row(
        metric: "serve: verify, 8 clients, 256 in flight each", ours: verify.rate,
        oursUnit: "verifies/s", baseline: 500_000, baselineName: "target, /s",
        ratio: verify.rate / 500_000, target: ">= 500,000/s", met: verify.rate >= 500_000),
      Row(
        metric: "redeem -: one client streaming codes, durable", ours: streamRate,
        oursUnit: "redeems/s", baseline: bench1, baselineName: "pgbench -c 1, same INSERT, tps",
        ratio: streamRate / bench1, target: ">= 5", met: streamRate / bench1 >= 5),
    ]
  }

  /// A report by channel against DuckDB over a Parquet copy of the same events (2 threads), and
  /// an export as CSV against PostgreSQL's `COPY (SELECT ...) TO` of the same rows as CSV.
  func analystRows(voucher: String, big: VoucherHome, largeName: String) throws -> [Row] {
    let runs = quick ? 1 : 3
    let csv = scratch + "/peers-events.csv"
    log("exporting the \(largeName) events as CSV for the peers")
    precondition(
      runProcess(voucher, ["--home", big.path, "export", "--format", "csv"], output: csv).status
        == 0, "export failed")
    func ours(_ arguments: [String]) -> Double {
      median(
        (0..<runs).map { _ in
          let run = runProcess(voucher, ["--home", big.path] + arguments)
          precondition(run.status == 0, "\(arguments[0]) failed")
          return run.seconds
        })
    }
    var rows: [Row] = []

    if let duckdb = duckDBSeconds(csv: csv, runs: runs) {
      let report = ours(["report", "--format", "json"])
      rows.append(
        Row(
          metric: "report by channel vs DuckDB, \(largeName) events", ours: report,
          oursUnit: "s", baseline: duckdb, baselineName: "DuckDB over Parquet, 2 threads, s",
          ratio: report / duckdb, target: "<= 1", met: report <= duckdb))
    }

    guard let postgres = startPostgres() else { return rows }
    defer { postgres.stop() }
    let uri = try postgres.freshDatabase("copy")
    let database = URL(string: uri)!.lastPathComponent
    try postgres.psql(
      database,
      """
      CREATE TABLE events (
        event text, time timestamptz, campaign text, channel text, serial integer,
        last_serial integer, code text, venue text, store text, terminal text, profile text,
        profile_erased boolean, request text, reason text, id bigint, undoes bigint, prize text)
      """)
    log("loading the \(largeName) events into PostgreSQL")
    let psql = postgres.bin + "/psql"
    let connection = ["-X", "-q", "-h", postgres.folder, "-U", "postgres", "-d", database]
    let load = runProcess(
      psql, connection + ["-c", "COPY events FROM STDIN (FORMAT csv, HEADER)"], input: csv)
    precondition(load.status == 0, "COPY FROM failed")
    try postgres.psql(database, "VACUUM ANALYZE events")
    var copies: [Double] = []
    var exports: [Double] = []
    for _ in 0..<runs {
      let copy = runProcess(
        psql,
        connection + [
          "-c", "SET TIME ZONE 'UTC'", "-c",
          "COPY (SELECT * FROM events) TO STDOUT (FORMAT csv, HEADER)",
        ])
      precondition(copy.status == 0, "COPY TO failed")
      copies.append(copy.seconds)
      exports.append(ours(["export", "--format", "csv"]))
    }
    let export = median(exports)
    let copy = median(copies)
    rows.append(
      Row(
        metric: "export (csv) vs PostgreSQL COPY, \(largeName) events", ours: export,
        oursUnit: "s", baseline: copy, baselineName: "COPY (SELECT ...) TO STDOUT CSV, s",
        ratio: export / copy, target: "<= 0.5", met: export / copy <= 0.5))
    return rows
  }

  // MARK: - The peers

  private func startPostgres() -> PostgresServer? {
    do {
      return try PostgresServer.startPrivate()
    } catch {
      log("no PostgreSQL server (\(error)); its rows are skipped")
      return nil
    }
  }

  /// A fresh database holding the registry's event table; answers its name.
  private func eventDatabase(_ server: PostgresServer, _ prefix: String) throws -> String {
    let database = URL(string: try server.freshDatabase(prefix))!.lastPathComponent
    try server.psql(database, Self.eventTable)
    return database
  }

  /// Transactions per second of `pgbench` running the registry's event INSERT.
  private func pgbench(_ server: PostgresServer, _ database: String, clients: Int, seconds: Int)
    throws -> Double
  {
    let script = scratch + "/peers-insert.sql"
    try Self.insert.write(toFile: script, atomically: true, encoding: .utf8)
    let result = try PostgresServer.run(
      server.bin + "/pgbench",
      [
        "-n", "-c", "\(clients)", "-j", "\(min(clients, 2))", "-T", "\(seconds)", "-f", script,
        "-h", server.folder, "-U", "postgres", database,
      ])
    guard result.status == 0,
      let line = result.output.split(separator: "\n").first(where: { $0.hasPrefix("tps = ") }),
      let tps = Double(line.dropFirst(6).prefix { $0 != " " })
    else {
      throw PostgresServer.Unavailable(description: "pgbench failed: \(result.output)")
    }
    return tps
  }

  /// The median seconds of DuckDB's count by campaign, channel and event over a Parquet copy of
  /// the events, in one Python process with 2 threads (the copy is made first, untimed); `nil`
  /// when Python's duckdb is missing.
  private func duckDBSeconds(csv: String, runs: Int) -> Double? {
    // The first python3 on PATH, as CI installs duckdb for it with pip.
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin"
    let python = (path.split(separator: ":").map { "\($0)/python3" } + ["/usr/bin/python3"])
      .first { FileManager.default.isExecutableFile(atPath: $0) }
    guard let python else {
      log("no python3: the DuckDB row is skipped")
      return nil
    }
    let script = scratch + "/peers-duckdb.py"
    let answer = scratch + "/peers-duckdb.txt"
    let text = """
      import sys, time
      try:
          import duckdb
      except ImportError:
          open(sys.argv[3], "w").write("missing"); sys.exit(0)
      csv, parquet, out, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
      db = duckdb.connect()
      db.execute("SET threads TO 2")
      db.execute(f"COPY (SELECT * FROM read_csv_auto('{csv}')) TO '{parquet}' (FORMAT parquet)")
      times = []
      for _ in range(runs):
          start = time.perf_counter()
          db.execute(f"SELECT campaign, channel, event, count(*) FROM '{parquet}' GROUP BY ALL").fetchall()
          times.append(time.perf_counter() - start)
      times.sort()
      open(out, "w").write(str(times[len(times) // 2]))
      """
    guard (try? text.write(toFile: script, atomically: true, encoding: .utf8)) != nil else {
      return nil
    }
    log("DuckDB: the events as Parquet, then the count by channel")
    let run = runProcess(
      python, [script, csv, scratch + "/peers-events.parquet", answer, String(runs)])
    let result = (try? String(contentsOfFile: answer, encoding: .utf8)) ?? ""
    guard run.status == 0, let seconds = Double(result) else {
      log(
        result == "missing"
          ? "no duckdb for python3 (pip install duckdb): the DuckDB row is skipped"
          : "DuckDB failed: the DuckDB row is skipped")
      return nil
    }
    return seconds
  }

  // MARK: - Load

  /// A home with one campaign of `capacity` codes, and its issuer.
  private func makeHome(_ name: String, capacity: Int) throws -> (VoucherHome, Issuer) {
    let home = VoucherHome(scratch + "/" + name)
    try KeyRing.generate(in: home.keys, now: Date())
    let ring = try KeyRing.load(from: home.keys)
    var spec = CampaignSpec(id: CampaignID(name)!, channels: [ChannelID("web")!])
    spec.capacity = capacity
    let campaign = try home.campaignStore.add(spec, keyRing: ring, now: Date())
    return (home, try Issuer(campaign: campaign, keyRing: ring))
  }

  /// `clients` clients on a Unix socket, each sending its lines in windows of `window` and
  /// reading every answer of a window before sending the next; the lines are made before the
  /// clock starts and the answers are counted as bytes, so the clients cost little beside the
  /// server. Answers the requests per second and how many answers contained `expect`.
  private func socketLoad(
    _ socket: String, clients: Int, window: Int, expect: String,
    lines: (_ client: Int) -> [String]
  ) throws -> (rate: Double, matched: Int) {
    let prepared = (0..<clients).map { client in
      chunked(lines(client), window).map { (bytes: Array($0.joined().utf8), count: $0.count) }
    }
    let pattern = Array(expect.utf8)
    let matched = Mutex(0)
    let answered = Mutex(0)
    let group = DispatchGroup()
    let started = now()
    for client in 0..<clients {
      group.enter()
      let mine = prepared[client]
      DispatchQueue(label: "bench.peers.\(client)").async {
        defer { group.leave() }
        guard let connection = try? RawSocket(path: socket) else { return }
        var found = 0
        var lines = 0
        for (bytes, count) in mine {
          guard connection.send(bytes) else { return }
          let (got, hits) = connection.readLines(count, matching: pattern)
          lines += got
          found += hits
          if got < count { break }
        }
        matched.withLock { $0 += found }
        answered.withLock { $0 += lines }
      }
    }
    group.wait()
    let seconds = now() - started
    return (Double(answered.withLock { $0 }) / seconds, matched.withLock { $0 })
  }

  private func chunked(_ lines: [String], _ size: Int) -> [ArraySlice<String>] {
    stride(from: 0, to: lines.count, by: size).map { lines[$0..<min(lines.count, $0 + size)] }
  }
}

/// A client of a Unix socket that counts answer lines, and lines containing a pattern, as bytes.
final class RawSocket {
  private let fd: Int32
  private var partial: [UInt8] = []
  private var buffer = [UInt8](repeating: 0, count: 1 << 16)

  init(path: String) throws {
    fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
      for (index, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[index] = byte }
    }
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
      }
    }
    guard connected == 0 else {
      close(fd)
      throw BenchError("cannot connect to \(path)")
    }
  }

  deinit { close(fd) }

  func send(_ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { raw in
      var done = 0
      while done < raw.count {
        let n = Glibc.send(fd, raw.baseAddress! + done, raw.count - done, Int32(MSG_NOSIGNAL))
        if n <= 0 { return false }
        done += n
      }
      return true
    }
  }

  /// Reads until `count` whole lines have come (or the server closes): how many came, and how
  /// many of them contain `pattern`.
  func readLines(_ count: Int, matching pattern: [UInt8]) -> (lines: Int, matches: Int) {
    var lines = 0
    var matches = 0
    while lines < count {
      let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      if n <= 0 { break }
      var start = 0
      for index in 0..<n where buffer[index] == 0x0A {
        let found: Bool
        if partial.isEmpty {
          found = Self.contains(buffer[start..<index], pattern)
        } else {
          partial += buffer[start..<index]
          found = Self.contains(partial[...], pattern)
          partial.removeAll(keepingCapacity: true)
        }
        lines += 1
        if found { matches += 1 }
        start = index + 1
      }
      partial += buffer[start..<n]
    }
    return (lines, matches)
  }

  private static func contains(_ line: ArraySlice<UInt8>, _ pattern: [UInt8]) -> Bool {
    guard let first = pattern.first, line.count >= pattern.count else { return false }
    var index = line.startIndex
    while index + pattern.count <= line.endIndex {
      if line[index] == first && line[index..<index + pattern.count].elementsEqual(pattern) {
        return true
      }
      index += 1
    }
    return false
  }
}
