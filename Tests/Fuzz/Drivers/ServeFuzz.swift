@testable import VoucherKit

/// Fuzzes the serve request parser: compiled together with the `voucher` command's sources
/// (all but `VoucherMain.swift`), it feeds each line of the input, as `serve` splits a client's
/// bytes, to `JSONLine.parse` and then `ServeRequest.make` with the demo key and campaign.
///
/// Checks: nothing traps; every answer line the request gets (an error, a verification, or a
/// registry operation's answer) is a flat JSON object that `JSONLine` reads back, with the
/// request's id and input unchanged.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzServe(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = UnsafeBufferPointer(start: data, count: size)
  for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
    guard line.count <= ServeCommand.lineLimit else { continue }
    var request = Array(line)
    if request.last == 0x0D { request.removeLast() }
    let fields: [String: JSONScalar]
    do {
      fields = try JSONLine.parse(request)
    } catch {
      checkReadsBack(errorLine(id: .null, "not a JSON object: \(error.description)"), id: .null)
      continue
    }
    let id = fields["id"] ?? .null
    switch ServeRequest.make(fields, verifier: FuzzFixture.verifier, now: FuzzFixture.now) {
    case .failure(let message):
      checkReadsBack(errorLine(id: id, message), id: id)
    case .answer(let outcome):
      checkReadsBack(outcome.jsonLine(id: id), id: id, input: outcome.input)
    case .operation(let request):
      let outcome = Outcome(input: request.input, voucher: request.voucher, status: request.op)
      checkReadsBack(outcome.jsonLine(id: id), id: id, input: outcome.input)
    }
  }
  return 0
}

/// An error answer as the server writes it.
private func errorLine(id: JSONScalar, _ message: String) -> String {
  var writer = JSONWriter()
  writer.add("error", message)
  writer.add(raw: "id", id.json)
  writer.add("status", "error")
  return writer.line
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
