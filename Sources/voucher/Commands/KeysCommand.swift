import FoundationEssentials
import VoucherKit

/// `voucher keys new|list|retire|revoke`. No subcommand ever prints a secret.
enum KeysCommand {
  static let subcommands = CommandTable([
    Command(
      "new", "Make a 256-bit key from OpenSSL's CSPRNG in the lowest free slot (file mode 0600).",
      run: new),
    Command("list", "List the keys: slot, state, creation time, size.", run: list),
    Command(
      "retire", label: "retire <slot>", "Stop issuing with a key; its codes still verify.",
      run: { try change($0, $1, to: .retired) }),
    Command(
      "revoke", label: "revoke <slot>", "Withdraw a key: its codes answer revoked-key.",
      run: { try change($0, $1, to: .revoked) }),
  ])

  static let spec = CommandSpec(
    name: "voucher keys",
    overview: "Manage the key ring in HOME/Keys. Secrets are never printed.",
    usage: "<subcommand>",
    subcommands: subcommands.helpRows)

  static func run(_ arguments: [String], _ context: Context) throws -> Int32 {
    try subcommands.dispatch(arguments, spec: spec, group: "keys", context)
  }

  private static let formatOption = OptionSpec.value("format", "format", "text (default) or json.")

  static func new(_ arguments: [String], _ context: Context) throws -> Int32 {
    let spec = CommandSpec(
      name: "voucher keys new", overview: "Make a new signing key.",
      usage: "[--format text|json]", options: [formatOption])
    guard let options = try parse(spec, arguments, context) else { return ExitStatus.success }
    _ = try options.positionals(0, "")
    let format = try options.choice("format", OutputFormat.self) ?? .text
    let info = try KeyRing.generate(in: context.home.keys, now: context.now)
    return try report(
      [info], format: format, text: "created key slot \(info.slot) (256 bits, mode 0600)\n",
      context)
  }

  static func list(_ arguments: [String], _ context: Context) throws -> Int32 {
    let spec = CommandSpec(
      name: "voucher keys list", overview: "List the keys.", usage: "[--format text|json]",
      options: [formatOption])
    guard let options = try parse(spec, arguments, context) else { return ExitStatus.success }
    _ = try options.positionals(0, "")
    let format = try options.choice("format", OutputFormat.self) ?? .text
    let ring = try context.keyRing()
    var rows = [["SLOT", "STATE", "CREATED", "BITS", "NOTE"]]
    for key in ring.keys {
      let note =
        key.isDemo
        ? "demo key: public secret, never for real vouchers"
        : (key.slot == ring.signingKey?.slot ? "signs new campaigns" : "")
      rows.append(["\(key.slot)", key.state.rawValue, key.created, "\(key.bits)", note])
    }
    return try report(ring.keys, format: format, text: table(rows), context)
  }

  /// `keys retire` and `keys revoke`.
  static func change(_ arguments: [String], _ context: Context, to state: KeyState) throws
    -> Int32
  {
    let name = state == .retired ? "retire" : "revoke"
    let spec = CommandSpec(
      name: "voucher keys \(name)",
      overview: state == .retired
        ? "Stop issuing with a key; its codes still verify."
        : "Withdraw a key: its codes answer revoked-key.",
      usage: "<slot> [--format text|json]",
      arguments: [("<slot>", "The key's slot, 0 to \(KeySlot.maximum).")], options: [formatOption]
    )
    guard let options = try parse(spec, arguments, context) else { return ExitStatus.success }
    let text = try options.positionals(1, "key slot")[0]
    guard text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let number = Int(text),
      let slot = KeySlot(number)
    else {
      throw CommandError.usage(
        "key slot must be a number from 0 to \(KeySlot.maximum), not '\(printable(text))'")
    }
    let format = try options.choice("format", OutputFormat.self) ?? .text
    let info = try KeyRing.change(slot: slot, to: state, in: context.home.keys)
    // With a PostgreSQL registry every till of the chain sees the change.
    try context.share(keys: [info])
    return try report(
      [info], format: format, text: "key slot \(slot) is \(info.state)\n", context)
  }

  /// A key as `--format json` prints it: never the secret.
  struct ShownKey: Encodable {
    let slot: Int
    let state: String
    let created: String
    let bits: Int
    let demo: Bool
  }

  private static func report(
    _ keys: [KeyInfo], format: OutputFormat, text: String, _ context: Context
  ) throws -> Int32 {
    if format == .json {
      try printJSON(
        keys.map {
          ShownKey(
            slot: Int($0.slot.rawValue), state: $0.state.rawValue, created: $0.created,
            bits: $0.bits, demo: $0.isDemo)
        }, context.console)
    } else {
      try context.console.print(text)
    }
    return ExitStatus.success
  }
}
