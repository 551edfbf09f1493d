import Dispatch
import Foundation
import Synchronization
import VoucherKit
import VoucherTestSupport

#if canImport(Glibc)
  import Glibc
#endif

/// The server's rows: durable redemptions per second with 8 clients, and a verify round trip.
struct ServeBench {
  let scratch: String
  let quick: Bool
  let log: (String) -> Void

  func rows(loopRate: Double) throws -> [Row] {
    let products = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
    let voucher = products + "/voucher"
    guard FileManager.default.isExecutableFile(atPath: voucher) else {
      log("voucher not built beside voucher-bench; skipping the serve rows")
      return []
    }
    let clients = 8
    let perClient = quick ? 5_000 : 50_000
    let home = VoucherHome(scratch + "/serve")
    try KeyRing.generate(in: home.keys, now: Date())
    let ring = try KeyRing.load(from: home.keys)
    var spec = CampaignSpec(id: CampaignID("serve")!, channels: [ChannelID("web")!])
    spec.capacity = clients * perClient + 1_000
    let campaign = try home.campaignStore.add(spec, keyRing: ring, now: Date())
    let issuer = try Issuer(campaign: campaign, keyRing: ring)

    let socket = scratch + "/serve.sock"
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

    // 8 clients, each keeping a window of requests in flight, as a webshop's workers would.
    log("serving \(clients * perClient) redemptions to \(clients) clients")
    let window = 256
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
      DispatchQueue(label: "bench.client.\(client)").async {
        defer { group.leave() }
        guard let connection = try? SocketClient(path: socket) else { return }
        var sent = 0
        var count = 0
        while sent < lines.count {
          let chunk = lines[sent..<min(lines.count, sent + window)]
          connection.send(chunk.joined())
          for answer in connection.lines(chunk.count)
          where answer.contains("\"status\":\"redeemed\"") { count += 1 }
          sent += chunk.count
        }
        redeemed.withLock { $0 += count }
      }
    }
    group.wait()
    let seconds = now() - started
    let total = redeemed.withLock { $0 }
    precondition(total == clients * perClient, "serve redeemed \(total) of \(clients * perClient)")
    let rate = Double(total) / seconds
    var rows = [
      Row(
        metric: "serve: 8 clients, durable redemptions/s", ours: rate, oursUnit: "redeems/s",
        baseline: loopRate,
        baselineName: "one-process redeem loop, /s", ratio: rate / loopRate,
        target: ">= 10 and >= 50,000/s",
        met: rate / loopRate >= 10 && rate >= 50_000)
    ]

    // One client, one request at a time: the verify round trip a till sees.
    let client = try SocketClient(path: socket)
    let code = issuer.code(channel: 0, serial: clients * perClient + 1).description
    let line = "{\"id\":1,\"op\":\"verify\",\"code\":\"\(code)\",\"at\":\"store\"}\n"
    var samples: [Double] = []
    for _ in 0..<(quick ? 2_000 : 10_000) {
      let start = now()
      client.send(line)
      _ = client.lines(1)
      samples.append(now() - start)
    }
    let roundTrip = median(samples)
    rows.append(
      Row(
        metric: "serve: verify round trip, median", ours: roundTrip * 1e6, oursUnit: "us",
        baseline: 100,
        baselineName: "target, us", ratio: roundTrip * 1e6 / 100, target: "< 100 us",
        met: roundTrip * 1e6 < 100))
    return rows
  }
}
