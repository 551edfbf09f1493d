import FoundationEssentials
import VoucherKit
import VoucherRegistry
import VoucherService

/// `voucher verify`: checks codes offline and answers each with a status.
enum VerifyCommand {
  static let spec = CommandSpec(
    name: "voucher verify",
    overview: "Check codes: genuine, mistyped, forged, expired, not valid at this venue, ...",
    usage: "[--at store|online] [--format text|json] <code>... | -",
    arguments: [
      (
        "<code>",
        "A code as typed (any case; dashes and spaces ignored), or - to read one code per line from standard input."
      )
    ],
    options: [
      .value(
        "at", "venue",
        "Where the code is being used: store or online. Without it the venue is not checked."),
      .value(
        "format", "format",
        "text (default) or json: one array of answers; with -, JSON Lines (one answer per line)."),
    ])

  static func run(_ arguments: [String], _ context: Context) throws -> Int32 {
    guard let options = try parse(spec, arguments, context) else { return ExitStatus.success }
    let venue = try options.choice("at", Venue.self)
    let format = try options.choice("format", OutputFormat.self) ?? .text
    guard !options.positionals.isEmpty else {
      throw CommandError.usage("no code given; pass codes or - for standard input")
    }
    if options.positionals.contains("-") && options.positionals.count > 1 {
      throw CommandError.usage("'-' reads codes from standard input and cannot be mixed with codes")
    }
    let campaigns = try context.campaigns()
    let verifier = Verifier(
      keyRing: try context.keyRing(), campaigns: campaigns)
    // With a registry, a valid code also reports uses left, or used-up or blocked.
    let registry = try context.registry.openIfPresent(campaigns: campaigns)
    defer { registry.map { reportWarnings($0, context) } }
    var output = AnswerWriter(
      format: format, stream: options.positionals == ["-"], console: context.console)
    var rejected = false
    // A malformed code is bad input: besides its answer it gets an `error:` line naming it.
    // With a registry, `status` is the code's (looked up here when not given).
    func answer(
      _ text: String, source: String, _ verification: Verification, status: CodeStatus? = nil
    ) throws {
      if case .malformed(let problem) = verification {
        context.console.error("\(source): \(problem)")
      }
      var outcome = Outcome(input: text, verification)
      if let registry, case .valid(let voucher) = verification {
        outcome = Outcome.verified(
          text, voucher, try status ?? registry.status(of: voucher), zone: context.zone)
      }
      if outcome.status != VerificationStatus.valid.rawValue { rejected = true }
      try output.write(outcome)
    }
    if options.positionals == ["-"] {
      // The lines that have arrived together are looked up in the registry together (one
      // lock), each answered in order.
      var reader = LineReader(console: context.console)
      var number = 0
      while case let group = try reader.nextGroup(), !group.isEmpty {
        var checked: [(text: String, source: String, verification: Verification)] = []
        var lookups: [RegistryOperation] = []
        for (line, tooLong) in group {
          number += 1
          let text = String(decoding: line, as: UTF8.self)
          let verification: Verification =
            tooLong
            ? .malformed(.tooLong(symbols: 0)) : verifier.verify(text, at: venue, now: context.now)
          if registry != nil, case .valid(let voucher) = verification {
            lookups.append(.status(voucher))
          }
          checked.append((text, "line \(number)", verification))
        }
        var statuses = try (lookups.isEmpty ? [] : registry?.perform(lookups, now: context.now) ?? [])
          .makeIterator()
        for (text, source, verification) in checked {
          var status: CodeStatus?
          if registry != nil, case .valid = verification {
            switch statuses.next() {
            case .status(let found): status = found
            case .failed(let error): throw error
            default: preconditionFailure("one result per operation")
            }
          }
          try answer(text, source: source, verification, status: status)
        }
      }
    } else {
      for (number, text) in options.positionals.enumerated() {
        try answer(
          text, source: "code \(number + 1)", verifier.verify(text, at: venue, now: context.now))
      }
    }
    try output.finish()
    return rejected ? ExitStatus.rejected : ExitStatus.success
  }
}

/// Writes answers as text lines; in JSON, as one array (codes given as arguments) or, for a
/// stream (`-`), as JSON Lines: one compact, key-sorted document per line, written as soon as
/// it is answered, so a reader can act on each line without waiting for the end.
struct AnswerWriter {
  let format: OutputFormat
  /// Whether the answers are a stream (codes read from standard input): JSON Lines in JSON.
  let stream: Bool
  let console: any Console
  private var count = 0

  init(format: OutputFormat, stream: Bool, console: any Console) {
    self.format = format
    self.stream = stream
    self.console = console
  }

  mutating func write(_ answer: Outcome) throws {
    switch format {
    case .text:
      try console.print(answer.line)
    case .json:
      let json = answer.json()
      if stream {
        try console.print(json + "\n")
      } else {
        try console.print((count == 0 ? "[\n  " : ",\n  ") + json)
      }
    }
    count += 1
  }

  func finish() throws {
    if format == .json && !stream { try console.print(count == 0 ? "[]\n" : "\n]\n") }
  }
}
