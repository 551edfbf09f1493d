import FoundationEssentials

extension BlockInfo {
  /// One block or unblock of a range holding a code, as a store reads it.
  package struct RangeEvent: Sendable {
    /// Whether it blocked (or unblocked).
    package let blocked: Bool
    /// When.
    package let time: Date
    /// Why, if given.
    package let reason: String?

    package init(blocked: Bool, time: Date, reason: String?) {
      self.blocked = blocked
      self.time = time
      self.reason = reason
    }
  }

  /// The block in force over a code, from the blocks and unblocks of ranges holding it, oldest
  /// first: the rule every store answers by, so a second block never hides the first.
  ///
  /// The latest event decides whether the code is blocked. If it is, the blocks since the last
  /// unblock are all in force: the answer is blocked since the first of them, and its reason is
  /// every distinct reason given, oldest first, joined by `"; "` ("box 7 lost; stolen from the
  /// van"), or `nil` when none gave one.
  ///
  /// - Parameter events: The code's range events, oldest first.
  /// - Returns: The block in force, or `nil` when the code is not blocked.
  package static func inForce(_ events: [RangeEvent]) -> BlockInfo? {
    guard let latest = events.last, latest.blocked else { return nil }
    let spell = events.reversed().prefix { $0.blocked }.reversed()
    var reasons: [String] = []
    for reason in spell.compactMap(\.reason) where !reasons.contains(reason) {
      reasons.append(reason)
    }
    return BlockInfo(
      since: spell.first!.time, reason: reasons.isEmpty ? nil : reasons.joined(separator: "; "))
  }
}
