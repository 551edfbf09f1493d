import FoundationEssentials
import Synchronization
import VoucherKit

/// Every command's interface, collected from the command table by asking each command for its
/// help, exactly as `--help` shows it: what `voucher completions` and `voucher manual` are made
/// from, so that neither can list a command or an option that help does not, or miss one.
struct CommandCatalog {
  /// One command: its words after `voucher` (empty for `voucher` itself) and its interface.
  struct Entry {
    let words: [String]
    let spec: CommandSpec

    /// Whether it is a group of subcommands (`registry`, `keys`).
    var isGroup: Bool { !spec.subcommands.isEmpty }

    /// The words of its subcommands, as its help lists them (`retire <slot>` is `retire`).
    var subcommandWords: [String] { spec.subcommands.map { String($0.0.split(separator: " ")[0]) } }

    /// The choices of an option's value, as the usage line spells them (`--format text|json`),
    /// or empty when the value is free.
    func choices(_ option: OptionSpec) -> [String] {
      let words = spec.usage.split(separator: " ").map(String.init)
      guard option.value != nil, let at = words.firstIndex(where: { $0.hasSuffix("--" + option.name) }),
        at + 1 < words.count
      else { return [] }
      let value = String(words[at + 1].filter { !"[]()".contains($0) })
      guard !value.hasPrefix("<"), !value.hasPrefix("-"), value.contains("|") else { return [] }
      return value.split(separator: "|").map(String.init)
    }

    /// Whether an option's value names a file or folder.
    func takesPath(_ option: OptionSpec) -> Bool {
      ["file", "path", "dir", "folder"].contains(option.value ?? "")
    }
  }

  /// `voucher` first, then each command in the table's order, each group followed by its
  /// subcommands.
  let entries: [Entry]

  init(table: CommandTable = subcommands) {
    var entries = [Entry(words: [], spec: mainSpec)]
    for command in table.commands where command.name != "help" {
      guard let spec = Self.help(of: command, ["--help"]) else { continue }
      let entry = Entry(words: [command.name], spec: spec)
      entries.append(entry)
      for word in entry.subcommandWords {
        if let sub = Self.help(of: command, [word, "--help"]) {
          entries.append(Entry(words: [command.name, word], spec: sub))
        }
      }
    }
    self.entries = entries
  }

  /// The interface a command shows when asked for help with these arguments.
  private static func help(of command: Command, _ arguments: [String]) -> CommandSpec? {
    let collector = HelpCollector()
    let context = Context(home: VoucherHome("."), console: collector, now: Date())
    _ = try? command.run(arguments, context)
    return collector.spec
  }
}

/// A console that keeps the help a command shows and drops everything else.
final class HelpCollector: Console {
  private let collected = Mutex<CommandSpec?>(nil)

  var spec: CommandSpec? { collected.withLock { $0 } }

  func showHelp(_ spec: CommandSpec) throws(SystemError) { collected.withLock { $0 = spec } }
  func writeOut(_ bytes: UnsafeRawBufferPointer) throws(SystemError) {}
  func writeError(_ text: String) {}
  var errorIsTerminal: Bool { false }
  func readInput(upTo count: Int) throws(SystemError) -> [UInt8] { [] }
  func environment(_ name: String) -> String? { nil }
}
