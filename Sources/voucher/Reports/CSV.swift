/// CSV as RFC 4180 has it (CRLF line ends, a quote inside a field doubled), with every text field
/// quoted and numbers and booleans bare, so that a reader that guesses the dialect from the first
/// rows (DuckDB's `read_csv_auto`, Python's `csv.Sniffer`) sees quoting from the first row on and
/// types each column. Made safe for spreadsheets: a text field that starts with `=`, `+`, `-`,
/// `@`, a tab or a carriage return is prefixed with `'`, so that no cell becomes a formula
/// (OWASP's advice).
enum CSV {
  /// One record, with its line end: text fields quoted, then numbers as they are.
  static func line(_ texts: [String], numbers: [String] = []) -> String {
    var out = ""
    for (index, field) in texts.enumerated() {
      if index > 0 { out += "," }
      append(field, to: &out)
    }
    for (index, number) in numbers.enumerated() {
      if index > 0 || !texts.isEmpty { out += "," }
      out += number
    }
    out += "\r\n"
    return out
  }

  /// Appends one text field, neutralised and quoted.
  static func append(_ field: String, to out: inout String) {
    var text = field
    if let first = text.utf8.first, startsFormula(first) { text = "'" + text }
    out += "\""
    out += text.utf8.contains(0x22) ? text.replacing("\"", with: "\"\"") : text
    out += "\""
  }

  /// Whether a field starting with this byte could become a spreadsheet formula.
  static func startsFormula(_ byte: UInt8) -> Bool {
    byte == 0x3D || byte == 0x2B || byte == 0x2D || byte == 0x40 || byte == 0x09 || byte == 0x0D
  }

  /// Whether a field goes between its quotes as it is: no formula start, no quote to double.
  static func isPlain(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    if let first = bytes.first, startsFormula(first) { return false }
    return !bytes.contains(0x22)
  }
}
