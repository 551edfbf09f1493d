/// The module grid of a QR code under construction: which modules belong to function patterns,
/// and the data placed in the others.
struct QRMatrix: Sendable {
  let version: Int
  let size: Int
  /// Row-major modules, `true` for dark.
  var modules: [Bool]
  /// Row-major: whether a module is part of a function pattern (never masked, never data).
  var isFunction: [Bool]

  init(version: Int) {
    self.version = version
    size = QRTables.size(version)
    modules = [Bool](repeating: false, count: size * size)
    isFunction = [Bool](repeating: false, count: size * size)
  }

  /// Sets a function module.
  mutating func setFunction(_ x: Int, _ y: Int, _ dark: Bool) {
    modules[y * size + x] = dark
    isFunction[y * size + x] = true
  }

  /// Draws the finder patterns with their separators, the timing patterns, the alignment
  /// patterns and the dark module, and reserves the format and version areas.
  mutating func drawFunctionPatterns() {
    for index in 0..<size {
      setFunction(6, index, index % 2 == 0)
      setFunction(index, 6, index % 2 == 0)
    }
    for (cx, cy) in [(3, 3), (size - 4, 3), (3, size - 4)] {
      for dy in -4...4 {
        for dx in -4...4 {
          let x = cx + dx
          let y = cy + dy
          guard (0..<size).contains(x), (0..<size).contains(y) else { continue }
          let ring = max(abs(dx), abs(dy))
          setFunction(x, y, ring != 2 && ring != 4)  // 3×3 core, dark ring, light separator
        }
      }
    }
    let centres = QRTables.alignmentCentres[version]
    for (i, cy) in centres.enumerated() {
      for (j, cx) in centres.enumerated() {
        let last = centres.count - 1
        if (i == 0 && j == 0) || (i == 0 && j == last) || (i == last && j == 0) { continue }
        for dy in -2...2 {
          for dx in -2...2 { setFunction(cx + dx, cy + dy, max(abs(dx), abs(dy)) != 1) }
        }
      }
    }
    // Reserve the format areas (drawn per mask) and the dark module.
    drawFormat(0)
    setFunction(8, size - 8, true)
    if version >= 7 {
      let bits = Self.versionBits(version)
      for index in 0..<18 {
        let dark = (bits >> index) & 1 == 1
        let a = size - 11 + index % 3
        let b = index / 3
        setFunction(a, b, dark)  // top right, 6 rows of 3
        setFunction(b, a, dark)  // bottom left, 6 columns of 3
      }
    }
  }

  /// The 15 format bits of a level and mask: 5 data bits, a BCH(15,5) remainder, XOR 0x5412.
  static func formatBits(level: QRErrorCorrection, mask: Int) -> Int {
    let data = level.formatBits << 3 | mask
    var remainder = data << 10
    for bit in stride(from: 14, through: 10, by: -1) where (remainder >> bit) & 1 == 1 {
      remainder ^= 0x537 << (bit - 10)
    }
    return (data << 10 | remainder) ^ 0x5412
  }

  /// The 18 version bits (versions 7 and up): 6 data bits and a BCH(18,6) remainder.
  static func versionBits(_ version: Int) -> Int {
    var remainder = version << 12
    for bit in stride(from: 17, through: 12, by: -1) where (remainder >> bit) & 1 == 1 {
      remainder ^= 0x1F25 << (bit - 12)
    }
    return version << 12 | remainder
  }

  /// Draws both copies of the format information, bit 0 the least significant.
  mutating func drawFormat(_ bits: Int) {
    func bit(_ index: Int) -> Bool { (bits >> index) & 1 == 1 }
    // Around the top-left finder: up column 8, then left along row 8, skipping the timing lines.
    for index in 0...5 { setFunction(8, index, bit(index)) }
    setFunction(8, 7, bit(6))
    setFunction(8, 8, bit(7))
    setFunction(7, 8, bit(8))
    for index in 9...14 { setFunction(14 - index, 8, bit(index)) }
    // The second copy: along row 8 under the top-right finder, then down column 8 beside the
    // bottom-left one.
    for index in 0...7 { setFunction(size - 1 - index, 8, bit(index)) }
    for index in 8...14 { setFunction(8, size - 15 + index, bit(index)) }
  }

  /// Places the codewords in the zigzag: two columns at a time from the right, up then down,
  /// skipping the vertical timing column and every function module. Remainder bits stay light.
  mutating func place(_ codewords: [UInt8]) {
    var bit = 0
    let total = codewords.count * 8
    var right = size - 1
    var upward = true
    while right >= 1 {
      if right == 6 { right = 5 }
      for step in 0..<size {
        let y = upward ? size - 1 - step : step
        for x in [right, right - 1] where !isFunction[y * size + x] {
          if bit < total {
            modules[y * size + x] = (codewords[bit >> 3] >> UInt8(7 - bit & 7)) & 1 == 1
          }
          bit += 1
        }
      }
      upward.toggle()
      right -= 2
    }
  }

  /// Whether a mask inverts the module at column `x`, row `y` (the standard's Table 10, with i
  /// the row and j the column).
  static func inverts(_ mask: Int, x j: Int, y i: Int) -> Bool {
    switch mask {
    case 0: return (i + j) % 2 == 0
    case 1: return i % 2 == 0
    case 2: return j % 3 == 0
    case 3: return (i + j) % 3 == 0
    case 4: return (i / 2 + j / 3) % 2 == 0
    case 5: return (i * j) % 2 + (i * j) % 3 == 0
    case 6: return ((i * j) % 2 + (i * j) % 3) % 2 == 0
    default: return ((i + j) % 2 + (i * j) % 3) % 2 == 0
    }
  }

  /// This matrix with a mask applied to the data modules and its format information drawn.
  func masked(_ mask: Int, level: QRErrorCorrection) -> QRMatrix {
    var copy = self
    for y in 0..<size {
      for x in 0..<size where !isFunction[y * size + x] && Self.inverts(mask, x: x, y: y) {
        copy.modules[y * size + x].toggle()
      }
    }
    copy.drawFormat(Self.formatBits(level: level, mask: mask))
    return copy
  }
}
