import FoundationEssentials
import VoucherKit
import VoucherRegistry

/// One request, checked: an answer already (a rejected code, a bad field), or a registry
/// operation to commit. The fields are those of the serve protocol (`op`, `code`, `store`, ...),
/// which the HTTP front also builds from its routes and bodies.
struct ServeRequest {
  /// What a request's fields make.
  enum Made {
    case answer(Outcome)
    case failure(String)
    case operation(ServeRequest)
  }

  let id: JSONScalar
  let op: String
  let input: String
  let voucher: Voucher
  let operation: RegistryOperation

  /// The fields a request may have.
  static let knownFields: Set<String> = [
    "id", "op", "code", "at", "store", "online", "terminal", "profile", "request", "reason",
  ]

  /// Checks a request's fields and its code.
  ///
  /// - Parameters:
  ///   - fields: The request's fields.
  ///   - verifier: Checks the code.
  ///   - prizes: What a claimed code wins.
  ///   - now: The time dates are checked against.
  /// - Returns: An answer (a rejected code), a failure (a bad request, in words), or the
  ///   registry operation to commit.
  static func make(
    _ fields: [String: JSONScalar], verifier: Verifier, prizes: PrizeTable = PrizeTable(), now: Date
  ) -> Made {
    let id = fields["id"] ?? .null
    if let unknown = fields.keys.first(where: { !knownFields.contains($0) }) {
      return .failure("unknown field '\(printable(unknown))'")
    }
    guard let op = fields["op"]?.string else {
      return .failure("'op' must be one of verify, redeem, void, claim, history")
    }
    guard let code = fields["code"]?.string else { return .failure("'code' must be a string") }
    func text(_ name: String) -> Result<String?, InvalidField> {
      switch fields[name] {
      case nil, .null: return .success(nil)
      case .string(let value): return .success(value)
      default: return .failure(InvalidField(field: name, reason: "must be a string"))
      }
    }
    do throws(InvalidField) {
      switch op {
      case "verify":
        var venue: Venue?
        if let at = try text("at").get() {
          guard let parsed = Venue(rawValue: at) else {
            return .failure("'at' must be store or online")
          }
          venue = parsed
        }
        let verification = verifier.verify(code, at: venue, now: now)
        guard case .valid(let voucher) = verification else {
          return .answer(Outcome(input: code, verification))
        }
        return .operation(
          ServeRequest(id: id, op: op, input: code, voucher: voucher, operation: .status(voucher)))
      case "redeem":
        let online = fields["online"] == .bool(true)
        let store = try text("store").get().map { text throws(InvalidField) in try StoreID(text) }
        guard online != (store != nil) else {
          return .failure("give exactly one of 'store' and 'online': true")
        }
        let terminal = try text("terminal").get().map { text throws(InvalidField) in
          try TerminalID(text)
        }
        let profile = try text("profile").get().map { text throws(InvalidField) in
          try ProfileID(text)
        }
        let request = try text("request").get().map { text throws(InvalidField) in
          try RequestID(text)
        }
        let verification = verifier.verify(code, at: online ? .online : .store, now: now)
        guard case .valid(let voucher) = verification else {
          return .answer(Outcome(input: code, verification))
        }
        return .operation(
          ServeRequest(
            id: id, op: op, input: code, voucher: voucher,
            operation: .redeem(
              voucher, store: store, terminal: terminal, profile: profile, request: request)))
      case "void", "claim", "history":
        let verification = verifier.verify(code, now: now)
        guard let voucher = verification.voucher,
          op == "history" || op == "void" || verification.status == .valid
        else {
          return .answer(Outcome(input: code, verification))
        }
        switch op {
        case "void":
          let reason = try text("reason").get().map { text throws(InvalidField) in try Reason(text)
          }
          let request = try text("request").get().map { text throws(InvalidField) in
            try RequestID(text)
          }
          return .operation(
            ServeRequest(
              id: id, op: op, input: code, voucher: voucher,
              operation: .void(voucher, reason: reason, request: request)))
        case "claim":
          guard let profileText = try text("profile").get() else {
            return .failure("'profile' is required")
          }
          let profile = try ProfileID(profileText)
          // What the code wins, decided here and recorded with the claim; a claim is never
          // recorded without the prize it should carry.
          let prize: PrizeName?
          do {
            prize = try prizes.prize(
              campaign: voucher.campaign.id, channel: voucher.channel, serial: voucher.serial)
          } catch {
            return .failure("the campaign's prizes cannot be read; nothing was recorded")
          }
          return .operation(
            ServeRequest(
              id: id, op: op, input: code, voucher: voucher,
              operation: .claim(voucher, profile: profile, prize: prize)))
        default:
          return .operation(
            ServeRequest(
              id: id, op: op, input: code, voucher: voucher, operation: .history(voucher)))
        }
      default:
        return .failure("'op' must be one of verify, redeem, void, claim, history")
      }
    } catch {
      return .failure("'\(error.field)' \(error.reason)")
    }
  }

  /// The answer to the committed operation, its times as shown in `zone`; `nil` when the
  /// operation failed.
  func outcome(_ result: RegistryResult, zone: ZoneRules) -> Outcome? {
    switch result {
    case .failed:
      return nil
    case .redeem(let answer):
      return Outcome(input: input, voucher: voucher, answer, zone: zone)
    case .void(let answer):
      return Outcome(input: input, voucher: voucher, answer, zone: zone)
    case .claim(let answer):
      return Outcome(input: input, voucher: voucher, answer, zone: zone)
    case .status(let status):
      return Outcome.verified(input, voucher, status, zone: zone)
    case .history(let events):
      return Outcome(input: input, voucher: voucher, history: events, zone: zone)
    }
  }
}
