import Foundation
import VoucherKit
import VoucherRegistry

#if canImport(Glibc)
  import Glibc
#endif

/// The registry's rows: durable redemption against the disk's limit and SQLite, and lookups
/// and memory with a large registry against a small one.
struct RegistryBench {
  let scratch: String
  let quick: Bool
  let log: (String) -> Void

  /// A home with one campaign of `capacity` codes and `redeemed` of them redeemed, built through
  /// the registry's real write path in batches (group commit).
  func makeHome(_ name: String, capacity: Int, redeemed: Int) throws -> (
    VoucherHome, Issuer, Verifier
  ) {
    let home = VoucherHome(scratch + "/" + name)
    try KeyRing.generate(in: home.keys, now: Date())
    let ring = try KeyRing.load(from: home.keys)
    var spec = CampaignSpec(id: CampaignID("bench")!, channels: [ChannelID("flyer")!])
    spec.capacity = capacity
    let campaign = try home.campaignStore.add(spec, keyRing: ring, now: Date())
    let issuer = try Issuer(campaign: campaign, keyRing: ring)
    let verifier = Verifier(keyRing: ring, campaigns: try home.campaignStore.load())
    let registry = try Registry.open(home: home, campaigns: verifier.campaigns, create: true)
    let store = try StoreID("S1")
    var serial = 1
    let started = now()
    while serial <= redeemed {
      let last = min(redeemed, serial + 9_999)
      let batch = (serial...last).map {
        RegistryOperation.redeem(
          voucher(issuer, verifier, $0), store: store, terminal: nil, profile: nil, request: nil)
      }
      _ = try registry.perform(batch, now: Date())
      serial = last + 1
      if serial % 1_000_000 == 1 { log("  \(serial - 1) redemptions in \(Int(now() - started)) s") }
    }
    return (home, issuer, verifier)
  }

  func voucher(_ issuer: Issuer, _ verifier: Verifier, _ serial: Int) -> Voucher {
    guard
      case .valid(let voucher) = verifier.verify(
        issuer.code(channel: 0, serial: serial), now: Date())
    else {
      preconditionFailure("benchmark code does not verify")
    }
    return voucher
  }

  func rows(onlyReports: Bool = false) throws -> [Row] {
    var rows: [Row] = []
    let large = quick ? 200_000 : 10_000_000
    let largeName = quick ? "200,000" : "10,000,000"
    log("building a registry with 1,000 redemptions and one with \(largeName)")
    let (small, smallIssuer, smallVerifier) = try makeHome(
      "small", capacity: 100_000, redeemed: 1_000)
    let (big, bigIssuer, bigVerifier) = try makeHome(
      "big", capacity: large + 100_000, redeemed: large)
    let products = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
    let voucherPath = products + "/voucher"
    if onlyReports {
      return ReportBench(quick: quick, scratch: scratch, log: log).rows(
        voucher: voucherPath, big: big, small: small, largeName: largeName)
        + (try PeerBench(scratch: scratch, quick: quick, log: log).analystRows(
          voucher: voucherPath, big: big, largeName: largeName))
    }

    // Durable redemption, one at a time, against the disk's own limit and against SQLite. Sync
    // latency on a shared machine drifts, so the three are measured in alternating rounds and each
    // ratio is the median of the rounds' ratios.
    let rounds = 5
    let perRound = quick ? 60 : 300
    log(
      "redeeming \(rounds * perRound) codes one by one, durably, in \(rounds) rounds beside the baselines"
    )
    let registry = try Registry.open(home: small, campaigns: smallVerifier.campaigns, create: false)
    let store = try StoreID("S1")
    let sqlite = SQLitePeer(path: scratch + "/peer.sqlite")
    var oursRates: [Double] = []
    var appendRates: [Double] = []
    var sqliteRates: [Double] = []
    for round in 0..<rounds {
      let fresh = (0..<perRound).map {
        voucher(smallIssuer, smallVerifier, 50_000 + round * perRound + $0)
      }
      let ours = try time {
        for code in fresh {
          guard case .redeemed = try registry.redeem(code, store: store, now: Date()) else {
            preconditionFailure("not redeemed")
          }
        }
      }
      oursRates.append(Double(perRound) / ours)
      appendRates.append(Double(perRound) / appendAndSync(count: perRound))
      let sqliteSeconds = time {
        for index in 0..<perRound {
          sqlite.redeem(Int64(round * perRound + index), store: "S1", time: Int64(index))
        }
      }
      sqliteRates.append(Double(perRound) / sqliteSeconds)
    }
    let oursRate = median(oursRates)
    let appendRatio = median(zip(oursRates, appendRates).map { $0 / $1 })
    let sqliteRatio = median(zip(oursRates, sqliteRates).map { $0 / $1 })
    rows.append(
      Row(
        metric: "redeem in a loop, one process, durable", ours: oursRate, oursUnit: "redeems/s",
        baseline: median(appendRates),
        baselineName: "64-byte append + fdatasync, /s", ratio: appendRatio, target: ">= 0.8",
        met: appendRatio >= 0.8))
    rows.append(
      Row(
        metric: "redeem in a loop vs SQLite", ours: oursRate, oursUnit: "redeems/s",
        baseline: median(sqliteRates),
        baselineName: "SQLite WAL, synchronous=FULL, /s", ratio: sqliteRatio, target: ">= 1.5",
        met: sqliteRatio >= 1.5))

    // Lookups: what a till asks (verify the typed code, read its live uses), over the same number
    // of distinct redeemed codes in the large registry and the small one, and against SQLite.
    log("timing lookups")
    let bigRegistry = try Registry.open(home: big, campaigns: bigVerifier.campaigns, create: false)
    var random = SystemRandomNumberGenerator()
    let distinct = 1_000
    let probes = 50_000
    let bigTexts = (0..<distinct).map { _ in
      bigIssuer.code(channel: 0, serial: Int.random(in: 1...large, using: &random)).description
    }
    let smallTexts = (1...distinct).map { smallIssuer.code(channel: 0, serial: $0).description }
    func answer(_ verifier: Verifier, _ registry: Registry) -> (String) throws -> Int {
      let when = Date()
      return { text in
        guard case .valid(let voucher) = verifier.verify(text, at: .store, now: when) else {
          preconditionFailure("not valid")
        }
        return try registry.uses(of: voucher)
      }
    }
    let bigAnswer = answer(bigVerifier, bigRegistry)
    let smallAnswer = answer(smallVerifier, registry)
    let bigProbes = (0..<probes).map { _ in bigTexts.randomElement(using: &random)! }
    let smallProbes = (0..<probes).map { _ in smallTexts.randomElement(using: &random)! }
    _ = try bigProbes.prefix(2_000).map(bigAnswer)
    _ = try smallProbes.prefix(2_000).map(smallAnswer)
    let bigLookup = try lookupLatency(bigProbes, bigAnswer)
    let smallLookup = try lookupLatency(smallProbes, smallAnswer)
    rows.append(
      Row(
        metric: "lookup: verify + live uses, \(largeName) redemptions", ours: bigLookup * 1e9,
        oursUnit: "ns", baseline: smallLookup * 1e9,
        baselineName: "with 1,000 redemptions, ns", ratio: bigLookup / smallLookup,
        target: "<= 1.2", met: bigLookup / smallLookup <= 1.2))
    log("filling SQLite with \(largeName) rows")
    let peer = SQLitePeer(path: scratch + "/lookup.sqlite")
    peer.execute("BEGIN")
    for code in 0..<large { peer.write(Int64(code), store: "S1", time: Int64(code)) }
    peer.execute("COMMIT")
    let keys = (0..<probes).map { _ in Int64.random(in: 0..<Int64(large), using: &random) }
    let sqliteLookup = lookupLatency(keys) { peer.uses($0) }
    rows.append(
      Row(
        metric: "lookup vs SQLite point lookup alone, \(largeName) rows", ours: bigLookup * 1e9,
        oursUnit: "ns", baseline: sqliteLookup * 1e9,
        baselineName: "SQLite, same size, ns", ratio: sqliteLookup / bigLookup,
        target: ">= 3 (faster)", met: sqliteLookup / bigLookup >= 3))

    // Peak memory of one-shot processes against the large registry and the small one.
    if FileManager.default.isExecutableFile(atPath: voucherPath) {
      log("measuring peak memory of verify and redeem processes")
      for command in ["verify", "redeem"] {
        func arguments(_ home: VoucherHome, _ issuer: Issuer, _ serial: Int) -> [String] {
          ["--home", home.path, command, issuer.code(channel: 0, serial: serial).description]
            + (command == "redeem" ? ["--store", "S1"] : [])
        }
        let serialBig = command == "verify" ? 17 : large + 50_000
        let serialSmall = command == "verify" ? 17 : 90_000
        if let bigPeak = peakMemory(
          voucherPath, arguments(big, bigIssuer, serialBig), scratch: scratch),
          let smallPeak = peakMemory(
            voucherPath, arguments(small, smallIssuer, serialSmall), scratch: scratch)
        {
          let growth = Double(bigPeak - smallPeak) / 1_048_576
          rows.append(
            Row(
              metric: "peak memory of \(command), \(largeName) redemptions",
              ours: Double(bigPeak) / 1_048_576, oursUnit: "MiB",
              baseline: Double(smallPeak) / 1_048_576, baselineName: "with 1,000, MiB",
              ratio: Double(bigPeak) / Double(smallPeak),
              target: "<= +5 MiB", met: growth <= 5))
        }
      }
    }
    let peers = PeerBench(scratch: scratch, quick: quick, log: log)
    if FileManager.default.isExecutableFile(atPath: voucherPath) {
      rows += ReportBench(quick: quick, scratch: scratch, log: log).rows(
        voucher: voucherPath, big: big, small: small, largeName: largeName)
      rows += try peers.analystRows(voucher: voucherPath, big: big, largeName: largeName)
    }
    rows += try ServeBench(scratch: scratch, quick: quick, log: log).rows(loopRate: oursRate)
    if FileManager.default.isExecutableFile(atPath: voucherPath) {
      rows += try peers.serveRows(voucher: voucherPath)
    }
    rows += try HTTPBench(scratch: scratch, quick: quick, log: log).rows()
    return rows
  }

  /// The median latency of `lookup` over some inputs, in seconds.
  func lookupLatency<T>(_ inputs: [T], _ lookup: (T) throws -> Int) rethrows -> Double {
    var samples: [Double] = []
    samples.reserveCapacity(inputs.count)
    var sink = 0
    for input in inputs {
      let start = now()
      sink &+= try lookup(input)
      samples.append(now() - start)
    }
    precondition(sink >= 0)
    return median(samples)
  }

  /// The time for `count` 64-byte appends, each followed by `fdatasync`.
  func appendAndSync(count: Int) -> Double {
    let path = scratch + "/append-baseline"
    let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    defer {
      close(fd)
      unlink(path)
    }
    let record = [UInt8](repeating: 0x42, count: 64)
    return time {
      for _ in 0..<count {
        _ = record.withUnsafeBytes { write(fd, $0.baseAddress, 64) }
        fdatasync(fd)
      }
    }
  }
}
