import Dispatch
import FoundationEssentials
import Synchronization
import VoucherHTTP
import VoucherKit
import VoucherRegistry
import VoucherService

#if canImport(Glibc)
  import Glibc
#endif

/// `voucher serve`: a long-running verifier for point-of-sale systems, JSON Lines over standard
/// input and output or a Unix domain socket, with group commit.
///
/// A transport over the service library: it reads lines into ``ServiceSession``s and writes the
/// answers ``ServiceEngine`` hands back; the decoding, the rules and the group commit are there.
enum ServeCommand {
  static let spec = CommandSpec(
    name: "voucher serve",
    overview: """
      Answer verify, redeem, void, claim and history requests, one JSON object per line, over \
      standard input and output or a Unix domain socket (mode 0660) that many tills use at once, \
      and or instead the HTTP API (bearer tokens from 'voucher tokens', optionally HTTPS). \
      Redemptions that arrive together share one sync; no answer is written before it is durable.
      """,
    usage:
      "--stdio | --socket <path> | --http <host:port> [--tls-cert <file> --tls-key <file> [--tls-client-ca <file>]] [--max-connections <n>] [--request-timeout <seconds>] [--idle-timeout <seconds>] [--wrong-code-burst <n>] [--wrong-codes-per-minute <n>]",
    options: [
      .flag(
        "stdio",
        "Read requests from standard input, answer on standard output; end of input ends the server."
      ),
      .value(
        "socket", "path",
        "Listen on a Unix domain socket; SIGTERM or SIGINT finish the requests in flight and remove it."
      ),
      .value(
        "http", "host:port",
        "Serve the HTTP API (alone or beside --stdio or --socket) on this address; port 0 picks one. The address is printed on standard error."
      ),
      .value("tls-cert", "file", "Serve HTTPS with this PEM certificate chain (with --tls-key)."),
      .value("tls-key", "file", "The PEM private key of --tls-cert."),
      .value(
        "tls-client-ca", "file", "Require client certificates signed by this PEM CA (tills)."),
      .value("max-connections", "n", "The most HTTP connections at once (default 256)."),
      .value(
        "request-timeout", "seconds",
        "Seconds an HTTP client has to send a whole request (default 10)."),
      .value(
        "idle-timeout", "seconds",
        "Seconds an idle keep-alive HTTP connection stays open (default 30)."),
      .value(
        "wrong-code-burst", "n",
        "Wrong codes (malformed, mistyped, forged) an HTTP token or address may send at once (default 20)."
      ),
      .value(
        "wrong-codes-per-minute", "n",
        "Wrong codes a token or address regains per minute; past them 429 (default 30)."),
    ])

  static func run(_ arguments: [String], _ context: Context) throws -> Int32 {
    guard let options = try parse(spec, arguments, context) else { return ExitStatus.success }
    _ = try options.positionals(0, "")
    let socketPath = options.value("socket")
    let httpAddress = options.value("http")
    guard !(options.has("stdio") && socketPath != nil),
      options.has("stdio") || socketPath != nil || httpAddress != nil
    else {
      throw CommandError.usage(
        "give one of --stdio and --socket <path>, and or instead --http <host:port>")
    }
    if let socketPath, looksLikeAddress(socketPath) {
      throw CommandError.usage(
        "--socket takes a path, and '\(printable(socketPath))' looks like a network address: use --http \(printable(socketPath)) for HTTP, or ./\(printable(socketPath)) for a socket file of that name"
      )
    }
    let limits = try httpLimits(options, http: httpAddress != nil)
    let tls = try tlsServer(options, http: httpAddress != nil)
    let ring = try context.keyRing()
    let campaigns = try context.campaigns()
    let location = context.registry
    let store = try location.open(campaigns: campaigns, create: true)
    // Every campaign's prizes are read now, so that an unreadable seed stops the start; a
    // `prizes add` while serving is read at the next claim.
    let prizes = PrizeTable(home: context.home)
    for campaign in campaigns.campaigns {
      _ = try prizes.prize(campaign: campaign.id, channel: campaign.channels[0], serial: 1)
    }
    let console = context.console
    // A campaign changed while serving (`campaign set --ends`) holds from the next request.
    let watcher = try CampaignWatcher(context, keyRing: ring, campaigns: campaigns) {
      console.warning($0)
    }
    let service = Service(verifiers: { watcher.current() }, zone: context.zone, prizes: prizes)
    let engine = ServiceEngine(service: service, store: store) { diagnostic in
      switch diagnostic {
      case .failed(let error): console.error(CommandError(error).message)
      case .warning(let warning): console.warning(warning)
      }
    }
    signal(SIGPIPE, SIG_IGN)
    // Each reader answers verifies itself, through its own read-only view of the registry.
    let read: @Sendable (Connection, ServiceSession) -> Void = { connection, session in
      let view = try? location.open(campaigns: campaigns, create: false)
      readRequests(connection, into: session, view: view)
    }

    var http: HTTPServer?
    if let httpAddress {
      let tokenPath = TokenBook.path(in: context.home)
      let tokens = try TokenWatcher(path: tokenPath) { error in console.error(error.description) }
      let idempotency: IdempotencyBook
      do {
        idempotency = try IdempotencyBook(path: context.home.path + "/http-idempotency")
      } catch {
        throw CommandError(ExitStatus.cannotCreate, error.description)
      }
      let api = HTTPAPI(
        tokens: tokens,
        limiter: RateLimiter(
          burst: limits.wrongCodeBurst, perSecond: limits.wrongCodesPerMinute / 60),
        idempotency: idempotency)
      let reads = HTTPReads(
        context: HTTPReadContext(
          home: context.home, lockTimeout: context.lockTimeout, zone: context.zone),
        location: location, campaigns: campaigns, log: { console.warning($0) })
      let server = try HTTPServer(
        address: httpAddress,
        context: HTTPConnectionContext(
          api: api, limits: limits.0, service: service, reads: reads),
        tls: tls)
      if tokens.current().tokens.isEmpty {
        console.warning(
          "no API tokens: every request but /v1/health and /v1/openapi.json is refused; add one with 'voucher tokens add'"
        )
      }
      console.writeError(
        "serving HTTP\(tls == nil ? "" : "S") on \(tls == nil ? "http" : "https")://\(server.address)\n"
      )
      http = server
    }
    if socketPath == nil && !options.has("stdio"), let http {
      let stop: @Sendable () -> Void = {
        service.stop()
        http.stop()
      }
      let sources = stopSignals(stop)
      http.start()
      engine.run()
      for source in sources { source.cancel() }
      http.close()
    } else if let socketPath {
      let listener = try listen(on: socketPath)
      console.writeError(
        "serving JSON Lines on the Unix socket \(printable(socketPath, limit: 4096))\n")
      let connections = Mutex<[Connection]>([])
      // SIGTERM and SIGINT: stop accepting and reading; the engine answers what was read.
      let stop: @Sendable () -> Void = { [http] in
        service.stop()
        shutdown(listener, Int32(SHUT_RDWR))
        for connection in connections.withLock({ $0 }) { connection.stopReading() }
        http?.stop()
      }
      let sources = stopSignals(stop)
      http?.start()
      service.openInput()
      DispatchQueue(label: "voucher.accept").async {
        defer { service.closeInput() }
        var spare = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { Glibc.close(spare) }
        var number = 0
        while true {
          let client = accept(listener, nil, nil)
          if client < 0 {
            if errno == EINTR || errno == ECONNABORTED { continue }
            // Out of descriptors: give back the spare one, turn the waiting client away, and
            // take the spare again, so that the registry's own files can still be opened.
            if (errno == EMFILE || errno == ENFILE) && !service.isStopping {
              Glibc.close(spare)
              let turnedAway = accept(listener, nil, nil)
              if turnedAway >= 0 { Glibc.close(turnedAway) }
              spare = open("/dev/null", O_RDONLY | O_CLOEXEC)
              usleep(10_000)
              continue
            }
            break
          }
          _ = fcntl(client, F_SETFD, FD_CLOEXEC)
          let connection = Connection(input: client, output: client) { limit in
            console.warning(
              "dropped a client that left more than \(limit >> 20) MiB of answers unread")
          }
          let stopped = connections.withLock { list -> Bool in
            list.removeAll { $0.isClosed }
            list.append(connection)
            return service.isStopping
          }
          if stopped { connection.stopReading() }
          number += 1
          let session = service.open(connection)
          DispatchQueue(label: "voucher.client.\(number)").async {
            read(connection, session)
            session.finish()
          }
        }
      }
      engine.run()
      for source in sources { source.cancel() }
      close(listener)
      http?.close()
      unlink(socketPath)
      for connection in connections.withLock({ $0 }) {
        connection.flush()
        connection.close()
        connection.flush()
      }
    } else {
      let connection = Connection(input: 0, output: 1)
      let session = service.open(connection)
      let sources =
        http.map { http in
          stopSignals {
            service.stop()
            http.stop()
          }
        } ?? []
      http?.start()
      DispatchQueue(label: "voucher.stdin").async { [http] in
        read(connection, session)
        // The end of standard input ends the server (HTTP too), once everything read is
        // answered.
        service.stop()
        http?.stop()
        session.finish()
      }
      engine.run()
      for source in sources { source.cancel() }
      http?.close()
      connection.flush()
    }
    return ExitStatus.success
  }

  /// SIGTERM and SIGINT call `stop` (stop accepting and reading; the engine answers what was
  /// read).
  private static func stopSignals(_ stop: @escaping @Sendable () -> Void)
    -> [any DispatchSourceSignal]
  {
    [SIGTERM, SIGINT].map { number -> any DispatchSourceSignal in
      signal(number, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
      source.setEventHandler(handler: stop)
      source.resume()
      return source
    }
  }

  /// The HTTP limits the options set, with the wrong-code rate limit.
  private static func httpLimits(_ options: ParsedArguments, http: Bool) throws(CommandError)
    -> (HTTPLimits, wrongCodeBurst: Double, wrongCodesPerMinute: Double)
  {
    var limits = HTTPLimits()
    func number(_ name: String, _ range: ClosedRange<Double>) throws(CommandError) -> Double? {
      guard let text = options.value(name) else { return nil }
      guard http else { throw .usage("--\(name) goes with --http") }
      guard text.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E }),
        let value = Double(text), range.contains(value)
      else {
        throw .usage(
          "--\(name) must be a number from \(Int(range.lowerBound)) to \(Int(range.upperBound)), not '\(printable(text))'"
        )
      }
      return value
    }
    if let value = try number("max-connections", 1...10_000) { limits.connections = Int(value) }
    if let value = try number("request-timeout", 0.1...3600) { limits.requestSeconds = value }
    if let value = try number("idle-timeout", 0.1...3600) { limits.idleSeconds = value }
    let burst = try number("wrong-code-burst", 1...1_000_000) ?? 20
    let perMinute = try number("wrong-codes-per-minute", 1...1_000_000) ?? 30
    return (limits, burst, perMinute)
  }

  /// The TLS settings the options give, checked and loaded; `nil` for plain HTTP.
  private static func tlsServer(_ options: ParsedArguments, http: Bool) throws -> TLSServer? {
    let certificate = options.value("tls-cert")
    let key = options.value("tls-key")
    let clientCA = options.value("tls-client-ca")
    guard certificate != nil || key != nil || clientCA != nil else { return nil }
    guard http else {
      throw CommandError.usage("--tls-cert, --tls-key and --tls-client-ca go with --http")
    }
    guard let certificate, let key else {
      throw CommandError.usage("--tls-cert and --tls-key go together")
    }
    for path in [certificate, key] + (clientCA.map { [$0] } ?? []) {
      guard (try? FileSystem.read(path, limit: 1 << 20)) != nil else {
        throw CommandError(ExitStatus.noInput, "\(path) is not a readable file")
      }
    }
    do {
      return try TLSServer(certificate: certificate, key: key, clientCA: clientCA)
    } catch {
      throw CommandError(ExitStatus.configuration, error.description)
    }
  }

  /// Binds a Unix domain socket, replacing a stale one left by a crash, and makes it mode 0660.
  private static func listen(on path: String) throws -> Int32 {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    let capacity = MemoryLayout.size(ofValue: address.sun_path)
    guard !bytes.isEmpty, bytes.count < capacity, !bytes.contains(0) else {
      throw CommandError.usage("--socket must be a path of 1 to \(capacity - 1) bytes")
    }
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
      raw.copyBytes(from: bytes)
      raw[bytes.count] = 0
    }
    let length = socklen_t(MemoryLayout<sockaddr_un>.size)
    func connectable() -> Bool {
      let probe = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
      defer { close(probe) }
      return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(probe, $0, length) == 0 }
      }
    }
    var info = stat()
    if lstat(path, &info) == 0 {
      guard info.st_mode & S_IFMT == S_IFSOCK else {
        throw CommandError(ExitStatus.cannotCreate, "\(path) exists and is not a socket")
      }
      guard !connectable() else {
        throw CommandError(ExitStatus.cannotCreate, "\(path) is in use by a running server")
      }
      unlink(path)
    }
    let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard listener >= 0 else {
      throw CommandError(ExitStatus.ioError, SystemError("create a socket for", path).description)
    }
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) }
    }
    guard bound == 0 else {
      let error = SystemError("listen on", path)
      close(listener)
      throw CommandError(ExitStatus.cannotCreate, error.description)
    }
    chmod(path, 0o660)
    guard Glibc.listen(listener, 512) == 0 else {
      let error = SystemError("listen on", path)
      close(listener)
      unlink(path)
      throw CommandError(ExitStatus.ioError, error.description)
    }
    return listener
  }
}

/// Whether a `--socket` value is more likely a mistyped `--http` address than a path: no slash,
/// and a port after its last colon (`localhost:8080`, `0.0.0.0:80`, `[::1]:8443`).
func looksLikeAddress(_ path: String) -> Bool {
  guard !path.contains("/"), let colon = path.lastIndex(of: ":") else { return false }
  let port = path[path.index(after: colon)...]
  return !port.isEmpty && port.count <= 5 && port.allSatisfy(\.isASCII) && port.allSatisfy(\.isNumber)
}
