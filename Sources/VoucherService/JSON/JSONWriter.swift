/// Writes one JSON object per line. Keys are written in the order added, which callers keep
/// sorted, as the CLI's `--format json` is.
package struct JSONWriter {
  private var text = "{"

  package init() {
    text.reserveCapacity(512)
  }

  private mutating func key(_ key: StaticString) {
    if text.utf8.count > 1 { text += "," }
    text += "\""
    text += key.description
    text += "\":"
  }

  package mutating func add(_ name: StaticString, _ value: String?) {
    guard let value else { return }
    key(name)
    Self.appendQuoted(value, to: &text)
  }

  package mutating func add(_ name: StaticString, _ value: Int?) {
    guard let value else { return }
    key(name)
    text += String(value)
  }

  package mutating func add(_ name: StaticString, _ value: Bool?) {
    guard let value else { return }
    key(name)
    text += value ? "true" : "false"
  }

  package mutating func add(raw name: StaticString, _ json: String) {
    key(name)
    text += json
  }

  /// The object as one line of JSON.
  package var line: String { text + "}" }

  /// Whether a string holding this byte must be escaped scalar by scalar: a control character,
  /// a quote or backslash, or the first byte of U+2028, U+2029 and U+FEFF (and of some other
  /// characters, which then go out unchanged).
  package static func needsEscape(_ byte: UInt8) -> Bool {
    byte < 0x20 || byte == 0x22 || byte == 0x5C || byte == 0x7F || byte == 0xE2 || byte == 0xEF
  }

  /// A JSON string literal.
  package static func quoted(_ text: String) -> String {
    var out = ""
    appendQuoted(text, to: &out)
    return out
  }

  /// Appends a JSON string literal: the text as it is when nothing in it needs escaping (the
  /// common case), else escaped scalar by scalar.
  package static func appendQuoted(_ value: String, to out: inout String) {
    out += "\""
    if !value.utf8.contains(where: needsEscape) {
      out += value
    } else {
      for scalar in value.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
          // Line separators break JavaScript readers; a byte order mark inside a string is
          // dropped by some readers (Foundation's among them).
          if scalar.value < 0x20 || scalar.value == 0x7F || (0x2028...0x2029).contains(scalar.value)
            || scalar.value == 0xFEFF
          {
            let hex = String(scalar.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
          } else {
            out.unicodeScalars.append(scalar)
          }
        }
      }
    }
    out += "\""
  }
}
