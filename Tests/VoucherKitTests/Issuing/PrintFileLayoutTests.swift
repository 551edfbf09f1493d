import Foundation
import Testing
import VoucherTestSupport

@testable import VoucherKit

@Suite("print-file layouts, links and manifests")
struct PrintFileLayoutTests {
  let ring = testRing([0: 0x11, 3: 0x33])
  let campaign = testCampaign(ends: "2026-08-31")

  /// A run written to bytes.
  func bytes(_ layout: IssueLayout, _ serials: ClosedRange<Int>, threads: Int = 1) throws
    -> [UInt8]
  {
    var out: [UInt8] = []
    try Issuer(campaign: campaign, keyRing: ring).write(
      channel: 1, serials: serials, layout: layout, threads: threads,
      to: { out.append(contentsOf: $0) })
    return out
  }

  @Test("a template with the plain columns writes exactly what the fast path writes")
  func templateMatchesFastPath() throws {
    for format in IssueFormat.allCases {
      let plain = try IssueLayout(format: format)
      #expect(plain.isPlain)
      var fast: [UInt8] = []
      try Issuer(campaign: campaign, keyRing: ring).write(
        channel: 1, serials: 7...20_006, format: format, threads: 2,
        to: { fast.append(contentsOf: $0) })
      #expect(try bytes(plain, 7...20_006, threads: 2) == fast)
      guard format != .text else { continue }
      // The same columns in another order go through the row template; in JSON's order they
      // are the same document.
      let columns: [IssueColumn] = format == .json ? [.code, .serial] : [.serial, .code]
      let layout = try IssueLayout(format: format, columns: columns + [.channel])
      #expect(!layout.isPlain)
      let templated = try String(decoding: bytes(layout, 7...20_006, threads: 2), as: UTF8.self)
      let expected = String(decoding: fast, as: UTF8.self)
        .replacingOccurrences(of: "\r\n", with: ",receipt\r\n")
        .replacingOccurrences(of: "}", with: ", \"channel\": \"receipt\"}")
        .replacingOccurrences(of: "serial,code,receipt", with: "serial,code,channel")
      #expect(templated == expected)
    }
  }

  @Test("every column, in CSV and JSON, with a link that needs quoting")
  func everyColumn() throws {
    let url = try URLTemplate("https://shop.example/r?c={code}&n=\"a,b\"")
    let code = try Issuer(campaign: campaign, keyRing: ring).code(channel: 1, serial: 5)
      .description
    let csv = try IssueLayout(
      format: .csv, columns: [.url, .ends, .campaign, .channel, .serial, .code], url: url)
    #expect(
      String(decoding: try bytes(csv, 5...5), as: UTF8.self)
        == "url,ends,campaign,channel,serial,code\r\n\"https://shop.example/r?c=\(code)&n=\"\"a,b\"\"\",2026-08-31,summer,receipt,5,\(code)\r\n"
    )
    let json = try IssueLayout(format: .json, columns: [.url, .ends, .serial], url: url)
    let rows = try JSONDecoder().decode([JSONValue].self, from: Data(try bytes(json, 5...6)))
    #expect(rows.count == 2)
    #expect(rows[0]["url"]?.string == "https://shop.example/r?c=\(code)&n=\"a,b\"")
    #expect(rows[0]["ends"]?.string == "2026-08-31" && rows[1]["serial"] == .number(6))
  }

  @Test("URL templates: exactly one {code}, no control characters, no formula, bounded length")
  func templates() throws {
    #expect(
      try URLTemplate("HTTPS://SHOP.EXAMPLE/R/{code}").link("X") == "HTTPS://SHOP.EXAMPLE/R/X")
    #expect(try URLTemplate("{code}").prefix == "")
    #expect(throws: URLTemplateError.placeholderCount(0)) { try URLTemplate("https://x/") }
    #expect(throws: URLTemplateError.placeholderCount(2)) { try URLTemplate("{code}{code}") }
    #expect(throws: URLTemplateError.controlCharacter(0x0A)) { try URLTemplate("a\n{code}") }
    #expect(throws: URLTemplateError.controlCharacter(0x85)) { try URLTemplate("a\u{85}{code}") }
    #expect(throws: URLTemplateError.controlCharacter(0x202E)) { try URLTemplate("\u{202E}{code}") }
    #expect(throws: URLTemplateError.formulaLike("=")) { try URLTemplate("=HYPERLINK({code})") }
    #expect(throws: URLTemplateError.tooLong(bytes: 1001, maximum: 1000)) {
      try URLTemplate(String(repeating: "A", count: 995) + "{code}")
    }
    #expect(throws: IssueLayoutError.columnsNeedCSVOrJSON) {
      try IssueLayout(format: .text, url: URLTemplate("{code}"))
    }
    #expect(throws: IssueLayoutError.urlColumnWithoutTemplate) {
      try IssueLayout(format: .csv, columns: [.url])
    }
    #expect(throws: IssueLayoutError.repeatedColumn(.code)) {
      try IssueLayout(format: .csv, columns: [.code, .serial, .code])
    }
  }

  func manifest(_ bytes: [UInt8] = [1, 2, 3]) throws -> IssueManifest {
    IssueManifest(
      campaign: campaign.id, channel: ChannelID("receipt")!, serials: 1...3, part: nil, parts: nil,
      layout: try IssueLayout(format: .csv), file: "box.csv", bytes: bytes.count,
      sha256: String(repeating: "ab", count: 32), issued: "2026-06-01T00:00:00Z",
      keySlot: KeySlot(0)!)
  }

  @Test("a manifest's MAC: under the current key's derived manifest key, over every field")
  func manifestMAC() throws {
    let signed = try manifest().signed(with: ring)
    // The current signing key is the highest active slot.
    #expect(signed.keySlot == KeySlot(3)!)
    #expect(signed.authenticity(in: ring) == .genuine)
    // HMAC-SHA256 under HMAC-SHA256(secret, label), recomputed with OpenSSL's own HMAC().
    let derived = OpenSSL.referenceHMACSHA256(
      key: [UInt8](repeating: 0x33, count: 32), message: Array("voucher/v1/manifest".utf8))
    let expected = OpenSSL.referenceHMACSHA256(key: derived, message: signed.signedText)
    #expect(signed.mac == expected.map { String($0, radix: 16).leftPadded(to: 2) }.joined())
    // Never the raw secret.
    let raw = OpenSSL.referenceHMACSHA256(
      key: [UInt8](repeating: 0x33, count: 32), message: signed.signedText)
    #expect(signed.mac != raw.map { String($0, radix: 16).leftPadded(to: 2) }.joined())
    // Each field changed breaks it.
    var changed = signed
    changed.last = 4
    #expect(changed.authenticity(in: ring) == .forged)
    changed = signed
    changed.file = "box.csv\nlast 1 9"
    #expect(changed.authenticity(in: ring) == .forged)
    changed = signed
    changed.url = "HTTPS://EVIL.EXAMPLE/{code}"
    #expect(changed.authenticity(in: ring) == .forged)
    changed = signed
    changed.mac = "zz"
    #expect(changed.authenticity(in: ring) == .forged)
    #expect(signed.authenticity(in: testRing([0: 0x11])) == .unknownKey)
    #expect(signed.authenticity(in: testRing([0: 0x11, 3: 0x34])) == .forged)
    #expect(
      signed.authenticity(in: testRing([0: 0x11, 3: 0x33], states: [3: .revoked])) == .revokedKey)
    // Lengths keep values apart: moving a newline from one field to the next changes the text.
    var a = try manifest()
    a.file = "x"
    a.issued = "y\nz"
    var b = try manifest()
    b.file = "x\ny"
    b.issued = "z"
    #expect(a.signedText != b.signedText)
  }

  @Test("the first difference: a changed row, a missing end, an extra line, the header")
  func firstDifference() {
    let expected = Array("serial,code\r\n1,A\r\n2,B\r\n3,C\r\n".utf8)
    func first(_ text: String) -> FileDifference? {
      FileDifference.first(
        actual: Array(text.utf8), expected: expected, format: .csv, serials: 1...3)
    }
    #expect(first("serial,code\r\n1,A\r\n2,B\r\n3,C\r\n") == nil)
    #expect(
      first("serial,code\r\n1,A\r\n2,X\r\n3,C\r\n")?.description
        == "row 2 (serial 2, line 3) differs from the file as issued")
    #expect(
      first("serial,code\r\n1,A\r\n")?.description
        == "the file ends before row 2 (serial 2, line 3)")
    #expect(first("serial,code\r\n1,A\r\n2,B\r\n3,C")?.kind == .changed)
    #expect(
      first("serial,code\r\n1,A\r\n2,B\r\n3,C\r\n4,D\r\n")?.description
        == "the file goes on past its end, at line 5")
    #expect(
      first("serial,kode\r\n1,A\r\n2,B\r\n3,C\r\n")?.description
        == "line 1 differs from the file as issued")
  }
}
