import Foundation
import Testing
import VoucherTestSupport

#if canImport(Glibc)
  import Glibc
#endif

/// Where openssl is, or `nil`.
let opensslPath: String? = ["/usr/bin/openssl", "/usr/local/bin/openssl"].first {
  FileManager.default.isExecutableFile(atPath: $0)
}

/// Runs `openssl` with arguments in a folder; requires success.
func openssl(_ arguments: [String], in folder: String) throws {
  let outcome = runBinary(arguments, directory: folder, executable: opensslPath!, timeout: 60)
  try #require(
    outcome.status == 0, "openssl \(arguments.joined(separator: " ")): \(outcome.stderr)")
}

@Suite(
  "serve --http with TLS (libssl)",
  .enabled(if: curlPath != nil && opensslPath != nil, "curl or openssl is not installed"))
struct HTTPTLSTests {
  @Test(
    "HTTPS with a certificate made by openssl; with --tls-client-ca a client certificate is required"
  )
  func tls() throws {
    let home = try Home()
    defer { home.remove() }
    let code = home.run("issue", "--campaign", "summer", "--channel", "flyer", "--count", "1")
      .stdoutLines[0]
    let till = try addToken(home, "till", "till", store: "S1")
    let dir = home.path
    // A CA, a server certificate for 127.0.0.1 and a till's client certificate, both signed by it.
    try openssl(
      [
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-subj", "/CN=voucher test CA", "-days", "2",
      ], in: dir)
    for (name, extra) in [
      ("server", "subjectAltName=IP:127.0.0.1"), ("till", "extendedKeyUsage=clientAuth"),
    ] {
      try openssl(
        [
          "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(name).key", "-out", "\(name).csr",
          "-subj", "/CN=\(name)",
        ], in: dir)
      try String("\(extra)\n").write(
        toFile: dir + "/\(name).ext", atomically: true, encoding: .utf8)
      try openssl(
        [
          "x509", "-req", "-in", "\(name).csr", "-CA", "ca.pem", "-CAkey", "ca.key",
          "-CAcreateserial", "-out", "\(name).pem", "-days", "2", "-extfile", "\(name).ext",
        ], in: dir)
    }
    var server = try RunningHTTPServer(
      home, ["--tls-cert", dir + "/server.pem", "--tls-key", dir + "/server.key"])
    let url = "https://\(server.address)"
    #expect(server.log.contains("serving HTTPS on https://"))
    let health = try curl(["--cacert", dir + "/ca.pem", url + "/v1/health"])
    #expect(health.status == 200 && health.json?["status"]?.string == "ok")
    let redeemed = try curl([
      "--cacert", dir + "/ca.pem", "-X", "POST", "-H", "Authorization: Bearer \(till)", "-H",
      "Content-Type: application/json", "--data-binary", "{}", url + "/v1/codes/\(code)/redeem",
    ])
    #expect(redeemed.json?["status"]?.string == "redeemed")
    // Plain HTTP to a TLS port is not answered as HTTP; an unknown CA is refused by curl.
    #expect(try curl([server.url + "/v1/health"]).status == 0)
    #expect(try curl([url + "/v1/health"]).status == 0)
    #expect(server.stop() == 0, "\(server.log)")

    server = try RunningHTTPServer(
      home,
      [
        "--tls-cert", dir + "/server.pem", "--tls-key", dir + "/server.key", "--tls-client-ca",
        dir + "/ca.pem",
      ])
    let https = "https://\(server.address)"
    #expect(
      try curl(["--cacert", dir + "/ca.pem", https + "/v1/health"]).status == 0,
      "no client certificate")
    let withCertificate = try curl([
      "--cacert", dir + "/ca.pem", "--cert", dir + "/till.pem", "--key", dir + "/till.key",
      "-H", "Authorization: Bearer \(till)", https + "/v1/codes/\(code)",
    ])
    #expect(withCertificate.status == 200 && withCertificate.json?["status"]?.string == "used-up")
    // The server kept serving after the refused handshake.
    #expect(server.stop() == 0, "\(server.log)")

    // Wrong files: a clear error and a configuration exit, before serving.
    let bad = home.run(arguments: [
      "serve", "--http", "127.0.0.1:0", "--tls-cert", dir + "/till.key", "--tls-key",
      dir + "/server.key",
    ])
    #expect(bad.status == 78 && bad.stderr.hasPrefix("error: "), "\(bad.stderr)")
    let mismatched = home.run(arguments: [
      "serve", "--http", "127.0.0.1:0", "--tls-cert", dir + "/server.pem", "--tls-key",
      dir + "/till.key",
    ])
    #expect(
      mismatched.status == 78 && mismatched.stderr.contains("till.key"), "\(mismatched.stderr)")
    let alone = home.run(arguments: ["serve", "--stdio", "--tls-cert", dir + "/server.pem"])
    #expect(alone.status == 64)
  }
}
