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
    if let first = text.utf8.first, [0x3D, 0x2B, 0x2D, 0x40, 0x09, 0x0D].contains(first) {
      text = "'" + text
    }
    if text.utf8.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) {
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
}
