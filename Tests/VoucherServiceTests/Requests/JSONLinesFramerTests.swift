import Testing
import VoucherService

@Suite("JSON Lines framing")
struct JSONLinesFramerTests {
  func requests(_ pieces: [String], limit: Int = 64) -> [IncomingRequest] {
    var framer = JSONLinesFramer(lineLimit: limit)
    return pieces.flatMap { piece in
      Array(piece.utf8).withUnsafeBufferPointer { framer.requests(in: $0) }
    }
  }

  @Test("lines split across reads, a carriage return, a line too long skipped to its end")
  func framing() {
    let long = String(repeating: "x", count: 100)
    let got = requests([
      #"{"id":1,"#, #""op":"verify"}"# + "\r\n{\"id\"", ":2}\n" + long, long + "\n{}\n",
      "{\"id\":3}",
    ])
    #expect(
      got == [
        .fields(["id": .number("1"), "op": .string("verify")]),
        .fields(["id": .number("2")]),
        .unreadable("the line is longer than 64 bytes"),
        .fields([:]),
      ])
    #expect(got.map(\.id) == [.number("1"), .number("2"), .null, .null])
  }

  @Test("what is not one flat JSON object is answered as unreadable, saying why")
  func unreadable() {
    #expect(
      requests(["[1]\n", "{\"a\":{}}\n"]) == [
        .unreadable("not a JSON object: expected '{' at byte 1"),
        .unreadable("not a JSON object: nested objects and arrays are not accepted at byte 6"),
      ])
  }
}
