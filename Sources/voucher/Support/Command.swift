/// One subcommand: its name, its line in a help's `SUBCOMMANDS:` list, and what runs it.
struct Command: Sendable {
  /// The word that selects it (`redeem`).
  let name: String
  /// What the help list shows for it, when more than the name (`retire <slot>`).
  let label: String
  /// One line of help.
  let summary: String
  /// Runs it with the arguments after its name; answers the exit status.
  let run: @Sendable ([String], Context) throws -> Int32
  /// Whether it reads or writes the home folder (whose permissions are checked first); `help`,
  /// `completions` and `manual` do not, and work anywhere.
  let usesHome: Bool

  init(
    _ name: String, label: String? = nil, _ summary: String, usesHome: Bool = true,
    run: @escaping @Sendable ([String], Context) throws -> Int32
  ) {
    self.name = name
    self.label = label ?? name
    self.summary = summary
    self.usesHome = usesHome
    self.run = run
  }
}
