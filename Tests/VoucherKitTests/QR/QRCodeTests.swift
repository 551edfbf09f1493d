import Foundation
import Testing

@testable import VoucherKit

@Suite("QR codes")
struct QRCodeTests {
  @Test("the standard's example: \"01234567\" at 1-M, its data and error correction codewords")
  func standardExample() throws {
    let segment = QRSegment("01234567")
    #expect(segment.mode == .numeric)
    let data = QRCode.dataCodewords(segment, version: 1, level: .medium)
    #expect(
      data == [
        0x10, 0x20, 0x0C, 0x56, 0x61, 0x80, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11, 0xEC,
        0x11,
      ])
    let ecc = ReedSolomon.remainder(data[...], generator: ReedSolomon.generator(degree: 10))
    #expect(ecc == [0xA5, 0x24, 0xD4, 0xC1, 0xED, 0x36, 0xC7, 0x87, 0x2C, 0x55])
    let qr = try QRCode("01234567")
    #expect(qr.version == 1 && qr.level == .medium && qr.size == 21)
  }

  @Test("the standard's generator polynomial of degree 7 (Annex A), as exponents of α")
  func generatorPolynomial() {
    let generator = ReedSolomon.generator(degree: 7)
    #expect(generator.map { ReedSolomon.log[Int($0)] } == [87, 229, 146, 149, 238, 102, 21])
  }

  @Test("format and version information: the standard's worked values")
  func formatAndVersion() {
    // Level M, mask 5 (Annex C): data 00101, BCH 0011011100, masked 100000011001110.
    #expect(QRMatrix.formatBits(level: .medium, mask: 5) == 0b100_0000_1100_1110)
    #expect(QRMatrix.formatBits(level: .medium, mask: 0) == 0x5412)
    // Version 7 (Annex D): 000111 110010010100.
    #expect(QRMatrix.versionBits(7) == 0b000111_110010010100)
  }

  @Test("the capacity tables: known totals, data codewords and alignment patterns")
  func tables() {
    #expect((1...40).map(QRTables.codewords).prefix(7) == [26, 44, 70, 100, 134, 172, 196])
    #expect(QRTables.codewords(40) == 3706)
    #expect(
      QRErrorCorrection.allCases.map { QRTables.dataCodewords(1, $0) } == [19, 16, 13, 9])
    #expect(
      QRErrorCorrection.allCases.map { QRTables.dataCodewords(40, $0) } == [2956, 2334, 1666, 1276])
    for version in 2...40 {
      let centres = QRTables.alignmentCentres[version]
      #expect(centres.first == 6 && centres.last == QRTables.size(version) - 7)
      #expect(centres.count == version / 7 + 2)
    }
  }

  @Test("modes: codes and uppercase URLs are alphanumeric, digits numeric, the rest bytes")
  func modes() {
    #expect(QRSegment("0K7M-Q8PD-2XWA-9HTE").mode == .alphanumeric)
    #expect(QRSegment("HTTPS://SHOP.EXAMPLE/R/0K7M-Q8PD-2XWA-9HTE").mode == .alphanumeric)
    #expect(QRSegment("https://shop.example/r/x").mode == .byte)
    #expect(QRSegment("123").mode == .numeric)
    #expect(QRSegment("").mode == .byte)
    #expect(QRSegment("0k7m").mode == .byte)
  }

  @Test("the smallest version is chosen; text past version 40 is refused")
  func versions() throws {
    // 19 alphanumeric characters: 4 + 9 + 9 × 11 + 6 = 118 bits of the 128 of version 1-M.
    #expect(try QRCode("0K7M-Q8PD-2XWA-9HTE").version == 1)
    #expect(try QRCode("0K7M-Q8PD-2XWA-9HTE", level: .quartile).version == 2)
    #expect(try QRCode("0k7m-q8pd-2xwa-9hte").version == 2)
    #expect(try QRCode(String(repeating: "A", count: 4296), level: .low).version == 40)
    #expect(throws: QRCodeError.tooLong(bytes: 4297, level: .low)) {
      try QRCode(String(repeating: "A", count: 4297), level: .low)
    }
    #expect(throws: QRCodeError.invalidMask(8)) { try QRCode("A", mask: 8) }
  }

  @Test("the SVG: one path, a white background, a quiet zone of 4 modules")
  func svg() throws {
    let qr = try QRCode("0K7M-Q8PD-2XWA-9HTE")
    let svg = qr.svg()
    #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 29 29\""))
    #expect(svg.contains("shape-rendering=\"crispEdges\""))
    #expect(svg.contains("<rect width=\"29\" height=\"29\" fill=\"#fff\"/>"))
    #expect(svg.components(separatedBy: "<path").count == 2)
    // The top-left finder's first row starts after the quiet zone: 7 dark modules at (4, 4).
    #expect(svg.contains("d=\"M4 4h7v1h-7z"))
  }

  /// Texts compared with the reference encoder: codes, URLs, digits, bytes, lengths across
  /// versions and the three count-indicator widths.
  static let referenceTexts: [String] = [
    "01234567", "0K7M-Q8PD-2XWA-9HTE", "HTTPS://SHOP.EXAMPLE/R/0K7M-Q8PD-2XWA-9HTE",
    "https://shop.example/r?code=0K7M", "Ünïcödé ✓ 券", "A", "12345678901234567890",
    String(repeating: "VOUCHER-", count: 40), String(repeating: "x", count: 700),
    String(repeating: "7", count: 1500),
  ]

  @Test(
    "with each of the 8 masks forced, every symbol matches Python's segno, module for module",
    .enabled(
      if: Segno.available, "Python's segno is missing (Debian: apt-get install python3-segno)"))
  func matchesSegno() throws {
    var cases: [(text: String, level: QRErrorCorrection, mask: Int)] = []
    for (index, text) in Self.referenceTexts.enumerated() {
      for level in QRErrorCorrection.allCases {
        cases.append((text, level, (index + level.index) % 8))
      }
    }
    for mask in 0...7 { cases.append(("0K7M-Q8PD-2XWA-9HTE", .quartile, mask)) }
    // Debian's segno 1.4.1 adds a whole zero codeword when data and terminator already end on a
    // codeword boundary (its write_padding_bits pads 8 − 0 bits), where the standard adds none
    // and pad codewords follow; such symbols still read, but differ. qrencode covers them.
    cases.removeAll { item in
      let qr = try! QRCode(item.text, level: item.level, mask: item.mask)
      let used = QRSegment(item.text).bitLength(qr.version)!
      let capacity = QRTables.dataCodewords(qr.version, item.level) * 8
      let terminated = used + min(4, capacity - used)
      return terminated % 8 == 0 && terminated < capacity
    }
    #expect(cases.count >= 30)
    let expected = try Segno.matrices(cases)
    #expect(expected.count == cases.count)
    for (index, item) in zip(expected.indices, cases) {
      let qr = try QRCode(item.text, level: item.level, mask: item.mask)
      #expect(
        "\(qr.version) \(qr.mask) \(qr.rows.joined(separator: ","))" == expected[index],
        "text \(item.text.prefix(40)) level \(item.level) mask \(item.mask)")
    }
  }

  @Test(
    "with the mask of lowest penalty, every symbol matches qrencode, module for module",
    .enabled(
      if: QRencode.available, "qrencode is missing (Debian: apt-get install qrencode)"))
  func matchesQRencode() throws {
    for text in Self.referenceTexts {
      for level in QRErrorCorrection.allCases {
        let qr = try QRCode(text, level: level)
        let expected = try QRencode.rows(text, level: level, bytes: QRSegment(text).mode == .byte)
        #expect(qr.rows == expected, "text \(text.prefix(40)) level \(level)")
        // The mask chosen scores lowest of the eight.
        let penalties = try (0...7).map { mask in
          var matrix = QRMatrix(version: qr.version)
          matrix.modules = try QRCode(text, level: level, mask: mask).modules
          return matrix.penalty
        }
        #expect(penalties[qr.mask] == penalties.min())
      }
    }
  }
}

extension QRCode {
  /// The rows as strings of 0 (light) and 1 (dark).
  var rows: [String] {
    (0..<size).map { y in String((0..<size).map { self[$0, y] ? "1" : "0" }) }
  }
}

/// Debian's qrencode (libqrencode's command), one run per symbol.
enum QRencode {
  static let path = "/usr/bin/qrencode"
  static var available: Bool { FileManager.default.isExecutableFile(atPath: path) }

  /// The rows of qrencode's symbol for a text, without quiet zone; `bytes` forces byte mode.
  static func rows(_ text: String, level: QRErrorCorrection, bytes: Bool) throws -> [String] {
    let output = try runTool(
      path, ["-t", "ASCII", "-m", "0", "-l", level.rawValue] + (bytes ? ["-8"] : []) + [text])
    return output.split(separator: "\n").map {
      $0.replacingOccurrences(of: "##", with: "1").replacingOccurrences(of: "  ", with: "0")
    }
  }
}

/// Runs a tool with standard input, and answers its standard output; fails on a non-zero exit.
func runTool(_ path: String, _ arguments: [String], input: Data = Data()) throws -> String {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: path)
  process.arguments = arguments
  let stdin = Pipe()
  let stdout = Pipe()
  process.standardInput = stdin
  process.standardOutput = stdout
  process.standardError = FileHandle.nullDevice
  try process.run()
  stdin.fileHandleForWriting.write(input)
  try stdin.fileHandleForWriting.close()
  let output = stdout.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  guard process.terminationStatus == 0 else { throw CocoaError(.fileReadUnknown) }
  return String(decoding: output, as: UTF8.self)
}

/// Python's segno (Debian python3-segno), run once per batch.
enum Segno {
  static let python = "/usr/bin/python3"

  static let available: Bool = {
    guard FileManager.default.isExecutableFile(atPath: python) else { return false }
    return (try? runTool(python, ["-c", "import segno"])) != nil
  }()

  /// For each case, "VERSION MASK row,row,..." as segno encodes it with that mask (no level
  /// boost).
  static func matrices(_ cases: [(text: String, level: QRErrorCorrection, mask: Int)]) throws
    -> [String]
  {
    let input = try JSONSerialization.data(
      withJSONObject: cases.map { [$0.text, $0.level.rawValue, $0.mask] as [Any] })
    let script = """
      import json, sys, segno
      for text, level, mask in json.load(sys.stdin):
          q = segno.make_qr(text, error=level, mask=mask, boost_error=False)
          rows = ','.join(''.join(str(b) for b in row) for row in q.matrix)
          print(q.version, q.mask, rows)
      """
    return try runTool(python, ["-c", script], input: input).split(separator: "\n").map(String.init)
  }

}
