import Foundation
import Testing
import VoucherTestSupport

#if canImport(Glibc)
  import Glibc
#endif

/// The status code of the first answer in raw response text.
private func statusCodes(_ text: String) -> [Int] {
  text.components(separatedBy: "\n").compactMap { line in
    guard line.hasPrefix("HTTP/1.1 ") else { return nil }
    return Int(line.dropFirst(9).prefix(3))
  }
}

@Suite("serve --http: strict framing, limits and timeouts over raw TCP")
struct HTTPFramingTests {
  @Test(
    "each framing attack is refused with 400 and the connection closed; nothing behind it is run")
  func framingAttacks() throws {
    let home = try Home()
    defer { home.remove() }
    let code = home.run("issue", "--campaign", "summer", "--channel", "flyer", "--count", "1")
      .stdoutLines[0]
    let till = try addToken(home, "till", "till", store: "S1")
    let server = try RunningHTTPServer(home)
    // What a smuggler would hide behind the ambiguous request: a redemption.
    let smuggled =
      "POST /v1/codes/\(code)/redeem HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(till)\r\nContent-Length: 2\r\n\r\n{}"
    let attacks: [(String, String)] = [
      (
        "CL and TE",
        "POST /v1/health HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
      ),
      (
        "two CLs",
        "POST /v1/health HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\n"
      ),
      ("obs-fold", "GET /v1/health HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n"),
      ("bare LF", "GET /v1/health HTTP/1.1\nHost: x\n\n"),
      ("bare CR", "GET /v1/health HTTP/1.1\r\nHost: x\rX: y\r\n\r\n"),
      (
        "chunk size overflow",
        "POST /v1/health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000000001\r\n"
      ),
      (
        "TE obfuscated",
        "POST /v1/health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n"
      ),
      ("no Host", "GET /v1/health HTTP/1.1\r\n\r\n"),
    ]
    for (name, attack) in attacks {
      let (text, closed) = rawHTTP(port: server.port, Array((attack + smuggled).utf8))
      #expect(statusCodes(text) == [400], "\(name): \(text)")
      #expect(closed, "\(name): the connection stays open")
      #expect(text.contains("application/problem+json"), "\(name)")
    }
    #expect(home.run("verify", code).status == 0, "a smuggled redemption ran")
    #expect(server.stop() == 0, "\(server.log)")
  }

  @Test("oversized requests: 414, 431, 413, and 505 / 501 for versions and codings not spoken")
  func oversized() throws {
    let home = try Home()
    defer { home.remove() }
    let server = try RunningHTTPServer(home)
    let cases: [(String, Int)] = [
      ("GET /v1/" + String(repeating: "a", count: 5000) + " HTTP/1.1\r\nHost: x\r\n\r\n", 414),
      (
        "GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "b", count: 20_000)
          + "\r\n\r\n", 431
      ),
      (
        "GET /v1/health HTTP/1.1\r\nHost: x\r\n" + String(repeating: "X-A: b\r\n", count: 100)
          + "\r\n", 431
      ),
      ("POST /v1/codes/A/redeem HTTP/1.1\r\nHost: x\r\nContent-Length: 70000\r\n\r\n", 413),
      (
        "POST /v1/codes/A/redeem HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
          + String(repeating: "8000\r\n" + String(repeating: "x", count: 0x8000) + "\r\n", count: 3),
        413
      ),
      ("GET /v1/health HTTP/2.0\r\nHost: x\r\n\r\n", 505),
      ("POST /v1/health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
    ]
    for (request, status) in cases {
      let (text, closed) = rawHTTP(port: server.port, Array(request.utf8))
      #expect(statusCodes(text) == [status] && closed, "\(status): \(text.prefix(200))")
    }
    #expect(server.stop() == 0, "\(server.log)")
  }

  @Test(
    "pipelining: requests sent at once are answered in order; HTTP/1.0 and Connection: close end the connection"
  )
  func pipelining() throws {
    let home = try Home()
    defer { home.remove() }
    let code = home.run("issue", "--campaign", "summer", "--channel", "flyer", "--count", "1")
      .stdoutLines[0]
    let till = try addToken(home, "till", "till", store: "S1")
    let server = try RunningHTTPServer(home)
    let auth = "Authorization: Bearer \(till)\r\n"
    let text =
      "GET /v1/codes/\(code) HTTP/1.1\r\nHost: x\r\n\(auth)\r\n"
      + "POST /v1/codes/\(code)/redeem HTTP/1.1\r\nHost: x\r\n\(auth)Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
      + "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n"
      + "GET /v1/codes/\(code) HTTP/1.1\r\nHost: x\r\n\(auth)Connection: close\r\n\r\n"
      + "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n"
    let (answer, closed) = rawHTTP(port: server.port, Array(text.utf8))
    #expect(statusCodes(answer) == [200, 200, 200, 200] && closed, "\(answer)")
    let statuses = answer.components(separatedBy: "\"status\":\"").dropFirst().map {
      $0.prefix { $0 != "\"" }
    }
    #expect(statuses == ["valid", "redeemed", "ok", "used-up"], "\(answer)")
    let (old, oldClosed) = rawHTTP(port: server.port, Array("GET /v1/health HTTP/1.0\r\n\r\n".utf8))
    #expect(statusCodes(old) == [200] && oldClosed)
    #expect(server.stop() == 0, "\(server.log)")
  }

  @Test(
    "slow and idle clients: a request not whole within the request timeout gets 408 and is closed; an idle keep-alive connection is closed; past the connection limit 503"
  )
  func slowAndIdle() throws {
    let home = try Home()
    defer { home.remove() }
    let server = try RunningHTTPServer(
      home, ["--request-timeout", "1", "--idle-timeout", "1", "--max-connections", "2"])
    // Slowloris: a header that never ends.
    var started = Date()
    let (slow, slowClosed) = rawHTTP(
      port: server.port, Array("GET /v1/health HTTP/1.1\r\nHost: x\r\nX-A: ".utf8))
    #expect(statusCodes(slow) == [408] && slowClosed, "\(slow)")
    #expect(Date().timeIntervalSince(started) < 5)
    // A body that never comes.
    let (body, bodyClosed) = rawHTTP(
      port: server.port,
      Array("POST /v1/codes/A/redeem HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{".utf8))
    #expect(statusCodes(body) == [408] && bodyClosed)
    // Idle after an answer: closed without a word.
    started = Date()
    let (idle, idleClosed) = rawHTTP(
      port: server.port, Array("GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
    #expect(statusCodes(idle) == [200] && idleClosed && Date().timeIntervalSince(started) < 5)
    // Two connections held open (idle); a third is turned away with 503.
    let holders = (0..<2).map { _ in socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0) }
    defer { for fd in holders { close(fd) } }
    for fd in holders {
      var address = sockaddr_in()
      address.sin_family = sa_family_t(AF_INET)
      address.sin_port = server.port.bigEndian
      address.sin_addr.s_addr = inet_addr("127.0.0.1")
      _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
      }
    }
    usleep(200_000)
    let (turned, _) = rawHTTP(
      port: server.port, Array("GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
    #expect(statusCodes(turned) == [503] && turned.contains("Retry-After"), "\(turned)")
    #expect(server.stop() == 0, "\(server.log)")
  }
}
