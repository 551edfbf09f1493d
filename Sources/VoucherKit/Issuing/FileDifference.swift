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
    // Lines with their newline: a last line cut before its newline differs from the whole one.
    func lines(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
      var result: [ArraySlice<UInt8>] = []
      var start = 0
      for index in bytes.indices where bytes[index] == 0x0A {
        result.append(bytes[start...index])
        start = index + 1
      }
      if start < bytes.count { result.append(bytes[start...]) }
      return result
    }
    let have = lines(actual)
    let want = lines(expected)
    let headerLines = format == .text ? 0 : 1
    func at(_ index: Int, _ kind: Kind) -> FileDifference {
      let row = index - headerLines + 1
      let isRow = row >= 1 && row <= serials.count
      return FileDifference(
        kind: kind, line: index + 1, serial: isRow ? serials.lowerBound + row - 1 : nil,
        row: isRow ? row : nil)
    }
    for index in 0..<min(have.count, want.count) where have[index] != want[index] {
      return at(index, .changed)
    }
    return have.count < want.count ? at(have.count, .missing) : at(want.count, .extra)
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
