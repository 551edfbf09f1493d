import Foundation
import VoucherTestSupport

@testable import VoucherKit
@testable import VoucherRegistry

#if canImport(Glibc)
  import Glibc
#endif

/// The things a power loss at one moment may or may not have kept, and the files it leaves.
struct CrashPoint {
  /// One thing not yet durable.
  enum Unit {
    /// A pending write of a file: kept, dropped, torn (a random subset of its sectors), or
    /// garbled (some of its sectors random bytes).
    case write(RecordingFiles.Node, index: Int)
    /// A pending length change: kept or dropped.
    case resize(RecordingFiles.Node, index: Int)
    /// A dirty page of a mapped file: the old page, any version seen, or a mix by sector.
    case page(RecordingFiles.Node, page: Int64)
    /// A folder's pending entries: a prefix is kept.
    case folder(String, count: Int)

    var choices: Int {
      switch self {
      case .write: return 4
      case .resize: return 2
      case .page(let node, let page): return (node.versions[page]?.count ?? 0) + 2
      case .folder(_, let count): return count + 1
      }
    }
  }

  /// How a power loss treated the pending changes, for the figures.
  enum Outcome: String, CaseIterable {
    case kept, dropped, torn, garbled
    case oldPage = "old page"
    case newerPage = "a later page"
    case
      mixedPage = "page mixed by sector"
    case entriesKept = "folder entries kept"
    case
      entriesDropped = "folder entries dropped"
  }

  let units: [Unit]
  private let files: RecordingFiles

  init(_ files: RecordingFiles) {
    self.files = files
    var units: [Unit] = []
    for node in files.nodes {
      if node.mapped {
        for page in node.versions.keys.sorted() { units.append(.page(node, page: page)) }
      } else {
        for (index, change) in node.pending.enumerated() {
          switch change {
          case .write: units.append(.write(node, index: index))
          case .resize: units.append(.resize(node, index: index))
          }
        }
      }
    }
    var folders: [String: Int] = [:]
    for entry in files.pendingEntries { folders[entry.folder, default: 0] += 1 }
    for (folder, count) in folders.sorted(by: { $0.key < $1.key }) {
      units.append(.folder(folder, count: count))
    }
    self.units = units
  }

  /// Every combination of choices, when there are at most `limit`; otherwise `limit` of them
  /// drawn at random (always with "everything kept" and "everything dropped").
  func plans(limit: Int, random: inout SeededGenerator) -> [[Int]] {
    var total = 1
    for unit in units {
      total *= unit.choices
      if total > limit { break }
    }
    if total <= limit {
      var plans: [[Int]] = []
      var plan = [Int](repeating: 0, count: units.count)
      for _ in 0..<total {
        plans.append(plan)
        for position in plan.indices {
          plan[position] += 1
          if plan[position] < units[position].choices { break }
          plan[position] = 0
        }
      }
      return plans
    }
    // 0 keeps a write and drops a page version; "all kept" is the latest page and every entry.
    var plans: [[Int]] = [
      units.map { unit in
        switch unit {
        case .page: return unit.choices - 2
        case .folder: return unit.choices - 1
        default: return 0
        }
      },
      units.map { unit in
        switch unit {
        case .write, .resize: return 1
        default: return 0
        }
      },
    ]
    while plans.count < limit {
      plans.append(units.map { Int.random(in: 0..<$0.choices, using: &random) })
    }
    return plans
  }

  /// Writes the files a power loss following `plan` leaves, `root` (the live registry folder)
  /// mapped to `folder`; counts the outcomes.
  func materialize(
    _ plan: [Int], root: String, into folder: String, random: inout SeededGenerator,
    outcomes: inout [Outcome: Int]
  ) throws {
    var writeChoice: [Int: [Int: Int]] = [:]  // node id -> change index -> choice
    var pageChoice: [Int: [Int64: Int]] = [:]
    var keptEntries: [String: Int] = [:]
    for (unit, choice) in zip(units, plan) {
      switch unit {
      case .write(let node, let index), .resize(let node, let index):
        writeChoice[node.id, default: [:]][index] = choice
        outcomes[[.kept, .dropped, .torn, .garbled][choice], default: 0] += 1
      case .page(let node, let page):
        pageChoice[node.id, default: [:]][page] = choice
        let outcome: Outcome =
          choice == 0 ? .oldPage : choice == unit.choices - 1 ? .mixedPage : .newerPage
        outcomes[outcome, default: 0] += 1
      case .folder(let name, let count):
        keptEntries[name] = choice
        outcomes[.entriesKept, default: 0] += choice
        outcomes[.entriesDropped, default: 0] += count - choice
      }
    }
    var names = files.durableNames
    var seen: [String: Int] = [:]
    for entry in files.pendingEntries {
      seen[entry.folder, default: 0] += 1
      if seen[entry.folder]! <= keptEntries[entry.folder, default: 0] {
        RecordingFiles.apply(entry, to: &names)
      }
    }
    try? FileManager.default.removeItem(atPath: folder)
    try FileManager.default.createDirectory(
      atPath: folder + "/index", withIntermediateDirectories: true)
    for (path, node) in names.sorted(by: { $0.key < $1.key }) {
      guard path.hasPrefix(root + "/") else { continue }
      var image = node.durable
      if node.mapped {
        for (page, choice) in (pageChoice[node.id] ?? [:]).sorted(by: { $0.key < $1.key })
        where choice > 0 {
          let versions = node.versions[page] ?? []
          if choice <= versions.count {
            image.pages[page] = versions[choice - 1]
          } else {
            let candidates = [image.page(page)] + versions
            var mixed = image.page(page)
            for sector in stride(
              from: 0, to: RecordingFiles.pageSize, by: RecordingFiles.sectorSize)
            {
              let source = candidates.randomElement(using: &random)!
              mixed.replaceSubrange(
                sector..<(sector + RecordingFiles.sectorSize),
                with: source[sector..<(sector + RecordingFiles.sectorSize)])
            }
            image.pages[page] = mixed
          }
        }
      } else {
        for (index, change) in node.pending.enumerated() {
          let choice = writeChoice[node.id]?[index] ?? 1
          switch change {
          case .resize(let length): if choice == 0 { image.resize(to: length) }
          case .write(let offset, let bytes):
            switch choice {
            case 0: image.write(bytes, at: offset)
            case 1: break
            default:
              for (start, end) in Self.sectors(offset: offset, count: bytes.count) {
                let part = Array(bytes[Int(start - offset)..<Int(end - offset)])
                let roll = Int.random(in: 0..<3, using: &random)
                if choice == 2 {
                  if roll > 0 { image.write(part, at: start) }  // torn: this sector landed or not
                } else if roll == 0 {
                  image.write(
                    part.map { _ in UInt8.random(in: 0...255, using: &random) }, at: start)
                } else if roll == 1 {
                  image.write(part, at: start)
                }
              }
            }
          }
        }
      }
      let target = folder + path.dropFirst(root.count)
      try FileManager.default.createDirectory(
        atPath: FileSystem.parentDirectory(of: target), withIntermediateDirectories: true)
      try image.materialize(at: target)
    }
  }

  /// The parts of a write that fall in each sector: (start, end) offsets.
  static func sectors(offset: Int64, count: Int) -> [(Int64, Int64)] {
    var out: [(Int64, Int64)] = []
    var start = offset
    let end = offset + Int64(count)
    while start < end {
      let sectorEnd =
        (start / Int64(RecordingFiles.sectorSize) + 1) * Int64(RecordingFiles.sectorSize)
      out.append((start, min(end, sectorEnd)))
      start = min(end, sectorEnd)
    }
    return out
  }
}
