import Foundation
import Testing

@testable import voucher

@Suite("help and subcommand dispatch from one command table")
struct HelpTests {
  /// The names in a help text's `SUBCOMMANDS:` section, in order.
  func listed(_ help: String) -> [String] {
    guard let section = help.components(separatedBy: "\nSUBCOMMANDS:\n").last,
      help.contains("\nSUBCOMMANDS:\n")
    else { return [] }
    return section.split(separator: "\n").compactMap { line in
      line.hasPrefix("  ") && !line.hasPrefix("   ")
        ? line.split(separator: " ").first.map(String.init) : nil
    }
  }

  @Test("voucher help redeem prints redeem's own help, as redeem --help does, exit 0")
  func helpRedeem() throws {
    let home = try Home(keyed: false)
    defer { home.remove() }
    let help = home.run("help", "redeem")
    #expect(help.status == 0 && help.stderr.isEmpty)
    #expect(help.stdout.hasPrefix("OVERVIEW: Redeem a code"))
    #expect(help.stdout.contains("\nUSAGE: voucher redeem <code>"))
    #expect(help.stdout.contains("\nOPTIONS:\n") && help.stdout.contains("  --store <id>"))
    #expect(!help.stdout.contains("SUBCOMMANDS:"))
    #expect(help.stdout == home.run("redeem", "--help").stdout)
  }

  @Test(
    "voucher help registry prints the group's help with its subcommands; help reaches into groups")
  func helpGroup() throws {
    let home = try Home(keyed: false)
    defer { home.remove() }
    let help = home.run("help", "registry")
    #expect(help.status == 0 && help.stderr.isEmpty)
    #expect(help.stdout.hasPrefix("OVERVIEW: Create the redemption registry"))
    #expect(help.stdout.contains("\nUSAGE: voucher registry <subcommand>"))
    #expect(listed(help.stdout) == ["init", "migrate", "copy", "check", "rebuild"])
    #expect(help.stdout == home.run("registry", "--help").stdout)
    let check = home.run("help", "registry", "check")
    #expect(check.status == 0 && check.stdout.contains("\nUSAGE: voucher registry check"))
    #expect(check.stdout == home.run("registry", "check", "--help").stdout)
  }

  @Test("a mistyped subcommand gets one error line suggesting the close one, exit 64")
  func didYouMean() throws {
    let home = try Home(keyed: false)
    defer { home.remove() }
    let typo = home.run("redem", "0000-0000-0000-0000", "--store", "S1")
    #expect(typo.status == 64 && typo.stdout.isEmpty)
    #expect(
      typo.stderrLines == [
        "error: unknown subcommand 'redem'; did you mean 'redeem'? see 'voucher --help'"
      ])
    #expect(
      home.run("help", "redem").stderrLines == [
        "error: unknown subcommand 'redem'; did you mean 'redeem'? see 'voucher --help'"
      ])
    #expect(
      home.run("registry", "chek").stderrLines == [
        "error: unknown subcommand 'registry chek'; did you mean 'registry check'? see 'voucher registry --help'"
      ])
  }

  @Test("a word like no subcommand gets no suggestion")
  func nonsense() throws {
    let home = try Home(keyed: false)
    defer { home.remove() }
    for word in ["xyzzy", "nonsense", "v", "redeemed-twice"] {
      let outcome = home.run(word)
      #expect(outcome.status == 64 && outcome.stdout.isEmpty)
      #expect(
        outcome.stderrLines == ["error: unknown subcommand '\(word)'; see 'voucher --help'"])
    }
    let group = home.run("keys", "xyzzy")
    #expect(
      group.status == 64
        && group.stderrLines == [
          "error: unknown subcommand 'keys xyzzy'; see 'voucher keys --help'"
        ])
  }

  @Test("the help lists exactly the subcommands that dispatch, and each runs its own help")
  func listedIsDispatched() throws {
    let home = try Home(keyed: false)
    defer { home.remove() }
    let top = home.run("--help")
    let names = listed(top.stdout)
    #expect(names == subcommands.commands.map(\.name))
    // At least the first round's 17 (the table grows; the line above checks it exactly).
    #expect(names.count >= 17 && names.contains("redeem") && names.contains("manifest") && names.contains("help"))
    for name in names where name != "help" {
      let help = home.run("help", name)
      #expect(
        help.status == 0 && help.stdout.hasPrefix("OVERVIEW: ")
          && help.stdout.contains("\nUSAGE: voucher \(name)"), "\(name): \(help.stderr)")
      #expect(help.stdout == home.run(name, "--help").stdout, "\(name)")
      // A group's listed subcommands each dispatch to their own help, too.
      for sub in listed(help.stdout) {
        let subHelp = home.run(name, sub, "--help")
        #expect(
          subHelp.status == 0 && subHelp.stdout.contains("\nUSAGE: voucher \(name) \(sub)"),
          "\(name) \(sub): \(subHelp.stderr)")
      }
    }
    #expect(home.run("help", "help").stdout == top.stdout)
    #expect(home.run("help").stdout == top.stdout)
  }

  @Test("suggestions: one edit for short names, two for longer ones, swaps count one")
  func suggestions() {
    #expect(subcommands.suggestion(for: "redem") == "redeem")
    #expect(subcommands.suggestion(for: "regsitry") == "registry")
    #expect(subcommands.suggestion(for: "vrfy") == "verify")
    #expect(subcommands.suggestion(for: "kyes") == "keys")
    #expect(subcommands.suggestion(for: "dmeo") == "demo")
    #expect(subcommands.suggestion(for: "blck") == "block")
    #expect(subcommands.suggestion(for: "xyzzy") == nil)
    #expect(subcommands.suggestion(for: "vd") == nil)
    #expect(subcommands.suggestion(for: "") == nil)
    #expect(CommandTable.editDistance(Array("kitten"), Array("sitting")) == 3)
    #expect(CommandTable.editDistance(Array("ab"), Array("ba")) == 1)
    #expect(CommandTable.editDistance(Array(""), Array("abc")) == 3)
  }
}
