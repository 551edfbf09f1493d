extension QRMatrix {
  /// The penalty score of the standard's section 7.8.3 (lower is better):
  ///
  /// - N1: each run of 5 + i modules of one colour in a row or column scores 3 + i;
  /// - N2: each 2×2 block of one colour scores 3;
  /// - N3: each dark-light-dark-light-dark pattern of ratio 1:1:3:1:1 in a row or column with a
  ///   light area of 4 units before or after it (the quiet zone counts as light) scores 40;
  /// - N4: 10 for each whole 5 % that the share of dark modules lies away from 50 %.
  var penalty: Int {
    var score = 0
    var dark = 0
    var line = [Bool](repeating: false, count: size)
    for first in 0..<size {
      for horizontal in [true, false] {
        for index in 0..<size {
          line[index] = horizontal ? modules[first * size + index] : modules[index * size + first]
        }
        score += Self.runPenalty(line) + Self.finderLikePenalty(line)
      }
    }
    for y in 0..<size {
      for x in 0..<size {
        let module = modules[y * size + x]
        if module { dark += 1 }
        if x + 1 < size, y + 1 < size, module == modules[y * size + x + 1],
          module == modules[(y + 1) * size + x], module == modules[(y + 1) * size + x + 1]
        {
          score += 3
        }
      }
    }
    let total = size * size
    score += 10 * (abs(dark * 20 - total * 10) / total)
    return score
  }

  /// N1 of one line.
  static func runPenalty(_ line: [Bool]) -> Int {
    var score = 0
    var run = 0
    for index in line.indices {
      run = index > 0 && line[index] == line[index - 1] ? run + 1 : 1
      if run == 5 { score += 3 } else if run > 5 { score += 1 }
    }
    return score
  }

  /// N3 of one line, over its runs: a dark run of n, light n, dark 3n, light n, dark n (the
  /// standard's 1:1:3:1:1 ratio, for any module width n), with a light run of at least 4n before
  /// or after it; beyond the symbol lies the light quiet zone.
  static func finderLikePenalty(_ line: [Bool]) -> Int {
    // Alternating run lengths starting with a light one (empty when the line starts dark), with
    // the quiet zone added to the first and the last light runs.
    var runs: [Int] = [4]
    var colour = false
    for module in line {
      if module == colour {
        runs[runs.count - 1] += 1
      } else {
        runs.append(1)
        colour = module
      }
    }
    if colour { runs.append(0) }
    runs[runs.count - 1] += 4
    var score = 0
    // Dark runs sit at odd indices; the centre of a pattern is a dark run with two on each side.
    for centre in stride(from: 3, to: runs.count - 2, by: 2) where runs[centre] % 3 == 0 {
      let unit = runs[centre] / 3
      guard unit > 0, runs[centre - 2] == unit, runs[centre - 1] == unit,
        runs[centre + 1] == unit, runs[centre + 2] == unit
      else { continue }
      if runs[centre - 3] >= 4 * unit || (centre + 3 < runs.count && runs[centre + 3] >= 4 * unit) {
        score += 40
      }
    }
    return score
  }
}
