import Foundation
import Testing
import VoucherTestSupport

#if canImport(Glibc)
  import Glibc
#endif

@Suite("README examples", .enabled(if: curlPath != nil, "curl is not installed"))
struct READMEExampleTests {
  @Test("the HTTP API example runs as it stands (on a free port instead of 8080)")
  func httpExample() throws {
    let readme = try String(contentsOfFile: packageRoot + "/README.md", encoding: .utf8)
    let marker = try #require(readme.range(of: "<!-- http-example -->\n```sh\n"))
    let rest = readme[marker.upperBound...]
    let script = String(rest[..<rest.range(of: "\n```")!.lowerBound])
    // A port nobody listens on: bind port 0, read it, close.
    let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        _ = bind(probe, $0, length)
        return getsockname(probe, $0, &length)
      }
    }
    let port = UInt16(bigEndian: address.sin_port)
    close(probe)
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "voucher-readme-\(UUID().uuidString)"
    ).path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let file = folder + "/example.sh"
    try ("set -eu\n" + script.replacingOccurrences(of: "127.0.0.1:8080", with: "127.0.0.1:\(port)"))
      .write(toFile: file, atomically: true, encoding: .utf8)
    let bin = URL(fileURLWithPath: voucherBinary).deletingLastPathComponent().path
    let outcome = runBinary(
      [file],
      environment: ["PATH": bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "")],
      directory: folder, executable: "/bin/bash", timeout: 60)
    #expect(outcome.status == 0, "\(outcome.stderr)")
    let answers = outcome.stdout
    for status in ["\"status\":\"valid\"", "\"status\":\"redeemed\"", "\"status\":\"claimed\""] {
      #expect(answers.contains(status), "\(status) in \(answers)")
    }
    #expect(answers.contains("Voucher-Cursor: "))
    #expect(answers.contains("\"event\":\"claimed\""))
    #expect(answers.contains(#""campaign","channel","issued""#))
    #expect(
      !answers.contains("\"status\":4") && !answers.contains("\"status\":5"),
      "a problem: \(answers)")
  }
}
