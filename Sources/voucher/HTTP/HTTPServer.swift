import Dispatch
import FoundationEssentials
import Synchronization
import VoucherHTTP
import VoucherKit
import VoucherService

#if canImport(Glibc)
  import Glibc
#endif

/// The HTTP transport of `voucher serve`: a TCP listener whose connections each get a thread
/// and a service session on the shared engine.
final class HTTPServer: Sendable {
  let listener: Int32
  /// The address bound, `HOST:PORT` (the port the system chose for port 0).
  let address: String
  private let context: HTTPConnectionContext
  private let tls: TLSServer?
  private let open = Mutex<[Int32: Bool]>([:])

  /// Binds `HOST:PORT` (a name, an IPv4 address, or an IPv6 one in brackets).
  ///
  /// - Throws: ``CommandError``: a usage error for an address that is none, 73 when it cannot
  ///   be bound.
  init(address text: String, context: HTTPConnectionContext, tls: TLSServer?) throws {
    guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...])
    else {
      throw CommandError.usage(
        "--http must be HOST:PORT (such as 127.0.0.1:8080), not '\(printable(text))'")
    }
    var host = String(text[..<colon])
    if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    var hints = addrinfo()
    hints.ai_family = AF_UNSPEC
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    hints.ai_flags = AI_PASSIVE
    var found: UnsafeMutablePointer<addrinfo>?
    guard getaddrinfo(host.isEmpty ? nil : host, String(port), &hints, &found) == 0,
      let first = found
    else {
      throw CommandError.usage("--http: cannot resolve '\(printable(host))'")
    }
    defer { freeaddrinfo(found) }
    let fd = socket(
      first.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else {
      throw CommandError(ExitStatus.ioError, SystemError("create a socket for", text).description)
    }
    var one: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    guard bind(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0, Glibc.listen(fd, 512) == 0
    else {
      let error = SystemError("listen on", text)
      Glibc.close(fd)
      throw CommandError(ExitStatus.cannotCreate, error.description)
    }
    listener = fd
    address = "\(first.pointee.ai_family == AF_INET6 ? "[\(host)]" : host):\(Self.port(of: fd))"
    self.context = context
    self.tls = tls
  }

  private static func port(of fd: Int32) -> UInt16 {
    var storage = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
    _ = withUnsafeMutablePointer(to: &storage) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    let family = storage.ss_family
    return withUnsafePointer(to: &storage) { pointer in
      if family == sa_family_t(AF_INET6) {
        return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
          UInt16(bigEndian: $0.pointee.sin6_port)
        }
      }
      return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
        UInt16(bigEndian: $0.pointee.sin_port)
      }
    }
  }

  /// Accepts connections on its own thread until ``stop()``; counts as an input of the service
  /// until then.
  func start() {
    let service = context.service
    service.openInput()
    DispatchQueue(label: "voucher.http.accept").async { [self] in
      defer { service.closeInput() }
      var number = 0
      while true {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let client = withUnsafeMutablePointer(to: &storage) {
          $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            accept(listener, $0, &length)
          }
        }
        if client >= 0 { _ = fcntl(client, F_SETFD, FD_CLOEXEC) }
        if client < 0 {
          if errno == EINTR || errno == ECONNABORTED { continue }
          if (errno == EMFILE || errno == ENFILE) && !service.isStopping {
            usleep(10_000)
            continue
          }
          break
        }
        if service.isStopping {
          Glibc.close(client)
          break
        }
        let admitted = open.withLock { open -> Bool in
          guard open.count < context.limits.connections else { return false }
          open[client] = true
          return true
        }
        // Bound every blocking read and write (a TLS handshake, a client that stops reading).
        var timeout = timeval(tv_sec: Int(context.limits.requestSeconds), tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(
          client, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        guard admitted else {
          if tls == nil {
            _ = PlainStream(fd: client).write(
              HTTPResponse.problem(
                503, "too many connections; retry shortly",
                headers: [.init("Retry-After", "1")]
              ).bytes(close: true))
          }
          Glibc.close(client)
          continue
        }
        let peer = Self.peer(storage)
        number += 1
        DispatchQueue(label: "voucher.http.\(number)").async { [self] in
          // Forgotten before its descriptor is closed, so that a stop never shuts down a
          // descriptor number that was reused.
          let forget = { _ = self.open.withLock { $0.removeValue(forKey: client) } }
          let stream: ByteStream
          if let tls {
            guard let secured = tls.accept(fd: client, beforeClose: forget) else { return }
            stream = secured
          } else {
            stream = PlainStream(fd: client)
          }
          let connection = HTTPConnection()
          let session = service.open(connection)
          serveHTTP(stream, peer: peer, context, session: session, connection: connection)
          session.finish()
          forget()
          stream.close()
        }
      }
    }
  }

  /// Stops accepting, and makes every connection's blocked read return.
  func stop() {
    shutdown(listener, Int32(SHUT_RDWR))
    for fd in open.withLock({ Array($0.keys) }) { shutdown(fd, Int32(SHUT_RD)) }
  }

  /// Closes the listener.
  func close() { Glibc.close(listener) }

  /// The client's address, for the rate limit.
  private static func peer(_ storage: sockaddr_storage) -> String {
    var storage = storage
    var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
    let family = storage.ss_family
    withUnsafePointer(to: &storage) { pointer in
      if family == sa_family_t(AF_INET6) {
        pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
          var address = $0.pointee.sin6_addr
          _ = inet_ntop(AF_INET6, &address, &text, socklen_t(text.count))
        }
      } else {
        pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
          var address = $0.pointee.sin_addr
          _ = inet_ntop(AF_INET, &address, &text, socklen_t(text.count))
        }
      }
    }
    return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
}
