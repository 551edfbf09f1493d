import Foundation
import Testing
import VoucherKit
import VoucherRegistry
import VoucherService

@Suite("the service engine, driven through its client callback, without a socket")
struct ServiceEngineTests {
  @Test(
    "N requests from three clients are one batch: one commit, each client's answers in its order")
  func groupCommit() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let store = CountingStore(try fixture.registry())
    let service = fixture.service()
    let engine = ServiceEngine(service: service, store: store)
    let clients = (0..<3).map { _ in Collector() }
    let sessions = clients.map { service.open($0) }
    // Each client redeems its own 20 codes; client 2 also redeems client 0's first code, after
    // it (one use per code: used up within the same batch), verifies, and sends two bad lines.
    for (number, session) in sessions.enumerated() {
      session.submit(
        (1...20).map { serial in
          request(
            serial, "redeem", fixture.code(number * 100 + serial), ["store": .string("S\(number)")])
        }, view: nil)
    }
    sessions[2].submit(
      [
        request(21, "redeem", fixture.code(1), ["store": .string("S2")]),
        request(22, "verify", fixture.code(2)),
        IncomingRequest(line: Array("not json".utf8)),
        request(23, "redeem", fixture.code(3), ["store": .string("S2"), "colour": .string("red")]),
      ], view: nil)
    service.stop()
    for session in sessions { session.finish() }
    engine.run()

    // Every registry operation of the batch went to the store in one commit.
    #expect(store.batches == [62])
    for (number, client) in clients.enumerated() {
      #expect(client.finishedCount == 1)
      #expect(client.deliveries.count == 1, "one delivery per client per batch")
      #expect(client.deliveries.allSatisfy { !$0.now })
      let answers = client.answers
      #expect(answers.count == (number == 2 ? 24 : 20))
      #expect(answers.prefix(20).map(\.id) == (1...20).map { .number(String($0)) })
      #expect(answers.prefix(20).allSatisfy { $0.status == "redeemed" })
    }
    let last = clients[2].answers.suffix(4).map { $0 }
    #expect(last.map(\.status) == ["used-up", "used-up", "error", "error"])
    #expect(last.map(\.id) == [.number("21"), .number("22"), .null, .number("23")])
    #expect(
      last[2].jsonLine(describing: { _ in "" })
        == #"{"error":"not a JSON object: expected '{' at byte 1","id":null,"status":"error"}"#)
    #expect(
      last[3].jsonLine(describing: { _ in "" }).contains(#""error":"unknown field 'colour'""#))
  }

  @Test("more requests than the batch limit make several batches, in order")
  func batchLimit() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let store = CountingStore(try fixture.registry())
    let service = fixture.service()
    let engine = ServiceEngine(service: service, store: store, batchLimit: 4)
    let client = Collector()
    let session = service.open(client)
    session.submit(
      (1...10).map { request($0, "redeem", fixture.code($0), ["online": .bool(true)]) }, view: nil)
    service.stop()
    session.finish()
    engine.run()
    #expect(store.batches == [4, 4, 2])
    #expect(client.answers.map(\.id) == (1...10).map { .number(String($0)) })
    #expect(client.answers.allSatisfy { $0.status == "redeemed" })
    #expect(client.finishedCount == 1)
  }

  @Test("a verify is answered at once with the reader's view, unless an earlier request waits")
  func verifyAtOnce() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let store = CountingStore(try fixture.registry())
    let view = try fixture.registry()
    let service = fixture.service()
    let engine = ServiceEngine(service: service, store: store)
    let client = Collector()
    let session = service.open(client)
    session.submit([request(1, "verify", fixture.code(5))], view: view)
    #expect(client.deliveries.map(\.now) == [true], "answered before any batch")
    #expect(client.answers.map(\.status) == ["valid"])
    // A redeem waits for the engine, so the verify after it waits too: the order holds.
    session.submit(
      [
        request(2, "redeem", fixture.code(5), ["store": .string("S1")]),
        request(3, "verify", fixture.code(5)),
      ], view: view)
    #expect(client.deliveries.count == 1)
    service.stop()
    session.finish()
    engine.run()
    #expect(client.answers.map(\.id) == [.number("1"), .number("2"), .number("3")])
    #expect(client.answers.map(\.status) == ["valid", "redeemed", "used-up"])
    #expect(store.batches == [2])
  }

  @Test("a failed batch answers each of its operations with the error, worded by the front end")
  func failedBatch() throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let store = CountingStore(try fixture.registry())
    store.failure = .fenced(reason: "a sync failed")
    let service = fixture.service()
    var diagnostics: [ServiceDiagnostic] = []
    let engine = ServiceEngine(service: service, store: store) { diagnostics.append($0) }
    let client = Collector()
    let session = service.open(client)
    session.submit(
      [
        request(1, "redeem", fixture.code(1), ["store": .string("S1")]),
        request(2, "verify", "0000-0000-0000-0000"),
        request(3, "void", fixture.code(2)),
      ], view: nil)
    service.stop()
    session.finish()
    engine.run()
    let answers = client.answers
    #expect(answers.map(\.status) == ["error", "forged", "error"])
    guard case .failed(.fenced) = answers[0].result else {
      Issue.record("not the registry's error: \(answers[0].result)")
      return
    }
    #expect(
      answers[2].jsonLine(describing: { "refused: \($0.problem)" })
        == #"{"error":"refused: the registry refuses writes: a sync failed","id":3,"status":"error"}"#
    )
    #expect(diagnostics.count == 1)
  }
}
