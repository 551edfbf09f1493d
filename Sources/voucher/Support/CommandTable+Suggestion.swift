extension CommandTable {
  /// The subcommand a mistyped word most likely meant: the nearest name by edit distance
  /// (insertions, deletions, substitutions and swaps of neighbours each count one), when it is
  /// near enough to be a typo: one edit for names of up to five letters, two for longer ones.
  /// Ties go to the one listed first.
  ///
  /// - Parameter word: The word given.
  /// - Returns: The name to suggest, or `nil` when nothing is close.
  func suggestion(for word: String) -> String? {
    var best: (name: String, distance: Int)?
    for command in commands {
      let distance = Self.editDistance(
        Array(word.unicodeScalars), Array(command.name.unicodeScalars))
      let allowed = command.name.count > 5 ? 2 : 1
      guard distance <= allowed, distance < (best?.distance ?? .max) else { continue }
      best = (command.name, distance)
    }
    return best?.name
  }

  /// The optimal string alignment distance between two sequences: the fewest insertions,
  /// deletions, substitutions and transpositions of adjacent elements that turn one into the
  /// other (no element edited twice).
  static func editDistance<T: Equatable>(_ a: [T], _ b: [T]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    // Three rows of the dynamic programme: two back, one back, and this one.
    var older = [Int](repeating: 0, count: b.count + 1)
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
      current[0] = i
      for j in 1...b.count {
        let cost = a[i - 1] == b[j - 1] ? 0 : 1
        current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
        if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
          current[j] = min(current[j], older[j - 2] + 1)
        }
      }
      (older, previous, current) = (previous, current, older)
    }
    return previous[b.count]
  }
}
