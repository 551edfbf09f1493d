import VoucherKit

/// One option a command accepts.
struct OptionSpec {
  /// The name without dashes.
  let name: String
  /// The value's placeholder in help (`ID`, `N`), or `nil` for a bare flag.
  let value: String?
  /// One line of help.
  let help: String
  /// Whether the option may be given more than once (`--tier A:1 --tier B:2`).
  var repeats = false

  static func flag(_ name: String, _ help: String) -> OptionSpec {
    OptionSpec(name: name, value: nil, help: help)
  }
  static func value(_ name: String, _ placeholder: String, _ help: String) -> OptionSpec {
    OptionSpec(name: name, value: placeholder, help: help)
  }
  /// An option with a value that may be given more than once; ``ParsedArguments/all(_:)``
  /// reads its values in order.
  static func repeated(_ name: String, _ placeholder: String, _ help: String) -> OptionSpec {
    OptionSpec(name: name, value: placeholder, help: help, repeats: true)
  }
}

/// A command's interface: what help shows and what the parser accepts.
struct CommandSpec {
  /// The full command name (`voucher issue`).
  let name: String
  /// One paragraph of overview.
  let overview: String
  /// The usage line after the command name.
  let usage: String
  /// Positional arguments: name and help.
  var arguments: [(String, String)] = []
  /// Options.
  var options: [OptionSpec] = []
  /// Subcommands: name and help.
  var subcommands: [(String, String)] = []

  /// Help text: `OVERVIEW:`, `USAGE:`, `ARGUMENTS:`, `OPTIONS:`, `SUBCOMMANDS:`.
  var help: String {
    var text = "OVERVIEW: \(overview)\n\nUSAGE: \(name) \(usage)\n"
    func section(_ title: String, _ rows: [(String, String)]) {
      guard !rows.isEmpty else { return }
      let width = min(28, rows.map(\.0.count).max()! + 2)
      text += "\n\(title):\n"
      for (left, right) in rows {
        let pad =
          left.count < width
          ? String(repeating: " ", count: width - left.count)
          : "\n  " + String(repeating: " ", count: width)
        text += "  \(left)\(pad)\(right)\n"
      }
    }
    section("ARGUMENTS", arguments)
    section(
      "OPTIONS",
      options.map { ("--\($0.name)" + ($0.value.map { " <\($0)>" } ?? ""), $0.help) } + [
        ("-h, --help", "Show help information.")
      ])
    section("SUBCOMMANDS", subcommands)
    return text
  }

  /// Parses a command's arguments: `--name value`, `--name=value`, bare flags, `--` and `-`.
  ///
  /// - Returns: `nil` when help was asked for.
  /// - Throws: ``CommandError`` (exit 64) for an unknown option, a missing value or an option
  ///   given twice.
  func parse(_ arguments: [String]) throws(CommandError) -> ParsedArguments? {
    var parsed = ParsedArguments()
    var index = 0
    var optionsEnded = false
    while index < arguments.count {
      let argument = arguments[index]
      index += 1
      if optionsEnded || argument == "-" || !argument.hasPrefix("-") {
        parsed.positionals.append(argument)
        continue
      }
      if argument == "--" {
        optionsEnded = true
        continue
      }
      if argument == "-h" || argument == "--help" { return nil }
      guard argument.hasPrefix("--") else {
        throw .usage("unknown option '\(printable(argument))' for '\(name)'; see '\(name) --help'")
      }
      var optionName = String(argument.dropFirst(2))
      var inlineValue: String?
      if let equals = optionName.firstIndex(of: "=") {
        inlineValue = String(optionName[optionName.index(after: equals)...])
        optionName = String(optionName[..<equals])
      }
      guard let spec = options.first(where: { $0.name == optionName }) else {
        throw .usage(
          "unknown option '--\(printable(optionName))' for '\(name)'; see '\(name) --help'")
      }
      guard spec.repeats || !parsed.seen.contains(optionName) else {
        throw .usage("--\(optionName) is given twice")
      }
      parsed.seen.insert(optionName)
      if spec.value == nil {
        guard inlineValue == nil else { throw .usage("--\(optionName) takes no value") }
        parsed.flags.insert(optionName)
      } else {
        let value: String
        if let inlineValue {
          value = inlineValue
        } else {
          guard index < arguments.count else {
            throw .usage("--\(optionName) needs a value <\(spec.value!)>")
          }
          value = arguments[index]
          index += 1
        }
        parsed.values[optionName] = value
        parsed.lists[optionName, default: []].append(value)
      }
    }
    return parsed
  }
}

/// What a command line said.
struct ParsedArguments {
  var values: [String: String] = [:]
  /// Every value of each option, in order (for options that repeat).
  var lists: [String: [String]] = [:]
  var flags: Set<String> = []
  var positionals: [String] = []
  fileprivate var seen: Set<String> = []

  /// Whether a flag was given.
  func has(_ flag: String) -> Bool { flags.contains(flag) }

  /// An option's text value.
  func value(_ name: String) -> String? { values[name] }

  /// Every value of an option that may repeat, in the order given.
  func all(_ name: String) -> [String] { lists[name] ?? [] }

  /// A required option's text value.
  func required(_ name: String) throws(CommandError) -> String {
    guard let value = values[name] else { throw .usage("--\(name) is required") }
    return value
  }

  /// An option's value as a whole number within `range`.
  func integer(_ name: String, in range: ClosedRange<Int>) throws(CommandError) -> Int? {
    guard let text = values[name] else { return nil }
    guard text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let number = Int(text),
      range.contains(number)
    else {
      throw .usage(
        "--\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound), not '\(printable(text))'"
      )
    }
    return number
  }

  /// An option's value as one of an enumeration's cases.
  func choice<T: RawRepresentable & CaseIterable>(_ name: String, _ type: T.Type)
    throws(CommandError) -> T? where T.RawValue == String
  {
    guard let text = values[name] else { return nil }
    guard let value = T(rawValue: text) else {
      let names = T.allCases.map(\.rawValue).joined(separator: ", ")
      throw .usage("--\(name) must be one of \(names), not '\(printable(text))'")
    }
    return value
  }

  /// Fails unless exactly `count` positional arguments were given.
  func positionals(_ count: Int, _ names: String) throws(CommandError) -> [String] {
    guard positionals.count == count else {
      throw .usage(
        positionals.count < count
          ? "missing \(names)" : "unexpected argument '\(printable(positionals[count]))'")
    }
    return positionals
  }
}
