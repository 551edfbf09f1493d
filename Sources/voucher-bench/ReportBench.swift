import Foundation
import VoucherKit

/// Reports and exports over the large registry, against reading its journal once with `cat`,
/// and their peak memory against the small registry's.
struct ReportBench {
  let quick: Bool
  let scratch: String
  let log: (String) -> Void

  func rows(voucher: String, big: VoucherHome, small: VoucherHome, largeName: String) -> [Row] {
    let runs = quick ? 1 : 3
    let journal = big.registry + "/journal"
    log("timing report and export over \(largeName) events beside cat of the journal")
    // Warm the page cache first: every command then reads from memory, as cat does.
    _ = runProcess("/bin/cat", [journal])
    var rows: [Row] = []
    let commands: [(String, [String])] = [
      ("report (json, by channel)", ["report", "--format", "json"]),
      ("report (json, by store)", ["report", "--format", "json", "--by", "store"]),
      ("export (csv)", ["export", "--format", "csv"]),
      ("export (jsonl)", ["export", "--format", "jsonl"]),
    ]
    for (name, arguments) in commands {
      var ratios: [Double] = []
      var ours: [Double] = []
      var cats: [Double] = []
      for _ in 0..<runs {
        let cat = runProcess("/bin/cat", [journal]).seconds
        let run = runProcess(voucher, ["--home", big.path] + arguments)
        precondition(run.status == 0, "\(name) failed")
        ours.append(run.seconds)
        cats.append(cat)
        ratios.append(run.seconds / cat)
      }
      let ratio = median(ratios)
      rows.append(
        Row(
          metric: "\(name), \(largeName) events", ours: median(ours), oursUnit: "s",
          baseline: median(cats), baselineName: "cat journal > /dev/null, s", ratio: ratio,
          target: "<= 3", met: ratio <= 3))
      if let bigPeak = peakMemory(voucher, ["--home", big.path] + arguments, scratch: scratch),
        let smallPeak = peakMemory(voucher, ["--home", small.path] + arguments, scratch: scratch)
      {
        let growth = Double(bigPeak - smallPeak) / 1_048_576
        rows.append(
          Row(
            metric: "peak memory of \(name), \(largeName) events",
            ours: Double(bigPeak) / 1_048_576, oursUnit: "MiB",
            baseline: Double(smallPeak) / 1_048_576, baselineName: "with 1,000, MiB",
            ratio: Double(bigPeak) / Double(smallPeak), target: "<= +5 MiB", met: growth <= 5))
      }
    }
    return rows
  }
}
