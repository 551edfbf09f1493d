import FoundationEssentials

/// A key file: a few `name: value` lines, the secret in hexadecimal.
///
/// ```
/// # voucher key file. Keep it secret: mode 0600, never in git.
/// slot: 1
/// state: active
/// created: 2026-11-22T21:30:00Z
/// secret: 6f1c…(64 hex digits)
/// ```
///
/// A published demonstration key adds `demo: true`.
struct KeyFile {
  var info: KeyInfo
  var secret: [UInt8]

  /// The file name of the key in `slot`.
  static func name(for slot: KeySlot) -> String {
    "slot-" + String(slot.rawValue).leftPadded(to: 2) + ".key"
  }

  /// The slot a key file's name claims, or `nil` for a name that is not a key file's.
  static func slot(fromName name: String) -> KeySlot? {
    guard name.hasPrefix("slot-"), name.hasSuffix(".key"), name.utf8.count == 11 else { return nil }
    let digits = name.dropFirst(5).prefix(2)
    // Two digits exactly: `Int` alone would also take a sign, as in `slot-+1.key`.
    guard digits.allSatisfy({ ("0"..."9").contains($0) }), let number = Int(digits) else {
      return nil
    }
    return KeySlot(number)
  }

  /// Parses a key file's text.
  static func parse(_ bytes: [UInt8], path: String) throws(KeyRingError) -> KeyFile {
    func bad(_ reason: String) -> KeyRingError { .malformedKeyFile(path: path, reason: reason) }
    guard let text = String(bytes: bytes, encoding: .utf8) else { throw bad("not UTF-8 text") }
    var fields: [String: String] = [:]
    for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
    {
      let trimmed = line.trimmingSpaces
      if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
      guard let colon = trimmed.firstIndex(of: ":") else {
        throw bad("line \(number + 1) is not 'name: value'")
      }
      let name = String(trimmed[..<colon]).trimmingSpaces
      let value = String(trimmed[trimmed.index(after: colon)...]).trimmingSpaces
      guard ["slot", "state", "created", "demo", "secret"].contains(name) else {
        throw bad("line \(number + 1) has unknown field '\(name.prefix(32))'")
      }
      guard fields[name] == nil else { throw bad("field '\(name)' appears twice") }
      fields[name] = value
    }
    guard let slotText = fields["slot"], let number = Int(slotText), let slot = KeySlot(number)
    else {
      throw bad("missing or invalid 'slot' (0 to \(KeySlot.maximum))")
    }
    guard let stateText = fields["state"], let state = KeyState(rawValue: stateText) else {
      throw bad("missing or invalid 'state' (active, retired or revoked)")
    }
    guard let hex = fields["secret"] else { throw bad("missing 'secret'") }
    guard let secret = decodeHex(hex) else {
      throw bad("'secret' is not an even number of hexadecimal digits")
    }
    let demo: Bool
    switch fields["demo"] {
    case nil, "false": demo = false
    case "true": demo = true
    default: throw bad("'demo' must be true or false")
    }
    let info = KeyInfo(
      slot: slot, state: state, created: fields["created"] ?? "", isDemo: demo,
      bits: secret.count * 8)
    return KeyFile(info: info, secret: secret)
  }

  /// The file's text.
  func render() -> [UInt8] {
    var lines = [
      info.isDemo
        ? "# voucher DEMO key file. Its secret is published: never issue real vouchers with it."
        : "# voucher key file. Keep it secret: mode 0600, never in git.",
      "slot: \(info.slot)",
      "state: \(info.state)",
      "created: \(info.created)",
    ]
    if info.isDemo { lines.append("demo: true") }
    lines.append("secret: " + secret.map { String($0, radix: 16).leftPadded(to: 2) }.joined())
    return Array((lines.joined(separator: "\n") + "\n").utf8)
  }
}

/// Bytes from hexadecimal text, or `nil` if it is not an even number of hex digits.
func decodeHex(_ text: String) -> [UInt8]? {
  let digits = Array(text.utf8)
  guard digits.count % 2 == 0 else { return nil }
  func value(_ digit: UInt8) -> UInt8? {
    switch digit {
    case 0x30...0x39: return digit - 0x30
    case 0x61...0x66: return digit - 0x61 + 10
    case 0x41...0x46: return digit - 0x41 + 10
    default: return nil
    }
  }
  var bytes: [UInt8] = []
  bytes.reserveCapacity(digits.count / 2)
  var index = 0
  while index < digits.count {
    guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
    bytes.append(high << 4 | low)
    index += 2
  }
  return bytes
}

extension StringProtocol {
  var trimmingSpaces: String {
    let scalars = unicodeScalars
    guard let first = scalars.firstIndex(where: { $0 != " " && $0 != "\t" && $0 != "\r" }) else {
      return ""
    }
    let last = scalars.lastIndex(where: { $0 != " " && $0 != "\t" && $0 != "\r" })!
    return String(String.UnicodeScalarView(scalars[first...last]))
  }
}
