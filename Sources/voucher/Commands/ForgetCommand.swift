import FoundationEssentials
import VoucherKit
import VoucherRegistry

/// `voucher forget --profile ID`: erasure of a customer profile id on request.
enum ForgetCommand {
  static let spec = CommandSpec(
    name: "voucher forget",
    overview: """
      Erase a customer profile id from the registry, on the customer's request. Every event keeps \
      its code, time, store, count and request id; only the profile id is overwritten, so counts, \
      limits and reports stay as they were. Crash-safe: an interrupted run is completed by the \
      next command. Exits 1 if a file under the home not owned by the registry (an export saved \
      there, say) still holds the id.
      """,
    usage: "--profile <id> [--format text|json]",
    options: [
      .value("profile", "id", "The profile id to erase."),
      .value("format", "format", "text (default) or json."),
    ])

  struct Shown: Encodable {
    let redemptions: Int
    let claims: Int
    let sideFiles: Int
    let events: Int
    let stillContaining: [String]
  }

  static func run(_ arguments: [String], _ context: Context) throws -> Int32 {
    guard let options = try parse(spec, arguments, context) else { return ExitStatus.success }
    _ = try options.positionals(0, "")
    let format = try options.choice("format", OutputFormat.self) ?? .text
    let profile: ProfileID
    do {
      profile = try ProfileID(try options.required("profile"))
    } catch let error as InvalidField {
      throw CommandError(error)
    }
    var result = ForgetReport(redemptions: 0, claims: 0, sideFiles: 0)
    if let registry = try context.registry.openIfPresent(
      campaigns: try context.campaigns())
    {
      defer { reportWarnings(registry, context) }
      result = try registry.forget(profile: profile)
    }
    // Check the whole home, not only what the registry owns.
    let leftovers = try filesContaining(Array(profile.rawValue.utf8), under: context.home.path)
    if format == .json {
      try printJSON(
        Shown(
          redemptions: result.redemptions, claims: result.claims, sideFiles: result.sideFiles,
          events: result.events, stillContaining: leftovers), context.console)
    } else {
      var text =
        result.events == 0
        ? "no event names that profile\n"
        : "erased the profile from \(counted(result.events, "event")) (\(counted(result.redemptions, "redemption")), \(counted(result.claims, "claim")))\n"
      if result.sideFiles > 0 {
        text += "and from \(counted(result.sideFiles, "side file")) of repaired torn tails\n"
      }
      try context.console.print(text)
    }
    for path in leftovers {
      context.console.error(
        "\(path) still contains the profile id; it is not the registry's: delete or edit it")
    }
    return leftovers.isEmpty ? ExitStatus.success : ExitStatus.rejected
  }

  /// Regular files under `folder` (symbolic links not followed, build folders skipped) whose
  /// bytes contain `needle`.
  static func filesContaining(_ needle: [UInt8], under folder: String) throws -> [String] {
    var found: [String] = []
    var pending = [folder]
    while let current = pending.popLast() {
      guard let names = try? FileSystem.list(current) else { continue }
      for name in names.sorted()
      where name != ".build" && !name.hasPrefix(".build-") && name != ".git" {
        let path = current == "." ? name : current + "/" + name
        switch FileSystem.kind(of: path) {
        case .directory: pending.append(path)
        case .file:
          if try FileSystem.contains(path, needle) { found.append(path) }
        default: break
        }
      }
    }
    return found.sorted()
  }
}

/// A count with its noun: "1 claim", "2 claims".
func counted(_ count: Int, _ noun: String) -> String {
  "\(count) \(noun)\(count == 1 ? "" : "s")"
}
