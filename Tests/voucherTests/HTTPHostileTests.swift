import Foundation
import Testing
import VoucherTestSupport

#if canImport(Glibc)
  import Glibc
#endif

/// Python's http.client sends every hostile string as a code in the path, as each body field and
/// as a header value, reconnecting when the server closes; it prints one line per answer:
/// `STATUS CONTENT-TYPE JSON-OK`, or `closed` when the server closed without an answer.
private let hostileClient = #"""
  import http.client, json, sys, urllib.parse
  host, port, till, web, naughty_path, code = sys.argv[1:7]
  lines = open(naughty_path, encoding="utf-8", errors="surrogateescape").read().split("\n")
  conn = None
  def send(method, path, body=None, headers=None, token=till):
      global conn
      h = {"Authorization": "Bearer " + token}
      if body is not None:
          h["Content-Type"] = "application/json"
      h.update(headers or {})
      for attempt in range(2):
          if conn is None:
              conn = http.client.HTTPConnection(host, int(port), timeout=30)
          try:
              conn.request(method, path, body=body, headers=h)
              r = conn.getresponse()
              data = r.read()
              if r.getheader("Connection") == "close":
                  conn.close(); conn = None
              try:
                  json.loads(data); ok = "json"
              except Exception:
                  ok = "notjson"
              print(r.status, r.getheader("Content-Type"), ok)
              return
          except (http.client.HTTPException, OSError) as e:
              conn = None
              if attempt == 1:
                  print("closed", type(e).__name__)
  for text in lines:
      raw = text.encode("utf-8", "surrogateescape")
      send("GET", "/v1/codes/" + urllib.parse.quote(raw, safe=""))
      for field in ["terminal", "profile", "request"]:
          send("POST", "/v1/codes/%s/redeem" % code, json.dumps({field: text}))
      send("POST", "/v1/codes/%s/void" % code, json.dumps({"reason": text}))
      send("POST", "/v1/codes/%s/claim" % code, json.dumps({"profile": text}), token=web)
      try:
          send("GET", "/v1/health", headers={"X-Note": text, "Idempotency-Key": text})
      except ValueError:
          pass  # http.client refuses to send a header with CR or LF itself
  """#

@Suite(
  "serve --http with hostile strings", .enabled(if: python3Path != nil, "python3 is not installed"))
struct HTTPHostileTests {
  @Test(
    "every naughty string as a code, each body field and a header: a 2xx or 4xx JSON answer, never a 5xx, and the server lives on"
  )
  func naughty() throws {
    let home = try Home()
    defer { home.remove() }
    let code = home.run("issue", "--campaign", "summer", "--channel", "flyer", "--count", "1")
      .stdoutLines[0]
    let till = try addToken(home, "till", "till", store: "S1")
    let web = try addToken(home, "web", "web")
    // A generous wrong-code limit: this test is about hostile input, not about the limit.
    let server = try RunningHTTPServer(home, ["--wrong-code-burst", "100000"])
    let strings = try TestData.naughtyStrings()
    let file = home.path + "/naughty.txt"
    try strings.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
    let outcome = try python(
      hostileClient, ["127.0.0.1", String(server.port), till, web, file, code], timeout: 600)
    #expect(outcome.status == 0, "\(outcome.stderr.suffix(2000))")
    let answers = outcome.stdoutLines
    #expect(answers.count >= strings.count * 6)
    for answer in answers {
      let parts = answer.split(separator: " ")
      guard let status = Int(parts[0]) else {
        Issue.record("no answer: \(answer)")
        continue
      }
      #expect((200..<500).contains(status), "\(answer)")
      #expect(parts.last == "json", "\(answer)")
    }
    #expect(try call(server, "GET", "/v1/health").status == 200)
    #expect(server.stop() == 0, "\(server.log)")
    #expect(!server.log.contains("internal error"), "\(server.log.suffix(1000))")
    #expect(home.run("registry", "check").status == 0)
    // At most one live use of the code, whatever the strings did.
    let events = home.run("export", "--format", "jsonl").stdoutLines.compactMap(decode)
    let live =
      events.filter { $0["event"]?.string == "redeemed" }.count
      - events.filter { $0["event"]?.string == "voided" }.count
    #expect(live == 0 || live == 1)
  }
}
