import VoucherKit

/// `voucher completions SHELL` and `voucher manual`: what a shell user installs, made from the
/// command table that help and dispatch use.
enum ShellCommand {
  static let completionsSpec = CommandSpec(
    name: "voucher completions",
    overview: """
      Print a completion script for bash, zsh or fish: subcommands, options and their values. \
      bash: source <(voucher completions bash); zsh: voucher completions zsh > a folder of \
      $fpath as _voucher; fish: voucher completions fish > ~/.config/fish/completions/voucher.fish.
      """,
    usage: "bash|zsh|fish",
    arguments: [("<shell>", "bash, zsh or fish.")])

  static let manualSpec = CommandSpec(
    name: "voucher manual",
    overview: """
      Print the manual page (roff): read it with 'voucher manual | man -l -', or install it as \
      voucher.1 in a man1 folder.
      """,
    usage: "")

  static func completions(_ arguments: [String], _ context: Context) throws -> Int32 {
    guard let options = try parse(completionsSpec, arguments, context) else {
      return ExitStatus.success
    }
    let name = try options.positionals(1, "shell")[0]
    guard let shell = Completions.Shell(rawValue: name) else {
      throw CommandError.usage("unknown shell '\(printable(name))'; give bash, zsh or fish")
    }
    try context.console.print(Completions.script(for: shell, CommandCatalog()))
    return ExitStatus.success
  }

  static func manual(_ arguments: [String], _ context: Context) throws -> Int32 {
    guard let options = try parse(manualSpec, arguments, context) else { return ExitStatus.success }
    _ = try options.positionals(0, "")
    try context.console.print(ManualPage.page(CommandCatalog(), version: voucherVersion))
    return ExitStatus.success
  }
}
