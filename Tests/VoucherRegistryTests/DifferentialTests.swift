import Foundation
import Testing
import VoucherTestSupport

@testable import VoucherKit
@testable import VoucherRegistry

/// The registry's rules in a few lines, for differential testing.
struct RegistryModel {
  struct Code {
    var live: [Int] = []  // redemption numbers not voided, oldest first
    var requests: [String: Int] = [:]  // request id -> redemption number
    var claim: String?
  }

  let uses: Int
  var codes: [Int: Code] = [:]
  var redemptions = 0

  enum Answer: Equatable {
    case redeemed(replayed: Bool)
    case usedUp
    case claimedByOther
    case voided
    case notRedeemed
    case claimed(replayed: Bool)
    case uses(Int)
  }

  mutating func redeem(_ serial: Int, request: String?, profile: String?) -> Answer {
    var code = codes[serial, default: Code()]
    defer { codes[serial] = code }
    if let request, code.requests[request] != nil { return .redeemed(replayed: true) }
    if code.live.count >= uses { return .usedUp }
    if let claim = code.claim, let profile, profile != claim { return .claimedByOther }
    redemptions += 1
    code.live.append(redemptions)
    if let request { code.requests[request] = redemptions }
    return .redeemed(replayed: false)
  }

  mutating func void(_ serial: Int) -> Answer {
    guard !(codes[serial]?.live.isEmpty ?? true) else { return .notRedeemed }
    codes[serial]!.live.removeLast()
    return .voided
  }

  /// Erasure: a claim by the profile stays, by nobody who can be named.
  mutating func forget(_ profile: String) {
    for (serial, code) in codes where code.claim == profile { codes[serial]!.claim = "(erased)" }
  }

  mutating func claim(_ serial: Int, profile: String) -> Answer {
    if let claim = codes[serial]?.claim {
      return claim == profile ? .claimed(replayed: true) : .claimedByOther
    }
    codes[serial, default: Code()].claim = profile
    return .claimed(replayed: false)
  }
}

@Suite("Registry against a model")
struct DifferentialTests {
  @Test("random operation sequences give the model's answers", arguments: [1, 2, 3, 4, 5, 6])
  func differential(seed: UInt64) throws {
    let uses = [1, 2, 3, 255][Int(seed) % 4]
    let fixture = try Fixture(uses: uses, capacity: 1_000)
    defer { fixture.remove() }
    var random = SeededGenerator(seed: seed)
    var model = RegistryModel(uses: uses)
    var registry = try fixture.registry()
    let vouchers = try (1...12).map { try fixture.voucher($0) }
    let profiles = ["p:1", "p:2", "p:3"]
    for step in 0..<150 {
      if step % 40 == 39 { registry = try fixture.registry() }  // a restart between batches
      if step % 25 == 24 {  // an erasure between batches
        let profile = profiles.randomElement(using: &random)!
        _ = try registry.forget(profile: ProfileID(profile))
        model.forget(profile)
      }
      let size = Int.random(in: 1...8, using: &random)
      var operations: [RegistryOperation] = []
      var expected: [RegistryModel.Answer] = []
      for _ in 0..<size {
        let serial = Int.random(in: 1...12, using: &random)
        let voucher = vouchers[serial - 1]
        switch Int.random(in: 0..<10, using: &random) {
        case 0..<5:
          let request =
            Bool.random(using: &random) ? "r\(Int.random(in: 0..<6, using: &random))" : nil
          let profile =
            Int.random(in: 0..<4, using: &random) == 0
            ? profiles.randomElement(using: &random) : nil
          operations.append(
            .redeem(
              voucher, store: try StoreID("S1"), terminal: nil,
              profile: profile.map { try! ProfileID($0) },
              request: request.map { try! RequestID($0) }))
          expected.append(model.redeem(serial, request: request, profile: profile))
        case 5..<7:
          operations.append(.void(voucher, reason: nil, request: nil))
          expected.append(model.void(serial))
        case 7..<9:
          let profile = profiles.randomElement(using: &random)!
          operations.append(.claim(voucher, profile: try ProfileID(profile)))
          expected.append(model.claim(serial, profile: profile))
        default:
          operations.append(.status(voucher))
          expected.append(.uses(model.codes[serial]?.live.count ?? 0))
        }
      }
      let results = try registry.perform(operations, now: fixture.now)
      let actual: [RegistryModel.Answer] = results.map { result in
        switch result {
        case .redeem(.redeemed(_, let replayed)): return .redeemed(replayed: replayed)
        case .redeem(.usedUp): return .usedUp
        case .redeem(.claimedByOther), .claim(.claimedByOther): return .claimedByOther
        case .void(.voided): return .voided
        case .void(.notRedeemed): return .notRedeemed
        case .claim(.claimed(_, _, let replayed, _)): return .claimed(replayed: replayed)
        case .status(let status): return .uses(status.uses)
        default: return .notRedeemed
        }
      }
      #expect(actual == expected, "seed \(seed), step \(step): \(operations.count) operations")
      if actual != expected { return }
    }
    #expect(try registry.check().problems.isEmpty)
  }
}
