import Dispatch
import FoundationEssentials
import Synchronization
import VoucherKit
import VoucherRegistry

#if canImport(Glibc)
  import Glibc
#endif

/// `voucher serve`: a long-running verifier for point-of-sale systems, JSON Lines over standard
/// input and output or a Unix domain socket, with group commit.
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

  /// Longest request line accepted; a longer one gets an error answer and is skipped.
  static let lineLimit = 64 << 10

  static func run(_ arguments: [String], _ context: Context) throws -> Int32 {
    guard let options = try parse(spec, arguments, context) else { return ExitStatus.success }
    _ = try options.positionals(0, "")
    let socketPath = options.value("socket")
    guard options.has("stdio") != (socketPath != nil) else {
      throw CommandError.usage("give exactly one of --stdio and --socket <path>")
    }
    let ring = try KeyRing.load(from: context.home.keys)
    let campaigns = try context.home.campaignStore.load()
    let registry = try Registry.open(
      home: context.home, campaigns: campaigns, create: true, lockTimeout: lockTimeout(context))
    let server = Server(
      keyRing: ring, campaigns: campaigns, registry: registry, console: context.console)
    signal(SIGPIPE, SIG_IGN)
    // Each reader answers verifies itself, through its own read-only view of the registry.
    let home = context.home
    let timeout = lockTimeout(context)
    let read: @Sendable (Connection, Inbox) -> Void = { connection, inbox in
      let view = try? Registry.open(
        home: home, campaigns: campaigns, create: false, lockTimeout: timeout)
      let verifier = Verifier(keyRing: ring, campaigns: campaigns)
      readLines(connection, into: inbox, lineLimit: lineLimit) {
        Server.answerVerify($0, view: view, verifier: verifier)
      }
    }

    if let socketPath {
      let listener = try listen(on: socketPath)
      let connections = Mutex<[Connection]>([])
      // SIGTERM and SIGINT: stop accepting and reading; the committer answers what was read.
      let control = server.control
      let stop: @Sendable () -> Void = {
        control.stop()
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
      let inbox = server.inbox
      inbox.readerStarted()
      DispatchQueue(label: "voucher.accept").async {
        defer { inbox.readerEnded() }
        var spare = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { Glibc.close(spare) }
        var number = 0
        while true {
          let client = accept(listener, nil, nil)
          if client < 0 {
            if errno == EINTR || errno == ECONNABORTED { continue }
            // Out of descriptors: give back the spare one, turn the waiting client away, and
            // take the spare again, so that the registry's own files can still be opened.
            if (errno == EMFILE || errno == ENFILE) && !control.isStopping {
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
            return control.isStopping
          }
          if stopped { connection.stopReading() }
          number += 1
          inbox.readerStarted()
          DispatchQueue(label: "voucher.client.\(number)").async {
            read(connection, inbox)
            inbox.readerEnded()
          }
        }
      }
      server.commitLoop()
      for source in sources { source.cancel() }
      close(listener)
      unlink(socketPath)
      for connection in connections.withLock({ $0 }) {
        connection.flush()
        connection.close()
        connection.flush()
      }
    } else {
      let control = server.control
      let inbox = server.inbox
      let connection = Connection(input: 0, output: 1)
      inbox.readerStarted()
      DispatchQueue(label: "voucher.stdin").async {
        read(connection, inbox)
        control.stop()
        inbox.readerEnded()
      }
      server.commitLoop()
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
