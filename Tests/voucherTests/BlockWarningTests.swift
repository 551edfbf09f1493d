import Foundation
import Testing
import VoucherTestSupport

@Suite("voucher block: warnings and every reason kept")
struct BlockWarningTests {
  @Test(
    "block warns for serials never issued from the home, and a second block of the range keeps the first one's reason for the tills"
  )
  func warnsAndKeepsReasons() throws {
    let home = try Home()
    defer { home.remove() }
    let codes = home.run("issue", "--campaign", "summer", "--channel", "flyer", "--count", "5")
      .stdoutLines
    try #require(codes.count == 5)
    let partly = home.run(
      "block", "--campaign", "summer", "--channel", "flyer", "--serials", "3-8", "--reason",
      "box 7 lost")
    #expect(partly.status == 0)
    #expect(
      partly.stderrLines == [
        "warning: 3 of the blocked serials were never issued from this home (6 to 8): check the campaign, channel and range; the block holds for them too"
      ])
    // A reprint with --first leaves a gap: only the gap is named.
    #expect(
      home.run(
        "issue", "--campaign", "summer", "--channel", "receipt", "--count", "2", "--first", "10"
      )
      .status == 0)
    let gaps = home.run(
      "block", "--campaign", "summer", "--channel", "receipt", "--serials", "1-20")
    #expect(gaps.status == 0)
    #expect(
      gaps.stderr.contains(
        "18 of the blocked serials were never issued from this home (1 to 9, 12 to 20)"))
    let issued = home.run("block", "--campaign", "summer", "--channel", "flyer", "--serials", "1-5")
    #expect(issued.status == 0 && issued.stderr.isEmpty)
    #expect(
      home.run("unblock", "--campaign", "summer", "--channel", "flyer", "--serials", "1-2").stderr
        .isEmpty)
    // A second block of an overlapping range: the till shows both reasons, the first first.
    #expect(
      home.run(
        "block", "--campaign", "summer", "--channel", "flyer", "--serials", "4-5", "--reason",
        "stolen from the van"
      ).status == 0)
    let verify = home.run("verify", codes[3])
    #expect(verify.status == 1)
    #expect(verify.stdout.contains(": box 7 lost; stolen from the van"), "\(verify.stdout)")
    let json = home.run("redeem", codes[3], "--store", "S1", "--format", "json")
    #expect(json.status == 1 && json.stdout.contains("box 7 lost; stolen from the van"))
    #expect(home.run("verify", codes[2]).stdout.hasSuffix(": box 7 lost\n"))
    let history = home.run("history", codes[3]).stdout
    #expect(history.contains("box 7 lost") && history.contains("stolen from the van"))
    // Refusals are still one line with their status, and change nothing.
    let before = home.snapshot()
    let beyond = home.run(
      "block", "--campaign", "summer", "--channel", "flyer", "--serials", "1-100001")
    #expect(beyond.status == 65 && beyond.stderrLines.count == 1)
    let unknown = home.run("block", "--campaign", "summer", "--channel", "poster", "--serials", "1")
    #expect(unknown.status == 66 && unknown.stderrLines.count == 1)
    #expect(home.snapshot() == before)
  }
}
