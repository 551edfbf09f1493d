import FoundationEssentials
import VoucherKit

/// What every command is given: where the home is, how to talk to the user, and the time.
struct Context {
  let home: VoucherHome
  let console: any Console
  let now: Date
  /// Seconds to wait for a registry lock (`VOUCHER_LOCK_TIMEOUT`, checked before any command).
  var lockTimeout: Double = 10
  /// The zone times are shown in and report days are counted in (`--tz`, `VOUCHER_TZ`).
  var zone: ZoneRules = .utc
  /// The database registry (`--registry`, else `VOUCHER_REGISTRY`), checked before any command;
  /// `nil` for the file registry under the home.
  var registryURI: RegistryURI? = nil
}

/// Every subcommand of `voucher`, in the order help lists them: the one list that drives both
/// the help and the dispatch.
let subcommands = CommandTable([
  Command(
    "verify", "Check codes offline: genuine, mistyped, forged, expired, ...", run: VerifyCommand.run
  ),
  Command("issue", "Write a campaign channel's codes for print.", run: IssueCommand.run),
  Command(
    "manifest",
    "Check a print file against its signed manifest: as issued, or the first changed row.",
    run: ManifestCommand.run),
  Command(
    "redeem", "Redeem a code: exactly once, durably, safe to retry.", run: RedeemCommand.redeem),
  Command("void", "Undo a code's latest redemption.", run: RedeemCommand.void),
  Command(
    "claim", "Link a code to a customer profile (online registration).", run: RedeemCommand.claim),
  Command("block", "Block a range of serials (a lost or stolen batch).") {
    try BlockCommand.run($0, $1, unblock: false)
  },
  Command("unblock", "Unblock a range of serials.") { try BlockCommand.run($0, $1, unblock: true) },
  Command("history", "Show every event of a code.", run: HistoryCommand.run),
  Command(
    "report", "Report campaigns: issued, claimed, redeemed, rates; table, CSV, JSON, SVG, HTML.",
    run: ReportCommand.run),
  Command(
    "export", "Export every event as CSV or JSON Lines, for a CRM or a spreadsheet.",
    run: ExportCommand.run),
  Command("forget", "Erase a customer profile id on request (crash-safe).", run: ForgetCommand.run),
  Command("registry", "Check the registry, or rebuild its index.", run: RegistryCommand.run),
  Command(
    "serve", "Answer tills over JSON Lines (stdio or a Unix socket), with group commit.",
    run: ServeCommand.run),
  Command("campaign", "Add, change, list and show campaigns.", run: CampaignCommand.run),
  Command(
    "prizes", "Scratch-card prizes: fix winners per print run, show, export winners, reveal.",
    run: PrizesCommand.run),
  Command(
    "draw", "Draw winners among registrations from a public beacon, with an evidence file.",
    run: DrawCommand.run),
  Command("keys", "Make, list, retire and revoke signing keys.", run: KeysCommand.run),
  Command(
    "tokens", "Make, list and revoke the HTTP API's bearer tokens (till, web, crm).",
    run: TokensCommand.run),
  Command(
    "demo", "Walk through issuing and checking codes with the demo key.", run: DemoCommand.run),
  Command(
    "completions", "Print a completion script for bash, zsh or fish.", usesHome: false,
    run: ShellCommand.completions),
  Command("manual", "Print the manual page (roff).", usesHome: false, run: ShellCommand.manual),
  Command(
    "help", "Show a subcommand's help: voucher help <subcommand>.", usesHome: false, run: help),
])

let mainSpec = CommandSpec(
  name: "voucher",
  overview: "Issue HMAC-signed voucher codes and check them at the till.",
  usage: "[--home <dir>] [--registry <uri>] [--tz <zone>] <subcommand> [<options>] | --version",
  options: [
    .value(
      "home", "dir",
      "The folder holding Keys/ and all other state (default: $VOUCHER_HOME, else the current folder)."
    ),
    .value(
      "registry", "uri",
      "A PostgreSQL registry, as a libpq URI such as postgresql:///voucher?host=/run/postgresql (default: $VOUCHER_REGISTRY, else the file registry in the home). No password: libpq reads it from ~/.pgpass or $PGPASSFILE."
    ),
    .value(
      "tz", "zone",
      "Show times and count report days in this tz database zone, such as Europe/Amsterdam (default: $VOUCHER_TZ, else UTC)."
    ),
    .flag("version", "Show the version."),
  ],
  subcommands: subcommands.helpRows)

/// `voucher help [<subcommand>...]`: the help of `voucher`, or of the subcommand named, exactly
/// as its own `--help` prints it (`voucher help registry check` is `voucher registry check
/// --help`).
func help(_ arguments: [String], _ context: Context) throws -> Int32 {
  guard let name = arguments.first, name != "help", !name.hasPrefix("-") else {
    try context.console.showHelp(mainSpec)
    return ExitStatus.success
  }
  return try subcommands.command(name).run(Array(arguments.dropFirst()) + ["--help"], context)
}

/// The version `voucher --version` prints.
let voucherVersion = "0.1.0 (code format 1)"

/// Runs one command line and answers its exit status; nothing here exits the process.
///
/// - Parameters:
///   - arguments: The arguments after the program name.
///   - console: Where output goes and input comes from.
///   - now: The time commands check dates against.
/// - Returns: The exit status.
func run(_ arguments: [String], console: any Console, now: Date = Date()) -> Int32 {
  do {
    // Global options come before the subcommand.
    var index = 0
    var homePath = console.environment("VOUCHER_HOME").flatMap { $0.isEmpty ? nil : $0 }
    var zoneName = console.environment("VOUCHER_TZ").flatMap { $0.isEmpty ? nil : $0 }
    var zoneSource = "VOUCHER_TZ"
    var registryText = console.environment("VOUCHER_REGISTRY").flatMap { $0.isEmpty ? nil : $0 }
    while index < arguments.count, arguments[index].hasPrefix("-") {
      let argument = arguments[index]
      if argument == "--help" || argument == "-h" {
        try console.showHelp(mainSpec)
        return ExitStatus.success
      } else if argument == "--version" {
        try console.print("voucher \(voucherVersion)\n")
        return ExitStatus.success
      } else if argument == "--home" {
        guard index + 1 < arguments.count else {
          throw CommandError.usage("--home needs a value <dir>")
        }
        homePath = arguments[index + 1]
        index += 2
      } else if argument.hasPrefix("--home=") {
        homePath = String(argument.dropFirst(7))
        index += 1
      } else if argument == "--tz" || argument.hasPrefix("--tz=") {
        if argument == "--tz" {
          guard index + 1 < arguments.count else {
            throw CommandError.usage("--tz needs a value <zone>")
          }
          zoneName = arguments[index + 1]
          index += 2
        } else {
          zoneName = String(argument.dropFirst(5))
          index += 1
        }
        zoneSource = "--tz"
      } else if argument == "--registry" {
        guard index + 1 < arguments.count else {
          throw CommandError.usage("--registry needs a value <uri>")
        }
        registryText = arguments[index + 1]
        index += 2
      } else if argument.hasPrefix("--registry=") {
        registryText = String(argument.dropFirst(11))
        index += 1
      } else {
        throw CommandError.usage("unknown option '\(printable(argument))'; see 'voucher --help'")
      }
    }
    guard index < arguments.count else {
      throw CommandError.usage("missing subcommand; see 'voucher --help'")
    }
    if let homePath, homePath.isEmpty || homePath.utf8.contains(0) {
      throw CommandError.usage("--home must name a folder")
    }
    var zone = ZoneRules.utc
    if let zoneName {
      do {
        zone = try ZoneRules.named(zoneName)
      } catch {
        throw CommandError.usage("\(zoneSource) '\(printable(zoneName))': \(error)")
      }
    }
    let context = Context(
      home: VoucherHome(homePath ?? "."), console: console, now: now,
      lockTimeout: try parseLockTimeout(console.environment("VOUCHER_LOCK_TIMEOUT")), zone: zone,
      registryURI: try registryText.map { (text) throws(CommandError) in try RegistryURI(text) })
    let rest = Array(arguments[(index + 1)...])
    let command = try subcommands.command(arguments[index])
    if command.usesHome { try checkHomeFolders(context.home) }
    return try command.run(rest, context)
  } catch {
    let failure = CommandError(error)
    console.error(failure.message)
    return failure.status
  }
}

/// Runs a command line as the process received it: every argument must be UTF-8.
///
/// - Parameters:
///   - argv: The arguments after the program name, as bytes.
///   - console: Where output goes and input comes from.
/// - Returns: The exit status; 64 (usage) for an argument that is not UTF-8.
func run(argv: [[UInt8]], console: any Console) -> Int32 {
  do {
    return run(try decodeArguments(argv), console: console)
  } catch {
    console.error(error.message)
    return error.status
  }
}

/// The arguments as text, refusing any that is not valid UTF-8 rather than storing a title, a
/// reason or an id with replacement characters, or opening a path that is not the one given.
func decodeArguments(_ argv: [[UInt8]]) throws(CommandError) -> [String] {
  var arguments: [String] = []
  for (index, bytes) in argv.enumerated() {
    guard let text = String(validating: bytes, as: UTF8.self) else {
      let decoded = String(decoding: bytes, as: UTF8.self)
      // Name the option whose value it is: `--title VALUE` or `--title=VALUE`.
      var what = "argument \(index + 1) ('\(printable(decoded))')"
      if decoded.hasPrefix("--"), let equals = decoded.firstIndex(of: "=") {
        what = "the value of \(printable(decoded[..<equals]))"
      } else if index > 0, arguments[index - 1].hasPrefix("--"),
        !arguments[index - 1].contains("=")
      {
        what = "the value of \(printable(arguments[index - 1]))"
      }
      throw .usage("\(what) is not valid UTF-8; arguments must be UTF-8 text")
    }
    arguments.append(text)
  }
  return arguments
}

/// Parses a command's arguments, printing help and answering `nil` when help was asked for.
func parse(_ spec: CommandSpec, _ arguments: [String], _ context: Context) throws
  -> ParsedArguments?
{
  guard let parsed = try spec.parse(arguments) else {
    try context.console.showHelp(spec)
    return nil
  }
  return parsed
}

/// Writes a value as one key-sorted JSON document.
func printJSON<T: Encodable>(_ value: T, _ console: any Console) throws {
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
  var data = try encoder.encode(value)
  data.append(0x0A)
  try data.withUnsafeBytes { (raw) throws in try console.writeOut(raw) }
}

/// Output formats of commands that print results.
enum OutputFormat: String, CaseIterable {
  case text
  case json
}
