/// Compact JSON, indented for people.
public enum JSONText {
  /// Compact JSON (no white space outside strings, as `JSONWriter` writes it) laid out as the
  /// CLI prints one document: two spaces per level, `"key" : value`, and an empty array or
  /// object opened and closed on lines of their own (Foundation's pretty printing, which the
  /// CLI's `--format json` has always had).
  ///
  /// - Parameter compact: One JSON value without white space between tokens.
  /// - Returns: The same value, indented, without a final line feed.
  public static func indented(_ compact: String) -> String {
    let bytes = Array(compact.utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count * 2)
    var depth = 0
    var inString = false
    var escaped = false
    func newline() {
      out.append(0x0A)
      out.append(contentsOf: repeatElement(0x20, count: depth * 2))
    }
    var i = 0
    while i < bytes.count {
      let byte = bytes[i]
      i += 1
      if inString {
        out.append(byte)
        if escaped {
          escaped = false
        } else if byte == UInt8(ascii: "\\") {
          escaped = true
        } else if byte == UInt8(ascii: "\"") {
          inString = false
        }
        continue
      }
      switch byte {
      case UInt8(ascii: "\""):
        inString = true
        out.append(byte)
      case UInt8(ascii: "{"), UInt8(ascii: "["):
        out.append(byte)
        if i < bytes.count, bytes[i] == byte + 2 {  // `}` and `]` follow `{` and `[` by two
          out.append(0x0A)
          newline()
          out.append(bytes[i])
          i += 1
        } else {
          depth += 1
          newline()
        }
      case UInt8(ascii: "}"), UInt8(ascii: "]"):
        depth -= 1
        newline()
        out.append(byte)
      case UInt8(ascii: ","):
        out.append(byte)
        newline()
      case UInt8(ascii: ":"):
        out.append(contentsOf: " : ".utf8)
      default:
        out.append(byte)
      }
    }
    return String(decoding: out, as: UTF8.self)
  }
}
