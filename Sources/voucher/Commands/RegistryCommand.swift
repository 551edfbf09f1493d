import FoundationEssentials
import VoucherKit
import VoucherRegistry

/// `voucher registry init|check|rebuild`.
enum RegistryCommand {
  static let spec = CommandSpec(
    name: "voucher registry",
    overview:
      "Create the redemption registry, check it, or rebuild its index from the journal.",
    usage: "<subcommand>",
    subcommands: [
      (
        "init",
        "Create an empty registry; needed only where codes were issued and the registry is gone for good."
      ),
      (
        "check",
        "Check every record's checksum and the index against the journal; exit 65 on damage."
      ),
      ("rebuild", "Rebuild the index and block list from the journal (refuses a damaged journal)."),
    ])

  static func run(_ arguments: [String], _ context: Context) throws -> Int32 {
    guard let subcommand = arguments.first, !subcommand.hasPrefix("-") else {
      if arguments.first == "--help" || arguments.first == "-h" {
        try context.console.print(spec.help)
        return ExitStatus.success
      }
      throw CommandError.usage("missing subcommand; see 'voucher registry --help'")
    }
    let sub = CommandSpec(
      name: "voucher registry \(subcommand)",
      overview: spec.subcommands.first { $0.0 == subcommand }?.1 ?? "", usage: "")
    guard ["init", "check", "rebuild"].contains(subcommand) else {
      throw CommandError.usage(
        "unknown subcommand 'registry \(printable(subcommand))'; see 'voucher registry --help'")
    }
    guard let options = try parse(sub, Array(arguments.dropFirst()), context) else {
      return ExitStatus.success
    }
    _ = try options.positionals(0, "")
    if subcommand == "init" {
      try Registry.create(home: context.home)
      try context.console.print(
        "created an empty registry in \(printable(context.home.registry))\n")
      return ExitStatus.success
    }
    let campaigns = try context.home.campaignStore.load()
    if subcommand == "rebuild" {
      // Rebuilding the index from the journal is the file registry's own: opened as one.
      let registry = try Registry.open(
        home: context.home, campaigns: campaigns, create: false, lockTimeout: context.lockTimeout)
      defer { reportWarnings(registry, context) }
      let records = try registry.rebuild()
      try context.console.print("rebuilt the index from \(records) records\n")
      return ExitStatus.success
    }
    let registry = try context.registry.open(campaigns: campaigns, create: false)
    defer { reportWarnings(registry, context) }
    let report = try registry.check()
    for problem in report.problems { context.console.error(problem) }
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
