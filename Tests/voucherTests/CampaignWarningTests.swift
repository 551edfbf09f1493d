import Foundation
import Testing
import VoucherKit

@Suite("Warnings where a person would want one")
struct CampaignWarningTests {
  @Test("campaign add and issue warn when the campaign has ended or ends within 7 days, and still do their job")
  func endingCampaigns() throws {
    let home = try Home()
    defer { home.remove() }
    func day(_ offset: Double) -> String {
      String(ISO8601.format(Date().addingTimeInterval(offset * 86_400)).prefix(10))
    }
    let ended = home.run("campaign", "add", "ended", "--channels", "a", "--ends", day(-30))
    #expect(ended.status == 0 && ended.stderrLines == ["warning: campaign ended ended \(day(-30)): its codes answer expired"])
    let soon = home.run("campaign", "add", "soon", "--channels", "a", "--ends", day(3))
    #expect(soon.status == 0 && soon.stderrLines.count == 1)
    #expect(soon.stderr.hasPrefix("warning: campaign soon ends \(day(3)), within 4 days"))
    let later = home.run("campaign", "add", "later", "--channels", "a", "--ends", day(30))
    #expect(later.status == 0 && later.stderr.isEmpty)
    let open = home.run("campaign", "add", "open", "--channels", "a")
    #expect(open.status == 0 && open.stderr.isEmpty)
    let issued = home.run("issue", "--campaign", "ended", "--channel", "a", "--count", "2")
    #expect(issued.status == 0 && issued.stdoutLines.count == 2)
    #expect(issued.stderrLines == ["warning: campaign ended ended \(day(-30)): its codes answer expired"])
    #expect(home.run("verify", issued.stdoutLines[0]).stdout.contains("expired"))
    #expect(home.run("issue", "--campaign", "later", "--channel", "a", "--count", "1").stderr.isEmpty)
  }
}
