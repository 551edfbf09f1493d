import VoucherHTTP

/// Fuzzes the HTTP front's request parser (`HTTPParser`), as a connection feeds it: the input is
/// framed once whole and once in pieces whose sizes the input's own bytes choose, and every
/// request framed is matched against the routes.
///
/// Checks: nothing traps; both feedings frame the same requests and end the same way (the
/// parser's answer never depends on how the bytes arrived, which is what keeps a pipelined or
/// slow client from being read two ways); every request holds to the limits and to the framing
/// rules (one Host in HTTP/1.1, never both Content-Length and Transfer-Encoding, no control
/// character in a header value, a body within the limit); every failure is a 4xx or 5xx whose
/// problem body is JSON.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTP(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))
  let limits = HTTPLimits(requestLine: 256, headerBytes: 1024, headerFields: 16, bodyBytes: 512)
  let whole = frame(bytes, pieces: [bytes.count], limits: limits)
  // Piece sizes from the input's first bytes, 1 to 16 each.
  let sizes = bytes.prefix(32).map { Int($0 & 15) + 1 }
  let pieced = frame(bytes, pieces: sizes.isEmpty ? [1] : sizes, limits: limits)
  require(whole == pieced, "framing depends on how the bytes arrived")
  for step in whole {
    switch step {
    case .request(let request):
      check(request, limits: limits)
    case .failure(let error):
      require((400...599).contains(error.status), "status \(error.status)")
      let body = HTTPResponse.problem(error.status, error.detail).body
      require(body.first == 0x7B && body.last == 0x0A, "a problem body that is not JSON")
    case .needMore:
      require(false, "needMore is never recorded")
    }
  }
  return 0
}

/// Every step the parser takes over the bytes fed in pieces of these sizes (cycled).
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

private func check(_ request: HTTPRequest, limits: HTTPLimits) {
  require(request.body.count <= limits.bodyBytes, "a body over the limit")
  require(request.target.utf8.first == 0x2F, "a target not starting with /")
  require(request.headers.count <= limits.headerFields, "too many fields")
  if request.minorVersion == 1 {
    require(request.headers.filter { $0.name == "host" }.count == 1, "not one Host")
  }
  let names = Set(request.headers.map(\.name))
  require(!(names.contains("content-length") && names.contains("transfer-encoding")), "CL and TE")
  for header in request.headers {
    require(!header.value.utf8.contains { $0 < 0x20 && $0 != 0x09 }, "a control character")
    require(!header.name.isEmpty && header.name == header.name.lowercased(), "a bad name")
  }
  _ = HTTPRoute.match(method: request.method, path: request.path)
  _ = HTTPRoute.parameters(request.query)
}
