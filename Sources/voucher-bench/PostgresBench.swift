#if PostgreSQL
  import Dispatch
  import Foundation
  import Synchronization
  import VoucherKit
  import VoucherTestSupport

  #if canImport(Glibc)
    import Glibc
  #endif

  /// The PostgreSQL registry's rows, on a throwaway server of the benchmark's own (fsync and
  /// synchronous commit on, as PostgreSQL ships): `serve` with 8 clients against `pgbench -c 8`
  /// running the registry's own event INSERT with the same durability; one CLI process per
  /// redemption against `pgbench -c 1`; report and export against the file registry with the
  /// same events.
  struct PostgresBench {
    let scratch: String
    let quick: Bool
    let log: (String) -> Void

    func rows() throws -> [Row] {
      let products = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
      let voucher = products + "/voucher"
      guard FileManager.default.isExecutableFile(atPath: voucher) else {
        log("voucher not built beside voucher-bench; skipping the PostgreSQL rows")
        return []
      }
      let server: PostgresServer
      do {
        server = try PostgresServer.startPrivate()
      } catch {
        log("no PostgreSQL server (\(error)); skipping the PostgreSQL rows")
        return []
      }
      defer { server.stop() }
      guard FileManager.default.isExecutableFile(atPath: server.bin + "/pgbench") else {
        log("no pgbench in \(server.bin); skipping the PostgreSQL rows")
        return []
      }
      log("PostgreSQL server in \(server.folder)")
      var rows: [Row] = []

      // A home whose campaign the PostgreSQL registry shares.
      let home = VoucherHome(scratch + "/pg")
      try KeyRing.generate(in: home.keys, now: Date())
      let ring = try KeyRing.load(from: home.keys)
      var spec = CampaignSpec(id: CampaignID("bench")!, channels: [ChannelID("web")!])
      spec.capacity = 10_000_000
      let campaign = try home.campaignStore.add(spec, keyRing: ring, now: Date())
      let issuer = try Issuer(campaign: campaign, keyRing: ring)
      let uri = try server.freshDatabase("bench")
      let database = URL(string: uri)!.lastPathComponent
      precondition(
        runProcess(voucher, ["--home", home.path, "--registry", uri, "registry", "init"]).status
          == 0,
        "registry init failed")

      // pgbench: the registry's event INSERT, one durable commit per transaction.
      let script = scratch + "/insert.sql"
      try """
      \\set s random(1, 2000000000)
      INSERT INTO voucher_events (id, kind, time_ms, campaign, channel, serial, last_serial, venue, store, uses_after) VALUES (nextval('voucher_event_ids'), 1, 0, 'pgbench', 0, :s, :s, 'store', 'S1', 1);

      """.write(toFile: script, atomically: true, encoding: .utf8)
      func pgbench(clients: Int, seconds: Int) throws -> Double {
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

      // serve with 8 clients, each keeping a window of requests in flight.
      let clients = 8
      let perClient = quick ? 2_000 : 20_000
      let socket = scratch + "/pg-serve.sock"
      let environment = ProcessInfo.processInfo.environment.merging(["VOUCHER_REGISTRY": uri]) {
        $1
      }
      let serve = Process()
      serve.executableURL = URL(fileURLWithPath: voucher)
      serve.arguments = ["--home", home.path, "serve", "--socket", socket]
      serve.environment = environment
      serve.standardOutput = FileHandle.nullDevice
      serve.standardError = FileHandle.nullDevice
      try serve.run()
      while !FileManager.default.fileExists(atPath: socket) { usleep(5_000) }
      log("serving \(clients * perClient) redemptions to \(clients) clients on PostgreSQL")
      let redeemed = Mutex(0)
      let group = DispatchGroup()
      let started = now()
      for client in 0..<clients {
        let lines = (0..<perClient).map { index -> String in
          let serial = client * perClient + index + 1
          return
            "{\"id\":\(serial),\"op\":\"redeem\",\"code\":\"\(issuer.code(channel: 0, serial: serial))\",\"store\":\"S\(client)\"}\n"
        }
        group.enter()
        DispatchQueue(label: "bench.pg.\(client)").async {
          defer { group.leave() }
          guard let connection = try? SocketClient(path: socket) else { return }
          var sent = 0
          var count = 0
          while sent < lines.count {
            let chunk = lines[sent..<min(lines.count, sent + 64)]
            connection.send(chunk.joined())
            for answer in connection.lines(chunk.count)
            where answer.contains("\"status\":\"redeemed\"") { count += 1 }
            sent += chunk.count
          }
          redeemed.withLock { $0 += count }
        }
      }
      group.wait()
      let serveRate = Double(redeemed.withLock { $0 }) / (now() - started)
      kill(serve.processIdentifier, SIGTERM)
      serve.waitUntilExit()
      precondition(
        redeemed.withLock { $0 } == clients * perClient, "serve on PostgreSQL missed some")
      log("pgbench -c 8")
      let bench8 = try pgbench(clients: 8, seconds: quick ? 5 : 15)
      rows.append(
        Row(
          metric: "PostgreSQL: serve, 8 clients, durable redemptions/s", ours: serveRate,
          oursUnit: "redeems/s", baseline: bench8,
          baselineName: "pgbench -c 8, same INSERT, tps", ratio: serveRate / bench8,
          target: ">= 0.8", met: serveRate / bench8 >= 0.8))

      // One CLI process per redemption against pgbench with one client.
      let processes = quick ? 40 : 200
      log("redeeming \(processes) codes with one voucher process each")
      let first = clients * perClient + 1
      let cliSeconds = time {
        for serial in first..<(first + processes) {
          let run = runProcess(
            "/usr/bin/env",
            [
              "VOUCHER_REGISTRY=\(uri)", voucher, "--home", home.path, "redeem",
              issuer.code(channel: 0, serial: serial).description, "--store", "S1",
            ])
          precondition(run.status == 0, "voucher redeem on PostgreSQL failed")
        }
      }
      let cliRate = Double(processes) / cliSeconds
      log("pgbench -c 1")
      let bench1 = try pgbench(clients: 1, seconds: quick ? 5 : 15)
      rows.append(
        Row(
          metric: "PostgreSQL: one voucher process per redemption", ours: cliRate,
          oursUnit: "redeems/s", baseline: bench1, baselineName: "pgbench -c 1, tps",
          ratio: cliRate / bench1, target: "reported", met: true))

      rows += try reportRows(voucher: voucher, server: server)
      return rows
    }

    /// Report and export of the same events from the file registry and from PostgreSQL (copied
    /// in with `registry copy`).
    func reportRows(voucher: String, server: PostgresServer) throws -> [Row] {
      let events = quick ? 100_000 : 1_000_000
      let name = quick ? "100,000" : "1,000,000"
      log("building a file registry of \(name) events and copying it into PostgreSQL")
      let (home, _, _) = try RegistryBench(scratch: scratch, quick: quick, log: log).makeHome(
        "pg-report", capacity: events + 1_000, redeemed: events)
      let uri = try server.freshDatabase("report")
      precondition(
        runProcess(voucher, ["--home", home.path, "--registry", uri, "registry", "init"]).status
          == 0)
      let copy = runProcess(voucher, ["--home", home.path, "registry", "copy", "--to", uri])
      precondition(copy.status == 0, "registry copy failed")
      _ = try server.psql(URL(string: uri)!.lastPathComponent, "VACUUM ANALYZE")
      var rows = [
        Row(
          metric: "PostgreSQL: registry copy of \(name) events",
          ours: Double(events) / copy.seconds,
          oursUnit: "events/s", baseline: Double(events), baselineName: "events",
          ratio: copy.seconds, target: "reported (ratio: seconds)", met: true)
      ]
      for (what, arguments) in [
        ("report", ["report"]), ("export", ["export", "--format", "jsonl"]),
      ] {
        var file: [Double] = []
        var database: [Double] = []
        for _ in 0..<3 {
          file.append(runProcess(voucher, ["--home", home.path] + arguments).seconds)
          database.append(
            runProcess(voucher, ["--home", home.path, "--registry", uri] + arguments).seconds)
        }
        rows.append(
          Row(
            metric: "PostgreSQL: \(what) of \(name) events, median", ours: median(database),
            oursUnit: "s", baseline: median(file), baselineName: "file registry, s",
            ratio: median(database) / median(file), target: "reported (lower is better)",
            met: true))
      }
      return rows
    }
  }
#endif
