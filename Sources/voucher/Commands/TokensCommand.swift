import FoundationEssentials
import VoucherHTTP
import VoucherKit
import VoucherRegistry

/// `voucher tokens add|list|revoke`: the HTTP front's bearer tokens. A secret is printed once,
/// when made; the home keeps only its SHA-256 (`HOME/tokens`, mode 0600).
enum TokensCommand {
  static let subcommands = CommandTable([
    Command(
      "add", label: "add <name> --scope till|web|crm [--store <id>]",
      "Make a token; its secret is printed once and never kept.", run: add),
    Command("list", "List the tokens: name, scope, store (never a secret).", run: list),
    Command(
      "revoke", label: "revoke <name>",
      "Withdraw a token; a running server refuses it at its next request.", run: revoke),
  ])

  static let spec = CommandSpec(
    name: "voucher tokens",
    overview: """
      Manage the HTTP API's bearer tokens in HOME/tokens (mode 0600, hashes only). A till token \
      verifies, redeems, voids and reads history as its own store; a web token verifies, claims \
      and redeems online; a crm token reads reports and events.
      """,
    usage: "<subcommand>",
    subcommands: subcommands.helpRows)

  static func run(_ arguments: [String], _ context: Context) throws -> Int32 {
    try subcommands.dispatch(arguments, spec: spec, group: "tokens", context)
  }

  private static let formatOption = OptionSpec.value("format", "format", "text (default) or json.")

  static func add(_ arguments: [String], _ context: Context) throws -> Int32 {
    let spec = CommandSpec(
      name: "voucher tokens add",
      overview: "Make a token from OpenSSL's CSPRNG and print its secret once.",
      usage: "<name> --scope till|web|crm [--store <id>] [--format text|json]",
      arguments: [("<name>", "1 to 64 of A-Z a-z 0-9 . _ : -, to list and revoke it by.")],
      options: [
        .value("scope", "scope", "till, web or crm."),
        .value("store", "id", "The store a till token acts as (till tokens only)."),
        formatOption,
      ])
    guard let options = try parse(spec, arguments, context) else { return ExitStatus.success }
    let name = try options.positionals(1, "token name")[0]
    let format = try options.choice("format", OutputFormat.self) ?? .text
    guard let scope = try options.choice("scope", TokenScope.self) else {
      throw CommandError.usage("--scope is required: till, web or crm")
    }
    let store = try options.value("store").map { try StoreID($0) }
    let secret: String = try change(context) { book throws(TokenError) in
      try book.add(name: name, scope: scope, store: store)
    }
    if format == .json {
      try printJSON(["token": secret], context.console)
    } else {
      try context.console.print(secret + "\n")
      context.console.warning("this secret is shown once; only its hash is kept")
    }
    return ExitStatus.success
  }

  static func list(_ arguments: [String], _ context: Context) throws -> Int32 {
    let spec = CommandSpec(
      name: "voucher tokens list", overview: "List the tokens (never a secret).",
      usage: "[--format text|json]", options: [formatOption])
    guard let options = try parse(spec, arguments, context) else { return ExitStatus.success }
    _ = try options.positionals(0, "")
    let format = try options.choice("format", OutputFormat.self) ?? .text
    let book = try TokenBook.load(from: TokenBook.path(in: context.home))
    if format == .json {
      struct Shown: Encodable {
        let name: String
        let scope: String
        let store: String?
      }
      try printJSON(
        book.tokens.map { Shown(name: $0.name, scope: $0.scope.rawValue, store: $0.store) },
        context.console)
      return ExitStatus.success
    }
    var rows = [["NAME", "SCOPE", "STORE"]]
    for token in book.tokens { rows.append([token.name, token.scope.rawValue, token.store ?? ""]) }
    try context.console.print(book.tokens.isEmpty ? "no tokens\n" : table(rows))
    return ExitStatus.success
  }

  static func revoke(_ arguments: [String], _ context: Context) throws -> Int32 {
    let spec = CommandSpec(
      name: "voucher tokens revoke",
      overview: "Withdraw a token; a running server refuses it at its next request.",
      usage: "<name>", arguments: [("<name>", "The token's name.")])
    guard let options = try parse(spec, arguments, context) else { return ExitStatus.success }
    let name = try options.positionals(1, "token name")[0]
    try change(context) { book throws(TokenError) in try book.revoke(name: name) }
    try context.console.print("revoked token \(name)\n")
    return ExitStatus.success
  }

  /// Reads, changes and writes the token file under a lock, so two commands never lose each
  /// other's change.
  @discardableResult
  private static func change<T>(
    _ context: Context, _ body: (inout TokenBook) throws(TokenError) -> T
  ) throws -> T {
    let path = TokenBook.path(in: context.home)
    guard FileSystem.isDirectory(context.home.path) else {
      throw CommandError(ExitStatus.noInput, "\(context.home.path) is not a folder")
    }
    let lock: FileLock
    do {
      lock = try FileLock(path + ".lock", timeout: context.lockTimeout)
    } catch {
      switch error {
      case .busy(let path):
        throw CommandError(ExitStatus.busy, "\(path) is locked by another process")
      case .io(let error): throw CommandError(error)
      }
    }
    defer { lock.unlock() }
    var book = try TokenBook.load(from: path)
    let result = try body(&book)
    try book.save(to: path)
    return result
  }
}
