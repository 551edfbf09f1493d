/// Where a print file first differs from the file as issued.
public struct FileDifference: Sendable, Hashable, CustomStringConvertible {
  /// What differs.
  public enum Kind: Sendable, Hashable {
    /// The line holds other bytes.
    case changed
    /// The file ends before this line.
    case missing
    /// The file goes on past its last line.
    case extra
  }

  /// What differs.
  public let kind: Kind
  /// The line, from 1.
  public let line: Int
  /// The serial of the row on that line, when the line is a row.
  public let serial: Int?
  /// The row's number in the file, from 1, when the line is a row.
  public let row: Int?

  /// The first line where `actual` differs from `expected`, or `nil` when they are equal.
  ///
  /// - Parameters:
  ///   - actual: The file's bytes.
  ///   - expected: The bytes as issued (regenerated).
  ///   - format: The file's format: CSV and JSON have one line before the rows.
  ///   - serials: The serials of the rows, in order.
  public static func first(
    actual: [UInt8], expected: [UInt8], format: IssueFormat, serials: ClosedRange<Int>
  ) -> FileDifference? {
    guard actual != expected else { return nil }
    let headerLines = format == .text ? 0 : 1
    func at(_ index: Int, _ kind: Kind) -> FileDifference {
      let row = index - headerLines + 1
      let isRow = row >= 1 && row <= serials.count
      return FileDifference(
        kind: kind, line: index + 1, serial: isRow ? serials.lowerBound + row - 1 : nil,
        row: isRow ? row : nil)
    }
    // Both files line by line, each line with its newline (a last line cut before its newline
    // differs from the whole one), without splitting either into an array of lines.
    func lineEnd(_ bytes: [UInt8], from start: Int) -> Int {
      bytes[start...].firstIndex(of: 0x0A).map { $0 + 1 } ?? bytes.count
    }
    var have = 0
    var want = 0
    var line = 0
    while have < actual.count && want < expected.count {
      let haveEnd = lineEnd(actual, from: have)
      let wantEnd = lineEnd(expected, from: want)
      if actual[have..<haveEnd] != expected[want..<wantEnd] { return at(line, .changed) }
      have = haveEnd
      want = wantEnd
      line += 1
    }
    return have < actual.count ? at(line, .extra) : at(line, .missing)
  }

  public var description: String {
    let what = row.map { "row \($0) (serial \(serial!), line \(line))" } ?? "line \(line)"
    switch kind {
    case .changed: return "\(what) differs from the file as issued"
    case .missing: return "the file ends before \(what)"
    case .extra: return "the file goes on past its end, at line \(line)"
    }
  }
}
