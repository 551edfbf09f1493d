@testable import VoucherKit
@testable import VoucherService

/// Fuzzes the service library's request decoding, as `serve` and every transport use it: the
/// input (with a final line feed) is split into requests by `JSONLinesFramer`, as serve splits a
/// client's bytes (`JSONLine.parse` on each line), and each request is checked by
/// `ServeRequest.make` with the demo key and campaign, as the engine checks it.
///
/// Checks: nothing traps; every answer line the request gets (an error, a verification, or a
/// registry operation's answer) is a flat JSON object that `JSONLine` reads back, with the
/// request's id and input unchanged.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzServe(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  var bytes = Array(UnsafeBufferPointer(start: data, count: size))
  bytes.append(0x0A)
  var framer = JSONLinesFramer()
  let requests = bytes.withUnsafeBufferPointer { framer.requests(in: $0) }
  for request in requests {
    let id = request.id
    guard case .fields(let fields) = request else {
      if case .unreadable(let why) = request {
        checkReadsBack(answerLine(ServiceAnswer(id: id, .invalid(why))), id: .null)
      }
      continue
    }
    switch ServeRequest.make(fields, verifier: FuzzFixture.verifier, now: FuzzFixture.now) {
    case .failure(let message):
      checkReadsBack(answerLine(ServiceAnswer(id: id, .invalid(message))), id: id)
    case .answer(let outcome):
      checkReadsBack(
        answerLine(ServiceAnswer(id: id, .outcome(outcome))), id: id, input: outcome.input)
    case .operation(let request):
      let outcome = Outcome(input: request.input, voucher: request.voucher, status: request.op)
      checkReadsBack(
        answerLine(ServiceAnswer(id: id, .outcome(outcome))), id: id, input: outcome.input)
    }
  }
  return 0
}

/// An answer as serve writes it (a registry error in the library's own words).
private func answerLine(_ answer: ServiceAnswer) -> String {
  answer.jsonLine(describing: { $0.description })
}

/// Checks that an answer line reads back as a flat object with the given id and input.
private func checkReadsBack(_ line: String, id: JSONScalar, input: String? = nil) {
  require(!line.utf8.contains(0x0A), "an answer line holds a line feed: \(line)")
  guard let fields = try? JSONLine.parse(Array(line.utf8)) else {
    require(false, "an answer does not read back: \(line)")
    return
  }
  require(fields["id"] == id, "the id changed in \(line)")
  if let input { require(fields["input"] == .string(input), "the input changed in \(line)") }
}
