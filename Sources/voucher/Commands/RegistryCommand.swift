import FoundationEssentials
import VoucherKit
import VoucherRegistry

/// `voucher registry init|check|rebuild`.
enum RegistryCommand {
  static let subcommands = CommandTable([
    Command(
      "init",
      "Create an empty registry; needed only where codes were issued and the registry is gone for good.",
      run: initialize),
    Command(
      "check",
      "Check every record's checksum and the index against the journal; exit 65 on damage.",
      run: check),
    Command(
      "rebuild", "Rebuild the index and block list from the journal (refuses a damaged journal).",
      run: rebuild),
  ])

  static let spec = CommandSpec(
    name: "voucher registry",
    overview:
      "Create the redemption registry, check it, or rebuild its index from the journal.",
    usage: "<subcommand>",
    subcommands: subcommands.helpRows)

  static func run(_ arguments: [String], _ context: Context) throws -> Int32 {
    try subcommands.dispatch(arguments, spec: spec, group: "registry", context)
  }

  /// Parses a subcommand's arguments (none but `--help`); `false` when its help was printed.
  private static func parseAlone(_ name: String, _ arguments: [String], _ context: Context) throws
    -> Bool
  {
    let spec = CommandSpec(
      name: "voucher registry \(name)",
      overview: subcommands.command(named: name)?.summary ?? "", usage: "")
    guard let options = try parse(spec, arguments, context) else { return false }
    _ = try options.positionals(0, "")
    return true
  }

  static func initialize(_ arguments: [String], _ context: Context) throws -> Int32 {
    guard try parseAlone("init", arguments, context) else { return ExitStatus.success }
    try Registry.create(home: context.home)
    try context.console.print(
      "created an empty registry in \(printable(context.home.registry))\n")
    return ExitStatus.success
  }

  static func rebuild(_ arguments: [String], _ context: Context) throws -> Int32 {
    guard try parseAlone("rebuild", arguments, context) else { return ExitStatus.success }
    // Rebuilding the index from the journal is the file registry's own: opened as one.
    let registry = try Registry.open(
      home: context.home, campaigns: try context.home.campaignStore.load(), create: false,
      lockTimeout: context.lockTimeout)
    defer { reportWarnings(registry, context) }
    let records = try registry.rebuild()
    try context.console.print("rebuilt the index from \(records) records\n")
    return ExitStatus.success
  }

  static func check(_ arguments: [String], _ context: Context) throws -> Int32 {
    guard try parseAlone("check", arguments, context) else { return ExitStatus.success }
    let registry = try context.registry.open(
      campaigns: try context.home.campaignStore.load(), create: false)
    defer { reportWarnings(registry, context) }
    let report = try registry.check()
    for damage in report.damage { context.console.error(CommandError.message(damage)) }
    if let torn = report.tornTail {
      context.console.warning(
        "the journal has a torn tail at byte offset \(torn.offset) (\(torn.bytes) bytes, from an interrupted write; nothing acknowledged is in it); the next write repairs it"
      )
    }
    guard report.problems.isEmpty else { return ExitStatus.dataError }
    try context.console.print(
      "registry ok: \(report.records) records, \(report.codes) codes with events\n")
    return ExitStatus.success
  }
}
