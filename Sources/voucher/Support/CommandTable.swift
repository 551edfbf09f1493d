import VoucherKit

/// A command's subcommands: the one list that drives both its help's `SUBCOMMANDS:` section and
/// its dispatch, so that no subcommand can be listed and not run, or run and not listed.
struct CommandTable: Sendable {
  /// The subcommands, in the order help lists them.
  let commands: [Command]

  init(_ commands: [Command]) {
    self.commands = commands
  }

  /// The rows of a help's `SUBCOMMANDS:` section.
  var helpRows: [(String, String)] { commands.map { ($0.label, $0.summary) } }

  /// The subcommand with this name.
  func command(named name: String) -> Command? { commands.first { $0.name == name } }

  /// Finds the subcommand a word names, or fails with a usage error that suggests the closest
  /// one when the word is a likely typo of it.
  ///
  /// - Parameters:
  ///   - word: The word given.
  ///   - group: The group's words after `voucher` (`registry`), or empty at the top level.
  /// - Throws: ``CommandError`` (exit 64): "unknown subcommand 'redem'; did you mean 'redeem'?
  ///   see 'voucher --help'".
  func command(_ word: String, in group: String = "") throws(CommandError) -> Command {
    if let command = command(named: word) { return command }
    let prefix = group.isEmpty ? "" : group + " "
    let hint = suggestion(for: word).map { "did you mean '\(prefix)\($0)'? " } ?? ""
    throw .usage(
      "unknown subcommand '\(prefix)\(printable(word))'; \(hint)see 'voucher \(prefix)--help'")
  }

  /// Runs a group's subcommand: the first argument names it; `--help` (or `-h`) instead prints
  /// the group's help.
  ///
  /// - Parameters:
  ///   - arguments: The arguments after the group's name.
  ///   - spec: The group's help.
  ///   - group: The group's words after `voucher` (`registry`).
  ///   - context: What the command is given.
  /// - Returns: The subcommand's exit status.
  func dispatch(_ arguments: [String], spec: CommandSpec, group: String, _ context: Context)
    throws -> Int32
  {
    guard let word = arguments.first, !word.hasPrefix("-") else {
      if arguments.first == "--help" || arguments.first == "-h" {
        try context.console.showHelp(spec)
        return ExitStatus.success
      }
      throw CommandError.usage("missing subcommand; see 'voucher \(group) --help'")
    }
    return try command(word, in: group).run(Array(arguments.dropFirst()), context)
  }
}
