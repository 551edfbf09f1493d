/// The record written beside each print file (`FILE.manifest.json`): what was issued into it,
/// its SHA-256, and an HMAC that only the key ring can make, so that `voucher manifest verify`
/// can tell a file as issued from one altered or replaced since.
///
/// The MAC is HMAC-SHA256 under a key derived from a slot's secret for this purpose alone
/// (HMAC-SHA256(secret, "voucher/v1/manifest")), over ``signedText``: every field but the MAC,
/// one per line, each value prefixed with its length in bytes. <doc:PrintFiles> describes the
/// format.
public struct IssueManifest: Sendable, Hashable, Codable {
  /// The manifest format's version.
  public static let currentVersion = 1

  /// The manifest format's version.
  public var manifest: Int = IssueManifest.currentVersion
  /// The campaign.
  public var campaign: CampaignID
  /// The channel.
  public var channel: ChannelID
  /// The first serial in the file.
  public var first: Int
  /// The last serial in the file.
  public var last: Int
  /// How many codes the file holds.
  public var count: Int
  /// The file's number among the files of one run (`--per-file`), from 1, or `nil` for a run
  /// written to one file.
  public var part: Int?
  /// How many files the run wrote, with `part`.
  public var parts: Int?
  /// The file format.
  public var format: IssueFormat
  /// The columns (empty for text).
  public var columns: [IssueColumn]
  /// The registration link template, if the file has links.
  public var url: String?
  /// The file's name (without folder) as it was written.
  public var file: String
  /// The file's size in bytes.
  public var bytes: Int
  /// The file's SHA-256, lower-case hexadecimal.
  public var sha256: String
  /// When the run was issued (UTC, ISO 8601).
  public var issued: String
  /// The key slot whose manifest key made ``mac``.
  public var keySlot: KeySlot
  /// HMAC-SHA256 of ``signedText`` under the slot's manifest key, lower-case hexadecimal.
  public var mac: String

  /// A manifest, unsigned (``mac`` empty); ``signed(with:)`` signs it.
  public init(
    campaign: CampaignID, channel: ChannelID, serials: ClosedRange<Int>, part: Int?, parts: Int?,
    layout: IssueLayout, file: String, bytes: Int, sha256: String, issued: String,
    keySlot: KeySlot
  ) {
    self.campaign = campaign
    self.channel = channel
    first = serials.lowerBound
    last = serials.upperBound
    count = serials.count
    self.part = part
    self.parts = parts
    format = layout.format
    columns = layout.columns
    url = layout.url?.description
    self.file = file
    self.bytes = bytes
    self.sha256 = sha256
    self.issued = issued
    self.keySlot = keySlot
    mac = ""
  }

  /// The serials in the file.
  public var serials: ClosedRange<Int> { first...last }

  /// The layout the file was written in.
  ///
  /// - Throws: ``URLTemplateError`` or ``IssueLayoutError`` when the manifest's fields do not
  ///   make a layout.
  public func layout() throws -> IssueLayout {
    try IssueLayout(
      format: format, columns: format == .text ? nil : columns, url: try url.map(URLTemplate.init))
  }

  /// The bytes the MAC covers: a title line, then each field but the MAC as
  /// `NAME LENGTH VALUE` on its own line, LENGTH the value's UTF-8 bytes (so that no value can
  /// pass for another, whatever it holds).
  public var signedText: [UInt8] {
    let fields: [(String, String)] = [
      ("manifest", String(manifest)), ("campaign", campaign.description),
      ("channel", channel.description), ("first", String(first)), ("last", String(last)),
      ("count", String(count)), ("part", part.map(String.init) ?? ""),
      ("parts", parts.map(String.init) ?? ""), ("format", format.rawValue),
      ("columns", columns.map(\.rawValue).joined(separator: ",")), ("url", url ?? ""),
      ("file", file), ("bytes", String(bytes)), ("sha256", sha256), ("issued", issued),
      ("keySlot", keySlot.description),
    ]
    var text = Array("voucher print-file manifest\n".utf8)
    for (name, value) in fields {
      text += Array("\(name) \(value.utf8.count) ".utf8) + Array(value.utf8) + [0x0A]
    }
    return text
  }

  /// This manifest with its MAC made under the ring's current signing key.
  ///
  /// - Throws: ``KeyRingError/noActiveKey`` when the ring has no active key.
  public func signed(with ring: KeyRing) throws(KeyRingError) -> IssueManifest {
    guard let slot = ring.signingKey?.slot, let key = ring.manifestKeys[Int(slot.rawValue)] else {
      throw .noActiveKey
    }
    var copy = self
    copy.keySlot = slot
    copy.mac = key.authenticate(copy.signedText).map { String($0, radix: 16).leftPadded(to: 2) }
      .joined()
    return copy
  }

  /// Whether the MAC is genuine under the ring.
  public func authenticity(in ring: KeyRing) -> Authenticity {
    guard let info = ring.info(for: keySlot), let key = ring.manifestKeys[Int(keySlot.rawValue)]
    else {
      return .unknownKey
    }
    guard let given = decodeHex(mac),
      OpenSSL.constantTimeEquals(key.authenticate(signedText), given)
    else {
      return .forged
    }
    return info.state == .revoked ? .revokedKey : .genuine
  }

  /// What a manifest's MAC says.
  public enum Authenticity: Sendable, Hashable {
    /// Made by the ring's key for the slot named.
    case genuine
    /// The MAC does not match: the manifest was changed or made without the key.
    case forged
    /// The ring has no key in the slot named.
    case unknownKey
    /// Genuine, but the key has been revoked since, so anyone holding it could have made it.
    case revokedKey
  }
}
