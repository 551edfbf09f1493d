import Foundation
import Testing
import VoucherHTTP

/// Frames everything `text` holds, fed in pieces of `piece` bytes.
private func frame(_ text: String, piece: Int = .max, limits: HTTPLimits = HTTPLimits())
  -> [HTTPParser.Step]
{
  let bytes = Array(text.utf8)
  return frame(bytes, pieces: [max(1, min(piece, bytes.count))], limits: limits)
}

/// Frames `bytes` fed in pieces of the given sizes, cycled (as the fuzz driver feeds them).
private func frame(_ bytes: [UInt8], pieces: [Int], limits: HTTPLimits) -> [HTTPParser.Step] {
  var parser = HTTPParser(limits: limits)
  var steps: [HTTPParser.Step] = []
  var offset = 0
  var piece = 0
  repeat {
    let end = min(bytes.count, offset + pieces[piece % pieces.count])
    parser.append(bytes[offset..<end])
    offset = end
    piece += 1
    while true {
      let step = parser.next()
      if step == .needMore { break }
      steps.append(step)
      if case .failure = step { return steps }
    }
  } while offset < bytes.count
  return steps
}

private func status(_ steps: [HTTPParser.Step]) -> Int? {
  if case .failure(let error) = steps.last { return error.status }
  return nil
}

@Suite("HTTP/1.1 request parser")
struct HTTPParserTests {
  @Test("a GET, a POST with a body and a chunked POST, pipelined, in one piece and byte by byte")
  func pipelined() {
    let text =
      "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n"
      + "POST /v1/codes/A/redeem HTTP/1.1\r\nHost: x\r\nContent-Length: 13\r\n\r\n{\"store\":\"S\"}"
      + "POST /v1/codes/B/claim HTTP/1.1\r\nhost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      + "4;ext=1\r\n{\"pr\r\n5\r\nofile\r\n0\r\nX-Trailer: y\r\n\r\n"
    for piece in [Int.max, 1, 7] {
      let steps = frame(text, piece: piece)
      #expect(steps.count == 3, "piece \(piece): \(steps)")
      guard steps.count == 3, case .request(let a) = steps[0], case .request(let b) = steps[1],
        case .request(let c) = steps[2]
      else { continue }
      #expect(a.method == "GET" && a.path == "/v1/health" && a.body.isEmpty && a.keepAlive)
      #expect(b.body == Array("{\"store\":\"S\"}".utf8) && b.header("content-length") == "13")
      #expect(c.body == Array("{\"profile".utf8) && c.header("host") == "x")
    }
  }

  @Test("HTTP/1.0 closes unless keep-alive; Connection: close closes; a query is split off")
  func keepAlive() {
    let steps = frame(
      "GET /a?x=1 HTTP/1.0\r\n\r\nGET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
        + "GET /c HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
    let requests = steps.compactMap { step -> HTTPRequest? in
      if case .request(let request) = step { return request }
      return nil
    }
    #expect(requests.map(\.keepAlive) == [false, true, false])
    #expect(requests.first?.query == "x=1" && requests.first?.path == "/a")
  }

  @Test(
    "ambiguous framing is refused with 400",
    arguments: [
      (
        "CL with TE",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
      ),
      (
        "TE with CL",
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
      ),
      (
        "two CLs",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"
      ),
      ("a CL list", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 4\r\n\r\nabcd"),
      ("a signed CL", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\nabc"),
      ("obs-fold", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n"),
      ("bare LF", "GET / HTTP/1.1\nHost: x\r\n\r\n"),
      ("bare LF ending the section", "GET / HTTP/1.1\r\nHost: x\n\n"),
      ("bare CR", "GET / HTTP/1.1\r\nHost: x\rX-B: y\r\n\r\n"),
      ("bare CR with no line end after it (found by the fuzzer)", "POST / HTTP/1.1\r\nHost: x\rPO"),
      ("space before colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n"),
      ("NUL in a value", "GET / HTTP/1.1\r\nHost: x\0y\r\n\r\n"),
      ("no Host", "GET / HTTP/1.1\r\n\r\n"),
      ("two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
      (
        "chunk size overflow",
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFFF\r\n"
      ),
      (
        "chunk size not hex",
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
      ),
      (
        "chunk data without CRLF",
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabcd\r\n0\r\n\r\n"
      ),
      ("TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
      ("absolute target", "GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n"),
      ("two spaces", "GET  / HTTP/1.1\r\nHost: x\r\n\r\n"),
      ("lower-case version", "GET / http/1.1\r\nHost: x\r\n\r\n"),
    ])
  func ambiguous(_ name: String, _ text: String) {
    for piece in [Int.max, 1] {
      #expect(status(frame(text, piece: piece)) == 400, "\(name), piece \(piece)")
    }
  }

  @Test(
    "limits: a long request line is 414, large headers 431, a large body 413, other codings 501, HTTP/2.0 505"
  )
  func limits() {
    let limits = HTTPLimits(requestLine: 64, headerBytes: 256, headerFields: 4, bodyBytes: 16)
    let long = "GET /" + String(repeating: "a", count: 100) + " HTTP/1.1\r\nHost: x\r\n\r\n"
    #expect(status(frame(long, limits: limits)) == 414)
    #expect(status(frame("GET /" + String(repeating: "a", count: 100), limits: limits)) == 414)
    let big = "GET / HTTP/1.1\r\nHost: x\r\nX: " + String(repeating: "b", count: 300) + "\r\n\r\n"
    #expect(status(frame(big, limits: limits)) == 431)
    #expect(status(frame(String(big.dropLast(4)), piece: 1, limits: limits)) == 431)
    let many = "GET / HTTP/1.1\r\nHost: x\r\n" + String(repeating: "A: b\r\n", count: 5) + "\r\n"
    #expect(status(frame(many, limits: limits)) == 431)
    #expect(
      status(frame("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 17\r\n\r\n", limits: limits))
        == 413)
    let chunks =
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n9\r\n123456789\r\n9\r\n"
    #expect(status(frame(chunks, limits: limits)) == 413)
    #expect(status(frame("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n")) == 501)
    #expect(
      status(frame("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n")) == 501
    )
    #expect(status(frame("GET / HTTP/2.0\r\nHost: x\r\n\r\n")) == 505)
  }

  @Test("once failed, the parser stays failed; a partial request is reported")
  func stays() {
    var parser = HTTPParser()
    parser.append(Array("GET / HTTP/1.1\nHost: x\r\n\r\n".utf8))
    #expect(status([parser.next()]) == 400)
    parser.append(Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
    #expect(status([parser.next()]) == 400)
    var other = HTTPParser()
    #expect(!other.hasPartialRequest)
    other.append(Array("GET /".utf8))
    #expect(other.next() == .needMore && other.hasPartialRequest)
  }

  @Test("leading empty lines are skipped; a body's stray CRLF between requests too")
  func emptyLines() {
    let steps = frame(
      "\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n")
    #expect(steps.count == 2)
  }
}

@Suite("HTTP parser: inputs the fuzzer found")
struct HTTPParserFuzzFindings {
  @Test(
    "found inputs frame the same whole and in pieces",
    arguments: [
      // A request line of exactly the limit whose CR arrived before its LF.
      "crash-b5d6f6dc1979a0f2c08aa3e03f62a33deaf6e272",
      "crash-482641b1154028eff14cc699194fa8365fe5c0cf",
      "crash-190b306b864ec9e49585a0d9ccde2641aef1ed13",
    ])
  func sameWholeAndPieced(_ name: String) throws {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("Fuzz/Corpus/http/" + name)
    let bytes = [UInt8](try Data(contentsOf: url))
    let limits = HTTPLimits(requestLine: 256, headerBytes: 1024, headerFields: 16, bodyBytes: 512)
    let whole = frame(bytes, pieces: [bytes.count], limits: limits)
    let pieced = frame(bytes, pieces: bytes.prefix(32).map { Int($0 & 15) + 1 }, limits: limits)
    #expect(whole == pieced, "\(whole) \(pieced)")
  }
}
