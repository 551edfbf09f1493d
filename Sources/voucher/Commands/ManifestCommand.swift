import FoundationEssentials
import VoucherKit

/// `voucher manifest verify`: checks a print file against the manifest `issue` wrote beside it.
enum ManifestCommand {
  static let subcommands = CommandTable([
    Command(
      "verify",
      "Tell whether a print file is the one issued, unaltered (exit 0), or name its first changed row (exit 1).",
      run: verify)
  ])

  static let spec = CommandSpec(
    name: "voucher manifest",
    overview:
      "Check print files against the signed manifests that 'voucher issue --output' writes beside them.",
    usage: "<subcommand>",
    subcommands: subcommands.helpRows)

  static let verifySpec = CommandSpec(
    name: "voucher manifest verify",
    overview: """
      Check a print file against its manifest (FILE.manifest.json): the manifest's HMAC under \
      the key ring, then the file's SHA-256. A file that differs is compared with the rows \
      regenerated from the manifest's campaign, channel, serials and layout, and the first \
      changed row is named. Exit 0: as issued; 1: altered, or the manifest is not genuine.
      """,
    usage: "<file>... [--manifest <path>]",
    arguments: [
      (
        "<file>",
        "A print file (CSV, JSON or text) as issued; several (the boxes of a run) are checked in turn."
      )
    ],
    options: [
      .value("manifest", "path", "The manifest of a single file (default: FILE.manifest.json).")
    ])

  static func run(_ arguments: [String], _ context: Context) throws -> Int32 {
    try subcommands.dispatch(arguments, spec: spec, group: "manifest", context)
  }

  static func verify(_ arguments: [String], _ context: Context) throws -> Int32 {
    guard let options = try parse(verifySpec, arguments, context) else {
      return ExitStatus.success
    }
    let files = options.positionals
    guard !files.isEmpty else { throw CommandError.usage("missing <file>") }
    guard files.allSatisfy({ !$0.isEmpty && !$0.utf8.contains(0) }) else {
      throw CommandError.usage("<file> must name a file")
    }
    if options.value("manifest") != nil && files.count > 1 {
      throw CommandError.usage("--manifest goes with a single file")
    }
    let ring = try KeyRing.load(from: context.home.keys)
    var status = ExitStatus.success
    for file in files {
      let verdict = try verify(
        file, manifest: options.value("manifest") ?? file + ".manifest.json", ring, context)
      status = max(status, verdict)
    }
    return status
  }

  /// Checks one file; answers 0 (as issued) or 1 (altered or not verified).
  private static func verify(
    _ file: String, manifest manifestPath: String, _ ring: KeyRing, _ context: Context
  ) throws -> Int32 {
    let manifest = try readManifest(manifestPath)
    func verdict(_ text: String) throws -> Int32 {
      try context.console.print("\(printable(file)): \(text)\n")
      return ExitStatus.rejected
    }
    switch manifest.authenticity(in: ring) {
    case .genuine: break
    case .forged:
      return try verdict(
        "not verified: the manifest's HMAC does not match; it was changed or not made by this key ring"
      )
    case .revokedKey:
      return try verdict(
        "not verified: the manifest is signed with key slot \(manifest.keySlot), which is revoked")
    case .unknownKey:
      throw CommandError(
        ExitStatus.noInput,
        "the manifest is signed with key slot \(manifest.keySlot), which the key ring lacks")
    }
    if manifest.file != baseName(file) {
      context.console.warning(
        "the manifest was written for '\(printable(manifest.file))'; checking \(printable(file)) against it"
      )
    }
    let actual = try readFile(file)
    let hasher = SHA256Hasher()
    actual.withUnsafeBytes { hasher.update($0) }
    if hasher.finish() == manifest.sha256 && actual.count == manifest.bytes {
      try context.console.print(
        "\(printable(file)): as issued: campaign \(manifest.campaign), channel \(manifest.channel), serials \(manifest.first) to \(manifest.last) (\(manifest.count) codes), issued \(manifest.issued)\n"
      )
      return ExitStatus.success
    }
    let expected = try regenerate(manifest, context, ring)
    hasher.reset(expected)
    if hasher.finish() != manifest.sha256 {
      context.console.warning(
        "the rows regenerated today differ from those issued (the campaign or its key changed); rows are compared with today's"
      )
    }
    guard
      let difference = FileDifference.first(
        actual: actual, expected: expected, format: manifest.format, serials: manifest.serials)
    else {
      return try verdict("altered: its SHA-256 differs from the manifest's")
    }
    return try verdict("altered: \(difference)")
  }

  /// The manifest at `path`.
  private static func readManifest(_ path: String) throws -> IssueManifest {
    let bytes = try readFile(path, limit: 1 << 20)
    do {
      return try JSONDecoder().decode(IssueManifest.self, from: Data(bytes))
    } catch {
      throw CommandError(
        ExitStatus.dataError, "\(printable(path)) is not a print-file manifest")
    }
  }

  /// A file's bytes; a missing file is exit 66, anything else that fails exit 74 (or 65 for a
  /// folder or device).
  private static func readFile(_ path: String, limit: Int = 1 << 32) throws -> [UInt8] {
    do {
      return try FileSystem.read(path, limit: limit).bytes
    } catch {
      if error.isMissing { throw CommandError(ExitStatus.noInput, "no file \(printable(path))") }
      throw CommandError(error)
    }
  }

  /// The file as the manifest says it was issued, made again from the key ring.
  private static func regenerate(_ manifest: IssueManifest, _ context: Context, _ ring: KeyRing)
    throws -> [UInt8]
  {
    guard let campaign = try context.home.campaignStore.load().campaign(manifest.campaign) else {
      throw CampaignError.unknownCampaign(manifest.campaign)
    }
    guard let channel = campaign.channelIndex(manifest.channel) else {
      throw CampaignError.unknownChannel(manifest.campaign, manifest.channel)
    }
    guard manifest.first >= 1, manifest.first <= manifest.last, manifest.last <= campaign.capacity,
      manifest.count == manifest.serials.count
    else {
      throw CommandError(
        ExitStatus.dataError, "the manifest's serials lie outside the campaign's capacity")
    }
    let layout: IssueLayout
    do {
      layout = try manifest.layout()
    } catch {
      throw CommandError(ExitStatus.dataError, "the manifest's layout is invalid: \(error)")
    }
    let issuer = try Issuer(campaign: campaign, keyRing: ring, allowingInactiveKey: true)
    var bytes: [UInt8] = []
    try issuer.write(
      channel: channel, serials: manifest.serials, layout: layout,
      to: { bytes.append(contentsOf: $0) })
    return bytes
  }
}
