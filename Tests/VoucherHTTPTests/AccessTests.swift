import Foundation
import Synchronization
import Testing
import VoucherHTTP
import VoucherService

/// A temporary folder, removed by the caller.
private func folder() throws -> String {
  let path = FileManager.default.temporaryDirectory.appendingPathComponent(
    "voucher-http-\(UUID().uuidString)"
  ).path
  try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  return path
}

@Suite("Tokens, the wrong-code limit and idempotency keys")
struct AccessTests {
  @Test(
    "a token book keeps hashes only, finds a secret, refuses a file others can read, and a damaged line"
  )
  func tokenBook() throws {
    let dir = try folder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/tokens"
    var book = TokenBook()
    let till = try book.add(name: "till-1", scope: .till, store: try .init("S1"))
    let web = try book.add(name: "web", scope: .web, store: nil)
    #expect(till.hasPrefix("vt_") && till.utf8.count == 67 && till != web)
    #expect(throws: TokenError.exists("web")) {
      _ = try book.add(name: "web", scope: .web, store: nil)
    }
    #expect(throws: TokenError.storeMismatch(.till)) {
      _ = try book.add(name: "t2", scope: .till, store: nil)
    }
    #expect(throws: TokenError.badName("a b")) {
      _ = try book.add(name: "a b", scope: .web, store: nil)
    }
    try book.save(to: path)
    let text = try String(contentsOfFile: path, encoding: .utf8)
    #expect(!text.contains(till) && !text.contains(web))
    let mode =
      try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as! NSNumber
    #expect(mode.intValue == 0o600)
    let loaded = try TokenBook.load(from: path)
    #expect(loaded == book)
    #expect(loaded.token(secret: till)?.store == "S1" && loaded.token(secret: web)?.scope == .web)
    #expect(loaded.token(secret: till + "0") == nil && loaded.token(secret: "") == nil)
    chmod(path, 0o640)
    #expect(throws: TokenError.tooOpen(path: path, mode: 0o640)) {
      _ = try TokenBook.load(from: path)
    }
    try "web web - 00\n".write(toFile: path, atomically: false, encoding: .utf8)
    chmod(path, 0o600)
    #expect(throws: TokenError.damaged(path: path, line: 1)) { _ = try TokenBook.load(from: path) }
    #expect(try TokenBook.load(from: dir + "/none").tokens.isEmpty)
  }

  @Test("token buckets: a burst, then waiting in proportion to the refill; buckets are separate")
  func rateLimiter() {
    let clock = Mutex(1000.0)
    let limiter = RateLimiter(burst: 3, perSecond: 0.5, clock: { clock.withLock { $0 } })
    for _ in 0..<3 {
      #expect(limiter.wait(["a", "peer"]) == 0)
      limiter.spend(["a", "peer"])
    }
    #expect(limiter.wait(["a"]) == 2 && limiter.wait(["peer"]) == 2 && limiter.wait(["b"]) == 0)
    #expect(limiter.wait(["b", "peer"]) == 2, "the address bucket limits another token too")
    clock.withLock { $0 += 2 }
    #expect(limiter.wait(["a"]) == 0)
  }

  @Test(
    "idempotency keys: same request proceeds with the same id, another is a mismatch, a key in flight waits; bindings survive a reopen"
  )
  func idempotency() throws {
    let dir = try folder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/keys"
    var book: IdempotencyBook? = try IdempotencyBook(path: path, now: 1000)
    let body = Array("POST /v1/codes/A/redeem\n{}".utf8)
    guard case .proceed(let id)? = book?.begin(key: "k", token: "t", request: body, now: 1000)
    else {
      Issue.record("no proceed")
      return
    }
    #expect(id.hasPrefix("idem:") && id.utf8.count == 45)
    #expect(book?.begin(key: "k", token: "t", request: body, now: 1000) == .inFlight)
    book?.end(request: id)
    #expect(book?.begin(key: "k", token: "t", request: body, now: 1000) == .proceed(request: id))
    book?.end(request: id)
    #expect(book?.begin(key: "k", token: "t", request: body + [0x20], now: 1000) == .mismatch)
    guard case .proceed(let other)? = book?.begin(key: "k", token: "u", request: body, now: 1000)
    else {
      Issue.record("another token's key is its own")
      return
    }
    #expect(other != id)
    book = nil
    // A torn last line (a crash while appending) is no binding.
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    try handle.seekToEnd()
    try handle.write(contentsOf: Data("1000 abc".utf8))
    try handle.close()
    let reopened = try IdempotencyBook(path: path, now: 2000)
    #expect(reopened.begin(key: "k", token: "t", request: body + [0x20], now: 2000) == .mismatch)
    #expect(reopened.begin(key: "k", token: "t", request: body, now: 2000) == .proceed(request: id))
    let later = try IdempotencyBook(path: path, now: 1000 + IdempotencyBook.lifetime + 1)
    #expect(
      later.begin(
        key: "k", token: "t", request: body + [0x20], now: 1000 + IdempotencyBook.lifetime + 1)
        == .proceed(request: id), "a binding older than a day is dropped")
  }

  @Test("routes: exactly the documented paths; percent-decoding; queries")
  func routes() throws {
    #expect(
      try HTTPRoute.match(method: "GET", path: "/v1/codes/0wpj%20rmmh").get()
        == .verify("0wpj rmmh"))
    #expect(try HTTPRoute.match(method: "POST", path: "/v1/codes/A/redeem").get() == .redeem("A"))
    #expect((try? HTTPRoute.match(method: "GET", path: "/v1/codes/A/redeem").get()) == nil)
    if case .failure(let response) = HTTPRoute.match(method: "GET", path: "/v1/codes/%FF") {
      #expect(response.status == 400)
    } else {
      Issue.record("invalid UTF-8 accepted")
    }
    if case .failure(let response) = HTTPRoute.match(method: "PUT", path: "/v1/health") {
      #expect(response.status == 405 && response.header("Allow") == "GET")
    }
    #expect(HTTPRoute.parameters("a=1&b=x+y%21") == ["a": "1", "b": "x y!"])
    #expect(HTTPRoute.parameters("a=1&a=2") == nil && HTTPRoute.parameters("a=%") == nil)
    #expect(HTTPRoute.documented.count == 9)
  }
}
