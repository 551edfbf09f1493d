import Foundation

/// Pearson's chi-square statistic of counts against equal expectations.
public func chiSquare(_ counts: [Int]) -> Double {
  let expected = Double(counts.reduce(0, +)) / Double(counts.count)
  return counts.reduce(0.0) { $0 + pow(Double($1) - expected, 2) / expected }
}

/// The 0.999 quantile of chi-square with 9 degrees of freedom (ten bins): a fair selection exceeds
/// it once in a thousand runs; tests fix their seeds, so a pass is not luck that changes from run
/// to run.
public let chiSquare9At999 = 27.877
