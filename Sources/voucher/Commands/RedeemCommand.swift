import FoundationEssentials
import VoucherKit
import VoucherRegistry
import VoucherService

/// `voucher redeem`, `void` and `claim`: the registry's writes for one code.
enum RedeemCommand {
  static let redeemSpec = CommandSpec(
    name: "voucher redeem",
    overview: """
      Redeem a code: check it, then record one use, exactly once, durably before answering. A retry \
      with the same --request gets the original receipt.
      """,
    usage:
      "<code> | - (--store <id> | --online) [--terminal <id>] [--profile <id>] [--request <id>] [--format text|json]",
    arguments: [
      (
        "<code>",
        "The code as typed, or - to redeem one code per line of standard input, each answered on its own line as soon as it is durable (in JSON: JSON Lines). Lines that arrive together are redeemed together, with one sync."
      )
    ],
    options: [
      .value("store", "id", "The store redeeming it (ids: 1 to 64 of A-Z a-z 0-9 . _ : -)."),
      .flag("online", "Redeemed online instead of in a store."),
      .value("terminal", "id", "The till."),
      .value(
        "profile", "id",
        "The customer's pseudonymous CRM profile id (never an e-mail address or phone number)."),
      .value(
        "request", "id",
        "An idempotency key: a retry with the same key returns the original answer."),
      .value("format", "format", "text (default) or json."),
    ])

  static let voidSpec = CommandSpec(
    name: "voucher void",
    overview: "Undo a code's latest live redemption (a return, a cancelled sale).",
    usage: "<code> [--reason <text>] [--request <id>] [--format text|json]",
    arguments: [("<code>", "The code as typed.")],
    options: [
      .value("reason", "text", "Why (1 to 200 characters)."),
      .value(
        "request", "id",
        "An idempotency key: a retry with the same key returns the original answer."),
      .value("format", "format", "text (default) or json."),
    ])

  static let claimSpec = CommandSpec(
    name: "voucher claim",
    overview:
      "Link a code to a customer profile (an online registration), before or after it is redeemed.",
    usage: "<code> --profile <id> [--format text|json]",
    arguments: [("<code>", "The code as typed.")],
    options: [
      .value("profile", "id", "The customer's pseudonymous CRM profile id."),
      .value("format", "format", "text (default) or json."),
    ])

  static func redeem(_ arguments: [String], _ context: Context) throws -> Int32 {
    guard let options = try parse(redeemSpec, arguments, context) else { return ExitStatus.success }
    let text = try options.positionals(1, "code")[0]
    let format = try options.choice("format", OutputFormat.self) ?? .text
    let online = options.has("online")
    guard online != (options.value("store") != nil) else {
      throw CommandError.usage("give exactly one of --store <id> and --online")
    }
    let store = try options.value("store").map { text in
      try field { () throws(InvalidField) in try StoreID(text) }
    }
    let terminal = try options.value("terminal").map { text in
      try field { () throws(InvalidField) in try TerminalID(text) }
    }
    let profile = try options.value("profile").map { text in
      try field { () throws(InvalidField) in try ProfileID(text) }
    }
    let request = try options.value("request").map { text in
      try field { () throws(InvalidField) in try RequestID(text) }
    }
    if text == "-" && request != nil {
      throw CommandError.usage("--request names one redemption; it cannot go with - (many codes)")
    }
    let ring = try context.keyRing()
    let campaigns = try context.campaigns()
    let verifier = Verifier(keyRing: ring, campaigns: campaigns)
    let registry = try context.registry.open(campaigns: campaigns, create: true)
    defer { reportWarnings(registry, context) }
    // One code: one document in JSON. A stream (`-`): JSON Lines, one answer per line.
    var stream = AnswerWriter(format: format, stream: true, console: context.console)
    func print(_ outcome: Outcome) throws {
      if text == "-" {
        try stream.write(outcome)
      } else {
        try printOutcome(outcome, format: format, context)
      }
    }
    // A refusal by a per-profile limit exits 2 when nothing else was refused (see ExitStatus).
    var limited = false
    var refused = false
    func redeemOne(_ text: String, source: String) throws -> Bool {
      let verification = verifier.verify(text, at: online ? .online : .store, now: context.now)
      guard case .valid(let voucher) = verification else {
        if case .malformed(let problem) = verification {
          context.console.error("\(source): \(problem)")
        }
        try print(Outcome(input: text, verification))
        refused = true
        return false
      }
      let answer = try registry.redeem(
        voucher, store: store, terminal: terminal, profile: profile, request: request,
        now: context.now)
      try print(Outcome(input: text, voucher: voucher, answer, zone: context.zone))
      return tally(answer)
    }
    /// Whether the answer redeemed the code; a refusal is counted as a limit's or another.
    func tally(_ answer: RedeemAnswer) -> Bool {
      switch answer {
      case .redeemed: return true
      case .profileLimit: limited = true
      default: refused = true
      }
      return false
    }
    var allRedeemed = true
    if text == "-" {
      // The lines that have arrived together are redeemed in one batch, with one sync; each is
      // answered, in order, once the batch is durable.
      var reader = LineReader(console: context.console)
      var number = 0
      while case let group = try reader.nextGroup(), !group.isEmpty {
        var checked: [(code: String, source: String, verification: Verification)] = []
        var operations: [RegistryOperation] = []
        for (line, tooLong) in group {
          number += 1
          let code =
            tooLong ? String(repeating: "X", count: 21) : String(decoding: line, as: UTF8.self)
          let verification = verifier.verify(code, at: online ? .online : .store, now: context.now)
          if case .valid(let voucher) = verification {
            operations.append(
              .redeem(voucher, store: store, terminal: terminal, profile: profile, request: nil))
          }
          checked.append((code, "line \(number)", verification))
        }
        var results =
          try (operations.isEmpty ? [] : registry.perform(operations, now: context.now))
          .makeIterator()
        var failure: RegistryError?
        for (code, source, verification) in checked {
          guard case .valid(let voucher) = verification else {
            if case .malformed(let problem) = verification {
              context.console.error("\(source): \(problem)")
            }
            try print(Outcome(input: code, verification))
            allRedeemed = false
            refused = true
            continue
          }
          switch results.next() {
          case .redeem(let answer):
            try print(Outcome(input: code, voucher: voucher, answer, zone: context.zone))
            if !tally(answer) { allRedeemed = false }
          case .failed(let error):
            // Its code's history is damaged: the rest of the batch is answered, and the command
            // ends with this error after it, as it would have for this line alone.
            failure = failure ?? error
          default: preconditionFailure("one result per operation")
          }
        }
        if let failure { throw failure }
      }
    } else {
      allRedeemed = try redeemOne(text, source: "code")
    }
    if allRedeemed { return ExitStatus.success }
    return limited && !refused ? ExitStatus.profileLimit : ExitStatus.rejected
  }

  static func void(_ arguments: [String], _ context: Context) throws -> Int32 {
    guard let options = try parse(voidSpec, arguments, context) else { return ExitStatus.success }
    let text = try options.positionals(1, "code")[0]
    let format = try options.choice("format", OutputFormat.self) ?? .text
    let reason = try options.value("reason").map { text in
      try field { () throws(InvalidField) in try Reason(text) }
    }
    let request = try options.value("request").map { text in
      try field { () throws(InvalidField) in try RequestID(text) }
    }
    guard
      let (voucher, campaigns) = try genuineVoucher(
        text, venue: nil, acceptInvalidDates: true, format: format, context)
    else {
      return ExitStatus.rejected
    }
    let registry = try context.registry.open(campaigns: campaigns, create: true)
    defer { reportWarnings(registry, context) }
    let answer = try registry.void(voucher, reason: reason, request: request, now: context.now)
    var outcome = Outcome(input: text, voucher: voucher, answer, zone: context.zone)
    outcome.reason = reason?.rawValue ?? outcome.reason
    try printOutcome(outcome, format: format, context)
    if case .voided = answer { return ExitStatus.success }
    return ExitStatus.rejected
  }

  static func claim(_ arguments: [String], _ context: Context) throws -> Int32 {
    guard let options = try parse(claimSpec, arguments, context) else { return ExitStatus.success }
    let text = try options.positionals(1, "code")[0]
    let format = try options.choice("format", OutputFormat.self) ?? .text
    let profileText = try options.required("profile")
    let profile = try field { () throws(InvalidField) in try ProfileID(profileText) }
    guard let (voucher, campaigns) = try genuineVoucher(text, venue: nil, format: format, context)
    else {
      return ExitStatus.rejected
    }
    // What the code wins, from the campaign's prize allocations; the registry records it with
    // the first claim only.
    let prize = try PrizeBook(home: context.home, campaign: voucher.campaign.id).prize(
      channel: voucher.channel, serial: voucher.serial)
    let registry = try context.registry.open(campaigns: campaigns, create: true)
    defer { reportWarnings(registry, context) }
    let answer = try registry.claim(voucher, profile: profile, prize: prize, now: context.now)
    let outcome = Outcome(input: text, voucher: voucher, answer, zone: context.zone)
    var status = ExitStatus.rejected
    if case .claimed = answer { status = ExitStatus.success }
    if case .profileLimit = answer { status = ExitStatus.profileLimit }
    try printOutcome(outcome, format: format, context)
    return status
  }
}
