import Foundation
import Testing

@Suite("voucher campaign end")
struct CampaignEndTests {
  @Test(
    "a campaign cut short expires its codes, extended again they verify; bad input changes nothing")
  func end() throws {
    let home = try Home()
    defer { home.remove() }
    let code = try #require(
      home.run("issue", "--campaign", "summer", "--channel", "flyer", "--count", "1").stdoutLines
        .first)
    #expect(home.run("verify", code).stdout.contains("  valid  "))
    let cut = home.run("campaign", "end", "summer", "--ends", "2020-01-31")
    #expect(cut.status == 0 && cut.stdout == "campaign summer ends 2020-01-31\n")
    let expired = home.run("verify", code)
    #expect(expired.status == 1 && expired.stdout.contains("expired"))
    #expect(home.run("campaign", "show", "summer").stdout.contains("2020-01-31"))
    #expect(home.run("campaign", "end", "summer", "--no-end").status == 0)
    #expect(home.run("verify", code).stdout.contains("  valid  "))
    let before = home.snapshot()
    #expect(home.run("campaign", "end", "summer").status == 64)
    #expect(home.run("campaign", "end", "summer", "--ends", "2020-01-31", "--no-end").status == 64)
    #expect(home.run("campaign", "end", "summer", "--ends", "not-a-date").status == 64)
    let unknown = home.run("campaign", "end", "winter", "--ends", "2030-01-01")
    #expect(unknown.status == 66 && unknown.stderrLines.count == 1)
    #expect(home.snapshot() == before)
  }
}
