import Foundation
import Synchronization
import Testing
import VoucherTestSupport

#if canImport(Glibc)
  import Glibc
#endif

/// Python's http.client: `threads` keep-alive connections, each redeeming every code of a file
/// (each thread starting at its own offset, or with `--split` only its own share), writing
/// `status code thread` per answer read, flushed, to an output file.
let redeemClients = #"""
  import http.client, json, sys, threading
  host, port, token, codes_path, out_path, threads, mode = sys.argv[1:8]
  codes = open(codes_path).read().split()
  threads = int(threads)
  lock = threading.Lock()
  out = open(out_path, "a")
  def work(i):
      if mode == "split":
          mine = codes[i::threads]
      else:
          offset = i * len(codes) // threads
          mine = codes[offset:] + codes[:offset]
      conn = http.client.HTTPConnection(host, int(port), timeout=60)
      for code in mine:
          try:
              conn.request("POST", "/v1/codes/%s/redeem" % code, body="{}",
                           headers={"Authorization": "Bearer " + token,
                                    "Content-Type": "application/json"})
              response = conn.getresponse()
              body = response.read()
          except Exception:
              return
          if response.status != 200:
              with lock:
                  out.write("http-%d %s %d\n" % (response.status, code, i)); out.flush()
              continue
          answer = json.loads(body)
          with lock:
              out.write("%s %s %d\n" % (answer["status"], code, i)); out.flush()
  workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
  for w in workers: w.start()
  for w in workers: w.join()
  """#

/// The codes the registry holds a live redemption of, from `voucher export`: code -> count.
func redemptions(_ home: Home) -> [String: Int] {
  var counts: [String: Int] = [:]
  for line in home.run("export", "--format", "jsonl").stdoutLines {
    guard let event = decode(line), let code = event["code"]?.string else { continue }
    if event["event"]?.string == "redeemed" { counts[code, default: 0] += 1 }
  }
  return counts
}

@Suite(
  "serve --http under load: Python http.client, socket clients and CLI processes",
  .enabled(if: python3Path != nil, "python3 is not installed"), .serialized)
struct HTTPLoadTests {
  @Test(
    "8 keep-alive HTTP clients, 2 socket clients and 2 CLI processes redeem the same 200 codes: each exactly once"
  )
  func overlapping() throws {
    let home = try Home()
    defer { home.remove() }
    let codes = home.run("issue", "--campaign", "summer", "--channel", "flyer", "--count", "200")
      .stdoutLines
    try codes.joined(separator: "\n").write(
      toFile: home.path + "/codes", atomically: true, encoding: .utf8)
    let web = try addToken(home, "web", "web")
    let socketPath = home.path + "/till.sock"
    let server = try RunningHTTPServer(home, ["--socket", socketPath])
    let tally = Tally()
    let group = DispatchGroup()
    // Socket clients: every code, pipelined, from the end.
    for client in 0..<2 {
      group.enter()
      Thread.detachNewThread {
        defer { group.leave() }
        guard let socket = try? SocketClient(path: socketPath) else { return }
        socket.send(
          codes.reversed().enumerated().map {
            request(["id": $0.offset, "op": "redeem", "code": $0.element, "store": "S\(client)"])
          }.joined())
        for answer in socket.lines(codes.count).compactMap(decode)
        where answer["status"]?.string == "redeemed" {
          tally.add(answer["code"]!.string!)
        }
      }
    }
    // CLI processes: every fifth code each, one process per code.
    for cli in 0..<2 {
      group.enter()
      let home = home
      Thread.detachNewThread {
        defer { group.leave() }
        for code in stride(from: cli, to: codes.count, by: 5).map({ codes[$0] }) {
          let outcome = home.run("redeem", code, "--store", "C\(cli)", "--format", "json")
          if firstItem(decode(outcome.stdout))?["status"]?.string == "redeemed"
            || decode(outcome.stdout)?["status"]?.string == "redeemed"
          {
            tally.add(code)
          }
        }
      }
    }
    let out = home.path + "/http-answers"
    let python = try python(
      redeemClients,
      ["127.0.0.1", String(server.port), web, home.path + "/codes", out, "8", "overlap"])
    #expect(python.status == 0, "\(python.stderr)")
    group.wait()
    let answers = ((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").split(separator: "\n")
    #expect(answers.count == 8 * codes.count, "every HTTP request answered")
    for line in answers {
      let parts = line.split(separator: " ")
      #expect(parts[0] == "redeemed" || parts[0] == "used-up", "\(line)")
      if parts[0] == "redeemed" { tally.add(String(parts[1])) }
    }
    let counts = tally.counts.withLock { $0 }
    #expect(
      counts.count == codes.count && counts.values.allSatisfy { $0 == 1 },
      "\(counts.filter { $0.value != 1 })")
    #expect(server.stop() == 0, "\(server.log)")
    #expect(redemptions(home) == counts)
    #expect(home.run("registry", "check").status == 0)
  }

  @Test(
    "kill -9 of the server under HTTP load loses no acknowledged redemption and duplicates none")
  func killUnderLoad() throws {
    let home = try Home()
    defer { home.remove() }
    let codes = home.run("issue", "--campaign", "summer", "--channel", "flyer", "--count", "20000")
      .stdoutLines
    try codes.joined(separator: "\n").write(
      toFile: home.path + "/codes", atomically: true, encoding: .utf8)
    let web = try addToken(home, "web", "web")
    let script = home.path + "/clients.py"
    try redeemClients.write(toFile: script, atomically: true, encoding: .utf8)
    for round in 0..<3 {
      let server = try RunningHTTPServer(home)
      let out = home.path + "/acks-\(round)"
      _ = FileManager.default.createFile(atPath: out, contents: nil)
      let clients = Process()
      clients.executableURL = URL(fileURLWithPath: python3Path!)
      clients.arguments = [
        script, "127.0.0.1", String(server.port), web, home.path + "/codes", out, "8", "split",
      ]
      clients.standardOutput = FileHandle.nullDevice
      clients.standardError = FileHandle.nullDevice
      try clients.run()
      // Kill once some redemptions are acknowledged, at a different point each round.
      let wanted = 200 + round * 700
      let deadline = Date().addingTimeInterval(60)
      while Date() < deadline {
        let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        if text.utf8.count >= wanted * 30 { break }
        usleep(5_000)
      }
      server.kill9()
      clients.waitUntilExit()
      let acknowledged = ((try? String(contentsOfFile: out, encoding: .utf8)) ?? "")
        .split(separator: "\n").filter { $0.hasPrefix("redeemed ") }.map {
          String($0.split(separator: " ")[1])
        }
      let recorded = redemptions(home)
      #expect(!acknowledged.isEmpty, "round \(round): nothing was acknowledged before the kill")
      let lost = acknowledged.filter { recorded[$0] == nil }
      #expect(lost.isEmpty, "round \(round): acknowledged and lost: \(lost.prefix(5))")
      #expect(recorded.values.allSatisfy { $0 == 1 }, "round \(round): a code redeemed twice")
    }
    #expect(home.run("registry", "check").status == 0)
  }
}
