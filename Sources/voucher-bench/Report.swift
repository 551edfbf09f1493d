import Foundation

/// One row of the benchmark table.
struct Row: Encodable {
  let metric: String
  let ours: Double
  let oursUnit: String
  let baseline: Double
  let baselineName: String
  /// ours / baseline, oriented so that larger is better unless `lowerIsBetter`.
  let ratio: Double
  let target: String
  let met: Bool
}

/// Prints the table as aligned text.
func printTable(_ rows: [Row]) {
  func number(_ value: Double) -> String {
    if value >= 100 { return String(format: "%.0f", value) }
    if value >= 1 { return String(format: "%.2f", value) }
    return String(format: "%.4f", value)
  }
  var lines = [["metric", "ours", "baseline", "ratio", "target", "met"]]
  for row in rows {
    lines.append([
      row.metric, "\(number(row.ours)) \(row.oursUnit)",
      "\(number(row.baseline)) (\(row.baselineName))",
      String(format: "%.2f", row.ratio), row.target, row.met ? "yes" : "NO",
    ])
  }
  let widths = (0..<6).map { column in lines.map { $0[column].count }.max()! }
  for line in lines {
    print(
      line.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
        .joined(separator: " | "))
  }
}
