internal import COpenSSLTLS
import Dispatch
import Foundation
import Synchronization
import VoucherHTTP
import VoucherKit
import VoucherTestSupport

#if canImport(Glibc)
  import Glibc
#endif

/// The HTTP front's rows, against the Unix socket in the same server and the same run: durable
/// redemptions per second with 8 keep-alive clients each way, and the verify round trip (p50,
/// p99) over the socket, over HTTP and over HTTPS.
struct HTTPBench {
  let scratch: String
  let quick: Bool
  let log: (String) -> Void

  func rows() throws -> [Row] {
    let products = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
    let voucher = products + "/voucher"
    guard FileManager.default.isExecutableFile(atPath: voucher) else {
      log("voucher not built beside voucher-bench; skipping the HTTP rows")
      return []
    }
    let clients = 8
    let perClient = quick ? 3_000 : 30_000
    let window = 64
    let home = VoucherHome(scratch + "/http")
    try KeyRing.generate(in: home.keys, now: Date())
    let ring = try KeyRing.load(from: home.keys)
    var spec = CampaignSpec(id: CampaignID("http")!, channels: [ChannelID("web")!])
    spec.capacity = 2 * clients * perClient + 1_000
    let campaign = try home.campaignStore.add(spec, keyRing: ring, now: Date())
    let issuer = try Issuer(campaign: campaign, keyRing: ring)
    var book = TokenBook()
    let token = try book.add(name: "bench", scope: .web, store: nil)
    try book.save(to: TokenBook.path(in: home))

    let socket = scratch + "/http.sock"
    let server = try BenchServer(voucher, home: home, ["--socket", socket], scratch: scratch)
    defer { server.stop() }
    while !FileManager.default.fileExists(atPath: socket) { usleep(5_000) }

    // The same load each way: 8 clients, each with `window` redemptions in flight.
    @Sendable func code(_ serial: Int) -> String {
      issuer.code(channel: 0, serial: serial).description
    }
    log("redeeming \(clients * perClient) codes over the socket, then as many over HTTP")
    // The server's CPU time per redemption each way, to tell its own cost from the clients'.
    let pid = server.process.processIdentifier
    let before = processorSeconds(pid)
    let socketRate = try load(clients: clients) { client in
      let connection = try SocketClient(path: socket)
      var count = 0
      var sent = 0
      while sent < perClient {
        let chunk = sent..<min(perClient, sent + window)
        connection.send(
          chunk.map {
            let serial = client * perClient + $0 + 1
            return
              "{\"id\":\(serial),\"op\":\"redeem\",\"code\":\"\(code(serial))\",\"online\":true}\n"
          }.joined())
        count += connection.lines(chunk.count).filter { $0.contains("\"redeemed\"") }.count
        sent += chunk.count
      }
      return count
    }
    let between = processorSeconds(pid)
    let offset = clients * perClient
    let port = server.port
    let httpRate = try load(clients: clients) { client in
      let connection = try HTTPBenchClient(port: port, tls: nil)
      var count = 0
      var sent = 0
      while sent < perClient {
        let chunk = sent..<min(perClient, sent + window)
        connection.send(
          chunk.map {
            let serial = offset + client * perClient + $0 + 1
            return
              "POST /v1/codes/\(code(serial))/redeem HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer \(token)\r\nContent-Length: 2\r\n\r\n{}"
          }.joined())
        count += connection.bodies(chunk.count).filter { $0.contains("\"redeemed\"") }.count
        sent += chunk.count
      }
      return count
    }
    let after = processorSeconds(pid)
    precondition(socketRate.count == clients * perClient && httpRate.count == clients * perClient)
    var rows = [
      Row(
        metric: "http: 8 keep-alive clients, durable redemptions/s", ours: httpRate.rate,
        oursUnit: "redeems/s", baseline: socketRate.rate,
        baselineName: "8 socket clients, same window, /s", ratio: httpRate.rate / socketRate.rate,
        target: ">= 0.8", met: httpRate.rate / socketRate.rate >= 0.8)
    ]
    if let before, let between, let after {
      let count = Double(clients * perClient)
      let http = (after - between) / count * 1e6
      let socket = (between - before) / count * 1e6
      rows.append(
        Row(
          metric: "http: server CPU per redemption", ours: http, oursUnit: "us",
          baseline: socket, baselineName: "socket, us", ratio: http / socket,
          target: "reported", met: true))
    }

    // The verify round trip a till sees: one client, one request at a time.
    let probe = code(2 * clients * perClient + 1)
    let samples = quick ? 2_000 : 10_000
    let viaSocket = try SocketClient(path: socket)
    let socketTimes = roundTrips(samples) {
      viaSocket.send("{\"id\":1,\"op\":\"verify\",\"code\":\"\(probe)\"}\n")
      _ = viaSocket.lines(1)
    }
    let get = Array(
      "GET /v1/codes/\(probe) HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer \(token)\r\n\r\n"
        .utf8)
    let viaHTTP = try HTTPBenchClient(port: server.port, tls: nil)
    let httpTimes = roundTrips(samples) {
      viaHTTP.send(get)
      _ = viaHTTP.bodies(1)
    }
    rows += latencyRows("http", httpTimes, socketTimes)
    server.stop()

    // The same over TLS, with a certificate made by openssl for the run.
    let openssl = "/usr/bin/openssl"
    guard FileManager.default.isExecutableFile(atPath: openssl) else {
      log("no /usr/bin/openssl: the HTTPS row is not measured")
      return rows
    }
    let certificate = scratch + "/bench-cert.pem"
    let key = scratch + "/bench-key.pem"
    _ = runProcess(
      openssl,
      [
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate,
        "-subj", "/CN=127.0.0.1", "-days", "1",
      ])
    let secure = try BenchServer(
      voucher, home: home, ["--tls-cert", certificate, "--tls-key", key], scratch: scratch)
    defer { secure.stop() }
    let viaTLS = try HTTPBenchClient(port: secure.port, tls: TLSBenchContext())
    let tlsTimes = roundTrips(samples) {
      viaTLS.send(get)
      _ = viaTLS.bodies(1)
    }
    rows += latencyRows("https", tlsTimes, socketTimes)
    return rows
  }

  /// Runs `clients` clients at once; answers the redemptions per second they got.
  private func load(clients: Int, _ body: @escaping @Sendable (Int) throws -> Int) throws -> (
    rate: Double, count: Int
  ) {
    let total = Mutex(0)
    let group = DispatchGroup()
    let started = now()
    for client in 0..<clients {
      group.enter()
      DispatchQueue(label: "bench.http.\(client)").async {
        defer { group.leave() }
        let count = (try? body(client)) ?? 0
        total.withLock { $0 += count }
      }
    }
    group.wait()
    let count = total.withLock { $0 }
    return (Double(count) / (now() - started), count)
  }

  private func roundTrips(_ count: Int, _ body: () -> Void) -> [Double] {
    (0..<count).map { _ in
      let start = now()
      body()
      return now() - start
    }
  }

  private func latencyRows(_ name: String, _ ours: [Double], _ socket: [Double]) -> [Row] {
    let sorted = ours.sorted()
    let base = socket.sorted()
    func at(_ values: [Double], _ fraction: Double) -> Double {
      values[min(values.count - 1, Int(Double(values.count) * fraction))] * 1e6
    }
    return [0.5, 0.99].map { fraction in
      let label = fraction == 0.5 ? "p50" : "p99"
      let value = at(sorted, fraction)
      let baseline = at(base, fraction)
      return Row(
        metric: "\(name): verify round trip, \(label)", ours: value, oursUnit: "us",
        baseline: baseline, baselineName: "socket \(label), us", ratio: value / baseline,
        target: "reported", met: true)
    }
  }
}

/// The user and system CPU seconds a process has used so far, from `/proc/PID/stat`.
func processorSeconds(_ pid: Int32) -> Double? {
  guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
    let close = text.lastIndex(of: ")")
  else { return nil }
  // After the command's closing parenthesis: state is field 3, utime 14 and stime 15.
  let fields = text[text.index(after: close)...].split(separator: " ")
  guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else {
    return nil
  }
  return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// A `voucher serve --http 127.0.0.1:0` for the benchmark, and the port it printed.
final class BenchServer {
  let process = Process()
  let port: UInt16

  init(_ voucher: String, home: VoucherHome, _ extra: [String], scratch: String) throws {
    let errors = scratch + "/bench-http-\(UUID().uuidString).err"
    _ = FileManager.default.createFile(atPath: errors, contents: nil)
    process.executableURL = URL(fileURLWithPath: voucher)
    process.arguments = ["--home", home.path, "serve", "--http", "127.0.0.1:0"] + extra
    process.standardOutput = FileHandle.nullDevice
    process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errors))
    try process.run()
    let deadline = Date().addingTimeInterval(20)
    while true {
      let text = (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
      if let range = text.range(of: #"127\.0\.0\.1:[0-9]+"#, options: .regularExpression),
        let port = UInt16(text[range].split(separator: ":")[1])
      {
        self.port = port
        return
      }
      guard process.isRunning, Date() < deadline else {
        throw BenchError("the HTTP server did not start: \(text)")
      }
      usleep(10_000)
    }
  }

  func stop() {
    if process.isRunning {
      kill(process.processIdentifier, SIGTERM)
      process.waitUntilExit()
    }
  }
}

struct BenchError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

/// A TLS client context that takes the benchmark's own self-signed certificate as it is.
final class TLSBenchContext {
  let context: OpaquePointer
  init() { context = SSL_CTX_new(TLS_client_method()) }
  deinit { SSL_CTX_free(context) }
}

/// A keep-alive HTTP/1.1 client over TCP (or TLS), reading answers by their Content-Length.
final class HTTPBenchClient {
  private let fd: Int32
  private let ssl: OpaquePointer?
  private var buffer: [UInt8] = []

  init(port: UInt16, tls: TLSBenchContext?) throws {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    self.fd = fd
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard connected == 0 else { throw BenchError("cannot connect to port \(port)") }
    var one: Int32 = 1
    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    if let tls {
      let session = SSL_new(tls.context)
      SSL_set_fd(session, fd)
      ssl = session
      guard SSL_connect(session) == 1 else { throw BenchError("TLS handshake failed") }
    } else {
      ssl = nil
    }
  }

  deinit {
    if let ssl { SSL_free(ssl) }
    close(fd)
  }

  func send(_ text: String) { send(Array(text.utf8)) }

  func send(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { raw in
      var done = 0
      while done < raw.count {
        let n =
          ssl.map { Int(SSL_write($0, raw.baseAddress! + done, Int32(raw.count - done))) }
          ?? Glibc.send(fd, raw.baseAddress! + done, raw.count - done, Int32(MSG_NOSIGNAL))
        if n <= 0 { return }
        done += n
      }
    }
  }

  /// The bodies of the next `count` answers (found by their Content-Length, byte by byte, so
  /// that the client costs little beside the server it measures).
  func bodies(_ count: Int) -> [String] {
    var out: [String] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    let marker = Array("Content-Length: ".utf8)
    var offset = 0
    while out.count < count {
      if let answer = Self.answer(in: buffer, from: offset, marker: marker) {
        out.append(String(decoding: buffer[answer.body], as: UTF8.self))
        offset = answer.body.upperBound
        continue
      }
      if offset > 0 {
        buffer.removeSubrange(..<offset)
        offset = 0
      }
      let n = chunk.withUnsafeMutableBytes { raw in
        ssl.map { Int(SSL_read($0, raw.baseAddress, Int32(raw.count))) }
          ?? recv(fd, raw.baseAddress, raw.count, 0)
      }
      if n <= 0 { break }
      buffer += chunk[..<n]
    }
    buffer.removeSubrange(..<offset)
    return out
  }

  /// The body range of the whole answer starting at `from`, or `nil` when it is not all here.
  private static func answer(in buffer: [UInt8], from: Int, marker: [UInt8]) -> (
    body: Range<Int>, Void
  )? {
    var index = from
    var length = 0
    let end = buffer.count
    // The header section: find Content-Length, then the empty line.
    while index + 3 < end {
      if buffer[index] == 13 && buffer[index + 1] == 10 && buffer[index + 2] == 13
        && buffer[index + 3] == 10
      {
        let bodyStart = index + 4
        guard end - bodyStart >= length else { return nil }
        return (bodyStart..<bodyStart + length, ())
      }
      if buffer[index] == marker[0] && index + marker.count < end
        && buffer[index..<index + marker.count].elementsEqual(marker)
      {
        var cursor = index + marker.count
        length = 0
        while cursor < end, buffer[cursor] >= 48, buffer[cursor] <= 57 {
          length = length * 10 + Int(buffer[cursor] - 48)
          cursor += 1
        }
      }
      index += 1
    }
    return nil
  }
}
