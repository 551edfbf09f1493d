import FoundationEssentials
import VoucherKit
import VoucherRegistry

#if PostgreSQL
  import VoucherPostgres
#endif

/// `voucher registry init|migrate|check|rebuild`.
enum RegistryCommand {
  static let subcommands = CommandTable([
    Command(
      "init",
      "Create an empty registry; needed only where codes were issued and the registry is gone for good.",
      run: initialize),
    Command(
      "migrate",
      "Bring a PostgreSQL registry's schema to this program's version (--registry URI).",
      run: migrate),
    Command(
      "copy",
      "Copy the home's file registry into a PostgreSQL registry (--to URI); safe to run again or resume.",
      run: copy),
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
      "Create the redemption registry, migrate a PostgreSQL one, check it, or rebuild a file registry's index from the journal.",
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
    #if PostgreSQL
      if let uri = context.registryURI {
        try PostgresRegistry.create(uri.target, timeout: context.lockTimeout)
        try shareHome(context)
        try context.console.print(
          "created an empty registry (schema version \(PostgresRegistry.schemaVersion)) in \(printable(uri.target.description, limit: 200))\n"
        )
        return ExitStatus.success
      }
    #endif
    try Registry.create(home: context.home)
    try context.console.print(
      "created an empty registry in \(printable(context.home.registry))\n")
    return ExitStatus.success
  }

  /// Shares the home's campaigns and key states with the chain's new (or newly migrated)
  /// registry: the office that creates it seeds what every till reads.
  private static func shareHome(_ context: Context) throws {
    try context.share(campaigns: try context.home.campaignStore.load().campaigns)
    if let ring = try? KeyRing.load(from: context.home.keys) { try context.share(keys: ring.keys) }
  }

  static func migrate(_ arguments: [String], _ context: Context) throws -> Int32 {
    guard try parseAlone("migrate", arguments, context) else { return ExitStatus.success }
    #if PostgreSQL
      if let uri = context.registryURI {
        let (from, to) = try PostgresRegistry.migrate(uri.target, timeout: context.lockTimeout)
        try shareHome(context)
        try context.console.print(
          from == to
            ? "\(printable(uri.target.description, limit: 200)) is at schema version \(to) already\n"
            : "migrated \(printable(uri.target.description, limit: 200)) from schema version \(from) to \(to)\n"
        )
        return ExitStatus.success
      }
    #endif
    throw CommandError.usage(
      "'voucher registry migrate' migrates a PostgreSQL registry named with --registry or VOUCHER_REGISTRY; the file registry has no schema"
    )
  }

  static let copySpec = CommandSpec(
    name: "voucher registry copy",
    overview: """
      Copy every event of the home's file registry into a PostgreSQL registry (created with \
      'voucher --registry URI registry init'), oldest first, in transactions of 2,000 events. \
      Run it again, or after it was killed, and it copies only what is missing: the same result. \
      The file registry is left as it was.
      """,
    usage: "--to <uri>",
    options: [
      .value(
        "to", "uri",
        "The PostgreSQL registry, a libpq URI; no password (libpq reads ~/.pgpass or $PGPASSFILE)."
      )
    ])

  static func copy(_ arguments: [String], _ context: Context) throws -> Int32 {
    guard let options = try parse(copySpec, arguments, context) else { return ExitStatus.success }
    _ = try options.positionals(0, "")
    let destination = try RegistryURI(try options.required("to"))
    guard context.registryURI == nil else {
      throw CommandError.usage(
        "'voucher registry copy' reads the home's file registry; name the PostgreSQL registry with --to alone"
      )
    }
    #if PostgreSQL
      let campaigns = try context.campaigns()
      let source = try Registry.open(
        home: context.home, campaigns: campaigns, create: false, lockTimeout: context.lockTimeout)
      defer { reportWarnings(source, context) }
      let target = try PostgresRegistry.open(
        destination.target, campaigns: campaigns, timeout: context.lockTimeout)
      let report = try target.copy(from: source)
      try context.console.print(
        "copied \(report.copied) events into \(printable(destination.target.description, limit: 200)) (\(report.earlier) were copied before)\n"
      )
      return ExitStatus.success
    #else
      // `RegistryURI` refuses every URI in this build.
      preconditionFailure("no PostgreSQL support")
    #endif
  }

  static func rebuild(_ arguments: [String], _ context: Context) throws -> Int32 {
    guard try parseAlone("rebuild", arguments, context) else { return ExitStatus.success }
    guard context.registryURI == nil else {
      throw CommandError.usage(
        "'voucher registry rebuild' rebuilds the file registry's index; a PostgreSQL registry has none to rebuild"
      )
    }
    // Rebuilding the index from the journal is the file registry's own: opened as one.
    let registry = try Registry.open(
      home: context.home, campaigns: try context.campaigns(), create: false,
      lockTimeout: context.lockTimeout)
    defer { reportWarnings(registry, context) }
    let records = try registry.rebuild()
    try context.console.print("rebuilt the index from \(records) records\n")
    return ExitStatus.success
  }

  static func check(_ arguments: [String], _ context: Context) throws -> Int32 {
    guard try parseAlone("check", arguments, context) else { return ExitStatus.success }
    let registry = try context.registry.open(
      campaigns: try context.campaigns(), create: false)
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
