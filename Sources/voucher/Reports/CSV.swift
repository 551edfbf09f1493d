/// CSV as RFC 4180 has it (CRLF line ends, fields quoted when they hold a comma, quote or line
/// break), made safe for spreadsheets: a field that starts with `=`, `+`, `-`, `@`, a tab or a
/// carriage return is prefixed with `'`, so that no cell becomes a formula (OWASP's advice).
enum CSV {
  /// One record, with its line end.
  static func line(_ fields: [String]) -> String {
    var out = ""
    for (index, field) in fields.enumerated() {
      if index > 0 { out += "," }
      append(field, to: &out)
    }
    out += "\r\n"
    return out
  }

  /// Appends one field, neutralised and quoted as needed.
  static func append(_ field: String, to out: inout String) {
    var text = field
    if let first = text.utf8.first, startsFormula(first) { text = "'" + text }
    if text.utf8.contains(where: needsQuotes) {
      out += "\""
      for character in text {
        out.append(character)
        if character == "\"" { out += "\"" }
      }
      out += "\""
    } else {
      out += text
    }
  }

  /// Whether a field starting with this byte could become a spreadsheet formula.
  static func startsFormula(_ byte: UInt8) -> Bool {
    byte == 0x3D || byte == 0x2B || byte == 0x2D || byte == 0x40 || byte == 0x09 || byte == 0x0D
  }

  /// Whether a field holding this byte must be quoted.
  static func needsQuotes(_ byte: UInt8) -> Bool {
    byte == 0x2C || byte == 0x22 || byte == 0x0A || byte == 0x0D
  }

  /// Whether a field goes out as it is: not empty, no formula start, nothing to quote.
  static func isPlain(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    guard let first = bytes.first, !startsFormula(first) else { return false }
    return !bytes.contains(where: needsQuotes)
  }
}
