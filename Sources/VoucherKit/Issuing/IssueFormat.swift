/// The file formats `issue` writes.
public enum IssueFormat: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible
{
  /// One printed code per line.
  case text
  /// RFC 4180 CSV with a `serial,code` header, for print shops.
  case csv
  /// One JSON array of `{"code": ..., "serial": ...}` objects.
  case json

  public var description: String { rawValue }

  /// Bytes before the first code.
  var header: String {
    switch self {
    case .text: return ""
    case .csv: return "serial,code\r\n"
    case .json: return "[\n"
    }
  }

  /// Bytes after the last code.
  var footer: String { self == .json ? "\n]\n" : "" }

  /// The most bytes one code's record takes.
  func maximumRecordLength(printedCode: Int) -> Int { printedCode + 40 }
}
