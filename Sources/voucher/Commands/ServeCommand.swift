import Dispatch
import FoundationEssentials
import Synchronization
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
      standard input and output or a Unix domain socket (mode 0660) that many tills use at once. \
      Redemptions that arrive together share one sync; no answer is written before it is durable.
      """,
    usage: "--stdio | --socket <path>",
    options: [
      .flag(
        "stdio",
        "Read requests from standard input, answer on standard output; end of input ends the server."
      ),
      .value(
        "socket", "path",
        "Listen on a Unix domain socket; SIGTERM or SIGINT finish the requests in flight and remove it."
      ),
    ])

  static func run(_ arguments: [String], _ context: Context) throws -> Int32 {
    guard let options = try parse(spec, arguments, context) else { return ExitStatus.success }
    _ = try options.positionals(0, "")
    let socketPath = options.value("socket")
    guard options.has("stdio") != (socketPath != nil) else {
      throw CommandError.usage("give exactly one of --stdio and --socket <path>")
    }
    let ring = try context.keyRing()
    let campaigns = try context.campaigns()
    let location = context.registry
    let store = try location.open(campaigns: campaigns, create: true)
    let service = Service(verifier: Verifier(keyRing: ring, campaigns: campaigns))
    let console = context.console
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

    if let socketPath {
      let listener = try listen(on: socketPath)
      let connections = Mutex<[Connection]>([])
      // SIGTERM and SIGINT: stop accepting and reading; the engine answers what was read.
      let stop: @Sendable () -> Void = {
        service.stop()
        shutdown(listener, Int32(SHUT_RDWR))
        for connection in connections.withLock({ $0 }) { connection.stopReading() }
      }
      let sources = [SIGTERM, SIGINT].map { number -> any DispatchSourceSignal in
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        source.setEventHandler(handler: stop)
        source.resume()
        return source
      }
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
          let connection = Connection(input: client, output: client)
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
      unlink(socketPath)
      for connection in connections.withLock({ $0 }) {
        connection.flush()
        connection.close()
        connection.flush()
      }
    } else {
      let connection = Connection(input: 0, output: 1)
      let session = service.open(connection)
      DispatchQueue(label: "voucher.stdin").async {
        read(connection, session)
        // The end of standard input ends the server, once everything read is answered.
        service.stop()
        session.finish()
      }
      engine.run()
      connection.flush()
    }
    return ExitStatus.success
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
