import Foundation
import VoucherTestSupport

/// The fault of one round of the LazyFS test.
enum LazyFSFault: CustomStringConvertible {
  /// Every writer killed, then `lazyfs::clear-cache`: every write not fsynced is lost.
  case clearCache
  /// A command that makes LazyFS crash (and lose everything not fsynced) at a chosen call, or
  /// tear a write (persist only some of its parts, or some of a run of writes, then crash).
  case armed(kind: String, command: String)

  var kind: String {
    switch self {
    case .clearCache: "clear-cache"
    case .armed(let kind, _): kind
    }
  }

  var description: String {
    switch self {
    case .clearCache: "kill -9 of every writer, then lazyfs::clear-cache"
    case .armed(_, let command): command
    }
  }

  /// The fault of a round: the four kinds in turn, details drawn at random.
  static func of(
    round: Int, disk: LazyFSMount, campaign: String, using random: inout SeededGenerator
  ) -> LazyFSFault {
    func list(_ numbers: [Int]) -> String { numbers.map(String.init).joined(separator: ",") }
    let journal = disk.backingPath("Registry/journal")
    let state = disk.backingPath("Registry/state")
    let index = disk.backingPath(
      "Registry/index/\(Int.random(in: 0..<4, using: &random) == 0 ? "triple" : campaign).idx")
    switch round % 4 {
    case 0:
      return .clearCache
    case 1:
      // Around the journal's write and sync, the index and state pages written back (LazyFS
      // sees a mapped page when the kernel writes it back); less often (their calls come once
      // per 1 MiB of journal, or once a round) a checkpoint, the block list's replacement and
      // an erasure's intent log.
      let frequent = [
        ("before", "fsync", "journal"), ("after", "fsync", "journal"),
        ("before", "write", "journal"), ("after", "write", "journal"),
        ("before", "write", "idx"), ("after", "write", "idx"),
        ("before", "write", "Registry/state"), ("after", "write", "Registry/state"),
      ]
      let occasional = [
        ("before", "fsync", "idx"), ("before", "rename", "blocks.new"),
        ("after", "fsync", "blocks.new"), ("after", "write", "forget.pending"),
      ]
      let (timing, operation, path) =
        (Int.random(in: 0..<5, using: &random) == 0 ? occasional : frequent)
        .randomElement(using: &random)!
      return .armed(
        kind: "crash", command: "lazyfs::crash::timing=\(timing)::op=\(operation)::from_rgx=\(path)"
      )
    case 2:
      // The next write of the file, cut into parts, only some of them persisted, then a crash.
      // The journal is cut anywhere (its frames carry checksums); index pages at sector
      // boundaries (a 512-byte sector is written whole by the disks the registry trusts; the
      // written pages are whole 4 KiB pages); the 64-byte state is persisted whole, ahead of the
      // index pages that were written before it.
      switch Int.random(in: 0..<3, using: &random) {
      case 0:
        let parts = Int.random(in: 2...3, using: &random)
        let persist = (1...parts).filter { _ in Bool.random(using: &random) }
        let kept = persist.isEmpty ? [1] : persist
        return .armed(
          kind: "torn-op",
          command:
            "lazyfs::torn-op::file=\(journal)::parts=\(parts)::persist=\(list(kept))"
        )
      case 1:
        let parts = [2, 4, 8].randomElement(using: &random)!
        let persist = (1...parts).filter { _ in Bool.random(using: &random) }
        let kept = persist.isEmpty ? [parts] : persist
        return .armed(
          kind: "torn-op",
          command:
            "lazyfs::torn-op::file=\(index)::parts=\(parts)::persist=\(list(kept))"
        )
      default:
        return .armed(
          kind: "torn-op", command: "lazyfs::torn-op::file=\(state)::parts=1::persist=1")
      }
    default:
      // Of a run of writes to one file without an fsync between, only some persisted (a later
      // one without an earlier one), then a crash: index pages or state out of order.
      let file = Bool.random(using: &random) ? index : state
      let persist = [[2], [3], [1, 3], [2, 4], [4]].randomElement(using: &random)!
      return .armed(
        kind: "torn-seq",
        command:
          "lazyfs::torn-seq::op=write::file=\(file)::persist=\(list(persist))"
      )
    }
  }
}
