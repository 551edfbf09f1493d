import Foundation
import Testing
import VoucherTestSupport

#if canImport(Glibc)
  import Glibc
#endif

@Suite("campaign changes in a running serve")
struct CampaignLiveTests {
  @Test(
    "campaign set --ends moves the end for a running serve at once, over the socket and HTTP, without a restart"
  )
  func endMovesInServe() throws {
    let home = try Home()
    defer { home.remove() }
    let code = try #require(
      home.run("issue", "--campaign", "summer", "--channel", "flyer", "--count", "1").stdoutLines
        .first)
    let token = try addToken(home, "till", "till", store: "S1")
    let socket = home.path + "/till.sock"
    let server = try RunningHTTPServer(home, ["--socket", socket])
    defer { server.stop() }
    let deadline = Date().addingTimeInterval(10)
    while !FileManager.default.fileExists(atPath: socket), Date() < deadline { usleep(10_000) }
    let client = try SocketClient(path: socket)
    func socketStatus() -> String? {
      client.send(request(["id": 1, "op": "verify", "code": code]))
      return client.lines(1).first.flatMap(decode)?["status"]?.string
    }
    func httpStatus() throws -> String? {
      decode(try call(server, "GET", "/v1/codes/\(code)", token: token).body)?["status"]?.string
    }
    #expect(socketStatus() == "valid")
    #expect(try httpStatus() == "valid")
    let yesterday = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-86_400)).prefix(
      10)
    #expect(home.run("campaign", "set", "summer", "--ends", String(yesterday)).status == 0)
    #expect(socketStatus() == "expired")
    #expect(try httpStatus() == "expired")
    // A redemption is refused as expired too, and the end can move back.
    client.send(request(["id": 2, "op": "redeem", "code": code, "store": "S1"]))
    #expect(client.lines(1).first.flatMap(decode)?["status"]?.string == "expired")
    #expect(home.run("campaign", "end", "summer", "--no-end").status == 0)
    #expect(socketStatus() == "valid")
    #expect(try httpStatus() == "valid")
    // More uses hold at once too: the code's second use is allowed.
    client.send(request(["id": 3, "op": "redeem", "code": code, "store": "S1"]))
    #expect(client.lines(1).first.flatMap(decode)?["status"]?.string == "redeemed")
    client.send(request(["id": 4, "op": "redeem", "code": code, "store": "S1"]))
    #expect(client.lines(1).first.flatMap(decode)?["status"]?.string == "used-up")
    #expect(home.run("campaign", "set", "summer", "--uses", "2").status == 0)
    client.send(request(["id": 5, "op": "redeem", "code": code, "store": "S1"]))
    #expect(client.lines(1).first.flatMap(decode)?["status"]?.string == "redeemed")
    client.close()
    #expect(server.stop() == 0, "\(server.log)")
  }
}
