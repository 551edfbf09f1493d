#if PostgreSQL
  import Foundation
  import Synchronization
  import Testing
  import VoucherTestSupport

  #if canImport(Glibc)
    import Glibc
  #endif

  @Suite("A PostgreSQL registry under concurrent load and crashes", .serialized)
  struct PostgresLoadTests {
    @Test(
      "16 CLI processes and two serve processes redeem overlapping single-use codes through one PostgreSQL: each exactly once"
    )
    func race() throws {
      let server = try postgresServer()
      let pg = try PostgresHome(server: server)
      defer { pg.remove() }
      let codes = pg.issue(count: 240)
      try #require(codes.count == 240)
      let tally = Tally()
      let failures = Mutex([String]())
      DispatchQueue.concurrentPerform(iterations: 18) { worker in
        var random = SeededGenerator(seed: UInt64(worker + 1))
        if worker < 16 {
          // Each CLI process redeems 30 of the codes: every code is tried by two on average.
          for code in codes.shuffled(using: &random).prefix(30) {
            let outcome = pg.run("redeem", code, "--store", "S\(worker)")
            if outcome.status == 0 && outcome.stdout.contains("  redeemed  ") {
              tally.add(code)
            } else if !(outcome.status == 1 && outcome.stdout.contains("  used-up  ")) {
              failures.withLock {
                $0.append("\(outcome.status) \(outcome.stdout) \(outcome.stderr)")
              }
            }
          }
        } else {
          // Each serve process is sent every code, in its own order, in one stream.
          let lines = codes.shuffled(using: &random).map {
            "{\"op\":\"redeem\",\"code\":\"\($0)\",\"store\":\"W\(worker)\"}\n"
          }
          let outcome = pg.run("serve", "--stdio", stdin: Data(lines.joined().utf8))
          for answer in outcome.stdoutLines.compactMap(decode) {
            switch answer["status"]?.string {
            case "redeemed": tally.add(answer["code"]?.string ?? "?")
            case "used-up": break
            default: failures.withLock { $0.append("serve: \(answer)") }
            }
          }
          if outcome.stdoutLines.count != codes.count {
            failures.withLock {
              $0.append("serve answered \(outcome.stdoutLines.count): \(outcome.stderr)")
            }
          }
        }
      }
      #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0.prefix(5) })")
      let counts = tally.counts.withLock { $0 }
      #expect(codes.allSatisfy { counts[$0] == 1 }, "\(counts.filter { $0.value != 1 })")
      #expect(counts.count == codes.count)
      let uses = try server.psql(pg.database, "SELECT count(*) FROM voucher_uses")
      #expect(uses.trimmingCharacters(in: .whitespacesAndNewlines) == "240")
      #expect(pg.run("registry", "check").status == 0)
    }

    @Test(
      "kill -9 of voucher processes and pg_ctl stop -m immediate under load: nothing acknowledged lost or doubled, clients reconnect"
    )
    func crashes() throws {
      let server: PostgresServer
      do {
        server = try PostgresServer.startPrivate()
      } catch {
        try Test.cancel("no PostgreSQL server: \(error)")
      }
      defer { server.stop() }
      let pg = try PostgresHome(server: server)
      defer { pg.remove() }
      let codes = pg.issue(count: 300)
      try #require(codes.count == 300)
      let environment = ["VOUCHER_REGISTRY": pg.uri, "VOUCHER_LOCK_TIMEOUT": "30"]
      let children = Children()
      let serving = Children()
      let scratch = pg.home.path + "/load"
      try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
      // code → the requests acknowledged as redeemed (first answers, or replays of an answer
      // that was lost with its process).
      let acknowledged = Mutex([String: [String]]())
      let failures = Mutex([String]())
      let done = Atomic(0)

      // A serve process on a socket, never killed: its connection to the server must come back.
      let socket = scratch + "/serve.sock"
      let serve = try #require(
        serving.spawn(
          voucherBinary, ["--home", pg.home.path, "serve", "--socket", socket],
          stderr: scratch + "/serve.err", environment: environment))
      defer {
        kill(serve, SIGTERM)
        _ = serving.wait(serve)
      }

      // The chaos: SIGKILL to a random redeeming process every 100 to 400 ms, and twice the
      // server stopped at once (no checkpoint, as a crash) and started again a second later.
      let kills = Atomic(0)
      let restarts = Atomic(0)
      let chaosDone = DispatchSemaphore(value: 0)
      Thread.detachNewThread {
        defer { chaosDone.signal() }
        var random = SeededGenerator(seed: 99)
        var rounds = 0
        while done.load(ordering: .relaxed) < 8 {
          usleep(UInt32.random(in: 100_000...400_000, using: &random))
          rounds += 1
          if children.killOne({ Int.random(in: 0..<$0, using: &random) }) {
            kills.add(1, ordering: .relaxed)
          }
          if rounds % 8 == 4 && restarts.load(ordering: .relaxed) < 2 {
            do {
              try server.stopImmediately()
              sleep(1)
              try server.start()
              restarts.add(1, ordering: .relaxed)
            } catch {
              failures.withLock { $0.append("restart: \(error)") }
            }
          }
        }
      }

      DispatchQueue.concurrentPerform(iterations: 8) { worker in
        defer { done.add(1, ordering: .relaxed) }
        var random = SeededGenerator(seed: UInt64(worker + 11))
        let mine = codes.shuffled(using: &random).prefix(60)
        if worker == 7 {
          // The socket client: one request at a time, retried with its request id.
          guard let client = try? SocketClient(path: socket) else {
            failures.withLock { $0.append("cannot connect to serve") }
            return
          }
          for code in mine {
            let request = "sock-\(code)"
            for _ in 0..<200 {
              client.send(
                "{\"op\":\"redeem\",\"code\":\"\(code)\",\"store\":\"S7\",\"request\":\"\(request)\"}\n"
              )
              guard let answer = client.lines(1).first.flatMap(decode) else { break }
              let status = answer["status"]?.string
              if status == "redeemed" {
                acknowledged.withLock { $0[code, default: []].append(request) }
              }
              if status == "redeemed" || status == "used-up" { break }
              usleep(50_000)
            }
          }
          return
        }
        for code in mine {
          let request = "w\(worker)-\(code)"
          let output = scratch + "/\(worker).out"
          for attempt in 0..<200 {
            guard
              let pid = children.spawn(
                voucherBinary,
                [
                  "--home", pg.home.path, "redeem", code, "--store", "S\(worker)", "--request",
                  request,
                ],
                stdout: output, stderr: scratch + "/\(worker).err", environment: environment)
            else { return }
            let ending = children.wait(pid)
            if ending.signaled { continue }  // killed: try again, same request id
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            if ending.status == 0 && text.contains("  redeemed  ") {
              acknowledged.withLock { $0[code, default: []].append(request) }
              break
            }
            if ending.status == 1 && text.contains("  used-up  ") { break }
            if ending.status != 75 || attempt == 199 {
              let errors =
                (try? String(contentsOfFile: scratch + "/\(worker).err", encoding: .utf8)) ?? ""
              failures.withLock { $0.append("\(ending.status): \(text) \(errors)") }
              break
            }
          }
        }
      }
      chaosDone.wait()
      #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0.prefix(5) })")
      #expect(kills.load(ordering: .relaxed) > 0 && restarts.load(ordering: .relaxed) == 2)
      // Nothing doubled: no code acknowledged as redeemed to two requests.
      let acks = acknowledged.withLock { $0 }
      #expect(acks.values.allSatisfy { $0.count == 1 }, "\(acks.filter { $0.value.count > 1 })")
      // Nothing lost: every acknowledged request is a live redemption in the database, and every
      // live redemption was acknowledged (a lost answer was replayed to its retry).
      let live = try server.psql(
        pg.database,
        "SELECT e.request FROM voucher_uses u JOIN voucher_events e ON e.id = u.event ORDER BY 1")
      let inDatabase = live.split(separator: "\n").map(String.init).sorted()
      #expect(inDatabase == acks.values.flatMap { $0 }.sorted())
      #expect(!inDatabase.isEmpty)
      let check = pg.run("registry", "check")
      #expect(check.status == 0, "\(check.stderr)")
    }
  }
#endif
