/// A text as one QR data segment: the densest of the three modes the text fits.
///
/// Numeric mode packs three digits in 10 bits, alphanumeric mode two characters of
/// `0-9 A-Z space $ % * + - . / :` in 11 bits, and byte mode one UTF-8 byte in 8 bits. Voucher
/// codes and uppercase URLs fit alphanumeric mode, which makes their symbols about a third smaller
/// than byte mode would.
struct QRSegment: Sendable, Hashable {
  /// The segment modes.
  enum Mode: Sendable, Hashable {
    case numeric, alphanumeric, byte

    /// The 4-bit mode indicator.
    var indicator: Int {
      switch self {
      case .numeric: return 0b0001
      case .alphanumeric: return 0b0010
      case .byte: return 0b0100
      }
    }

    /// Bits of the character count indicator in a version.
    func countBits(_ version: Int) -> Int {
      let group = version <= 9 ? 0 : version <= 26 ? 1 : 2
      switch self {
      case .numeric: return [10, 12, 14][group]
      case .alphanumeric: return [9, 11, 13][group]
      case .byte: return [8, 16, 16][group]
      }
    }
  }

  /// The characters of alphanumeric mode, in the order of their values.
  static let alphanumericCharacters = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:".utf8)

  /// Each byte's alphanumeric value, or -1.
  static let alphanumericValue: [Int] = {
    var table = [Int](repeating: -1, count: 256)
    for (value, byte) in alphanumericCharacters.enumerated() { table[Int(byte)] = value }
    return table
  }()

  let mode: Mode
  /// Characters (numeric, alphanumeric) or bytes (byte mode).
  let count: Int
  /// The data bits, without mode indicator and count.
  let data: QRBits

  /// The segment of a text, in the densest mode it fits.
  init(_ text: String) {
    let bytes = Array(text.utf8)
    var bits = QRBits()
    if !bytes.isEmpty && bytes.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
      mode = .numeric
      var index = 0
      while index < bytes.count {
        let group = bytes[index..<min(index + 3, bytes.count)]
        let value = group.reduce(0) { $0 * 10 + Int($1 - 0x30) }
        bits.append(value, count: group.count * 3 + 1)  // 3 digits: 10 bits, 2: 7, 1: 4
        index += 3
      }
    } else if !bytes.isEmpty && bytes.allSatisfy({ Self.alphanumericValue[Int($0)] >= 0 }) {
      mode = .alphanumeric
      var index = 0
      while index + 1 < bytes.count {
        let pair =
          Self.alphanumericValue[Int(bytes[index])] * 45
          + Self.alphanumericValue[Int(bytes[index + 1])]
        bits.append(pair, count: 11)
        index += 2
      }
      if index < bytes.count { bits.append(Self.alphanumericValue[Int(bytes[index])], count: 6) }
    } else {
      mode = .byte
      for byte in bytes { bits.append(Int(byte), count: 8) }
    }
    count = bytes.count
    data = bits
  }

  /// The bits the segment takes in a version (header included), or `nil` when its count does
  /// not fit the count indicator.
  func bitLength(_ version: Int) -> Int? {
    let countBits = mode.countBits(version)
    guard count < 1 << countBits else { return nil }
    return 4 + countBits + data.count
  }
}

/// A growing string of bits, most significant first.
struct QRBits: Sendable, Hashable {
  private(set) var bytes: [UInt8] = []
  private(set) var count = 0

  /// Appends the low `count` bits of `value`, highest first.
  mutating func append(_ value: Int, count bits: Int) {
    for shift in stride(from: bits - 1, through: 0, by: -1) {
      if count & 7 == 0 { bytes.append(0) }
      if (value >> shift) & 1 == 1 { bytes[count >> 3] |= 0x80 >> UInt8(count & 7) }
      count += 1
    }
  }

  /// Appends another bit string.
  mutating func append(_ other: QRBits) {
    for index in 0..<other.count {
      append(Int(other.bytes[index >> 3] >> UInt8(7 - index & 7)) & 1, count: 1)
    }
  }
}
