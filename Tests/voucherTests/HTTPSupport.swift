import Foundation
import Testing
import VoucherTestSupport

#if canImport(Glibc)
  import Glibc
#endif

/// A running `voucher serve --http` in a home, and the address it printed.
final class RunningHTTPServer {
  let process: Process
  let address: String
  let errors: URL

  /// Starts the server on `127.0.0.1:0` with `extra` options (`--tls-cert ...`, `--socket ...`).
  init(_ home: Home, _ extra: [String] = []) throws {
    errors = URL(fileURLWithPath: home.path + "/serve-\(UUID().uuidString).err")
    _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
    process = Process()
    process.executableURL = URL(fileURLWithPath: voucherBinary)
    process.arguments = ["--home", home.path, "serve", "--http", "127.0.0.1:0"] + extra
    process.standardOutput = FileHandle.nullDevice
    process.standardError = try FileHandle(forWritingTo: errors)
    try process.run()
    let deadline = Date().addingTimeInterval(20)
    while true {
      let text = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
      if let range = text.range(of: #"127\.0\.0\.1:[0-9]+"#, options: .regularExpression) {
        address = String(text[range])
        break
      }
      guard process.isRunning, Date() < deadline else {
        throw TestFailure("the HTTP server did not start: \(text)")
      }
      usleep(20_000)
    }
  }

  var port: UInt16 { UInt16(address.split(separator: ":").last!)! }
  var url: String { "http://\(address)" }

  /// What the server wrote to standard error.
  var log: String { (try? String(contentsOf: errors, encoding: .utf8)) ?? "" }

  /// SIGTERM, and waits for the exit status.
  @discardableResult
  func stop() -> Int32 {
    if process.isRunning { kill(process.processIdentifier, SIGTERM) }
    process.waitUntilExit()
    return process.terminationStatus
  }

  /// SIGKILL, and waits.
  func kill9() {
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
  }

  deinit { kill9() }
}

/// One answer as curl saw it.
struct CurlAnswer {
  let status: Int
  let headers: String
  let body: String
  var json: JSONValue? { decode(body) }

  /// A header's value (case-insensitive name).
  func header(_ name: String) -> String? {
    for line in headers.split(separator: "\r\n") {
      let parts = line.split(separator: ":", maxSplits: 1)
      if parts.count == 2, parts[0].lowercased() == name.lowercased() {
        return parts[1].trimmingCharacters(in: .whitespaces)
      }
    }
    return nil
  }
}

/// Where curl is, or `nil` (the tests that need it are then skipped with the reason).
let curlPath: String? = ["/usr/bin/curl", "/bin/curl", "/usr/local/bin/curl"].first {
  FileManager.default.isExecutableFile(atPath: $0)
}

/// Runs curl with `arguments` (after `-s -S`), and answers the last response's status,
/// headers and body.
func curl(_ arguments: [String], timeout: Double = 30) throws -> CurlAnswer {
  guard let curlPath else { throw TestFailure("curl is missing") }
  let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
    "voucher-curl-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: scratch) }
  let body = scratch.appendingPathComponent("body").path
  let headers = scratch.appendingPathComponent("headers").path
  let outcome = runBinary(
    [
      "-s", "-S", "--max-time", String(Int(timeout)), "-o", body, "-D", headers, "-w",
      "%{http_code}",
    ]
      + arguments, executable: curlPath, timeout: timeout + 5)
  let status = Int(outcome.stdout) ?? 0
  let headerText = (try? String(contentsOfFile: headers, encoding: .utf8)) ?? ""
  // With several answers (a 100 Continue), the last header block is the answer's.
  let last = headerText.components(separatedBy: "\r\n\r\n").filter { !$0.isEmpty }.last ?? ""
  return CurlAnswer(
    status: status, headers: last,
    body: (try? String(contentsOfFile: body, encoding: .utf8)) ?? outcome.stderr)
}

/// curl against a server with a bearer token: `GET` without a body, `POST` with a JSON one.
func call(
  _ server: RunningHTTPServer, _ method: String, _ path: String, token: String? = nil,
  body: String? = nil, headers: [String] = []
) throws -> CurlAnswer {
  var arguments = ["-X", method, server.url + path]
  if let token { arguments += ["-H", "Authorization: Bearer \(token)"] }
  if let body { arguments += ["-H", "Content-Type: application/json", "--data-binary", body] }
  for header in headers { arguments += ["-H", header] }
  return try curl(arguments)
}

/// Sends raw bytes over TCP and reads until the server closes or `timeout` passes: the answer
/// text, and whether the server closed the connection.
func rawHTTP(port: UInt16, _ bytes: [UInt8], timeout: Double = 10, pauseAfter: Int? = nil)
  -> (text: String, closed: Bool)
{
  let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
  defer { close(fd) }
  var address = sockaddr_in()
  address.sin_family = sa_family_t(AF_INET)
  address.sin_port = port.bigEndian
  address.sin_addr.s_addr = inet_addr("127.0.0.1")
  let connected = withUnsafePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
      connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
    }
  }
  guard connected == 0 else { return ("", true) }
  var wait = timeval(tv_sec: Int(timeout), tv_usec: 0)
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
  _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
  var received: [UInt8] = []
  var chunk = [UInt8](repeating: 0, count: 1 << 16)
  while true {
    let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
    if n == 0 || (n < 0 && errno == ECONNRESET) {
      return (String(decoding: received, as: UTF8.self), true)
    }
    if n < 0 { return (String(decoding: received, as: UTF8.self), false) }
    received += chunk[0..<n]
  }
}

/// Where python3 is (the first on `PATH`, as `.ci/run` installs its modules for), or `nil`.
let python3Path: String? =
  (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map {
    "\($0)/python3"
  }.first { FileManager.default.isExecutableFile(atPath: $0) }
  ?? ["/usr/bin/python3", "/usr/local/bin/python3"].first {
    FileManager.default.isExecutableFile(atPath: $0)
  }

/// Runs a Python script with arguments.
func python(_ script: String, _ arguments: [String], timeout: Double = 300) throws -> Outcome {
  guard let python3Path else { throw TestFailure("python3 is missing") }
  let file = FileManager.default.temporaryDirectory.appendingPathComponent(
    "voucher-\(UUID().uuidString).py")
  try script.write(to: file, atomically: true, encoding: .utf8)
  defer { try? FileManager.default.removeItem(at: file) }
  return runBinary([file.path] + arguments, executable: python3Path, timeout: timeout)
}

/// Adds a token with the CLI; answers its secret.
func addToken(_ home: Home, _ name: String, _ scope: String, store: String? = nil) throws
  -> String
{
  var arguments = ["tokens", "add", name, "--scope", scope, "--format", "json"]
  if let store { arguments += ["--store", store] }
  let outcome = home.run(arguments: arguments)
  try #require(outcome.status == 0, "\(outcome.stderr)")
  return try #require(decode(outcome.stdout)?["token"]?.string)
}
