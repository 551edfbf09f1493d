import Foundation
import Testing
import VoucherTestSupport

@testable import VoucherKit

@Suite("Prize selection: exact counts, unbiased, fixed by the seed, provable")
struct PrizeSelectionTests {
  let campaign = CampaignID("scratch")!
  let card = ChannelID("card")!
  let tiers = [
    PrizeTier(name: PrizeName("gift-card")!, count: 10),
    PrizeTier(name: PrizeName("coffee")!, count: 100),
  ]

  func seed(_ n: Int) -> [UInt8] { (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ n) } }

  @Test("known answer: the worked example of the Prizes article, as the Python check computes it")
  func knownAnswer() {
    let seed = Array(UInt8(0)...UInt8(31))
    let tiers = [
      PrizeTier(name: PrizeName("gift")!, count: 1),
      PrizeTier(name: PrizeName("coffee")!, count: 2),
    ]
    let demo = CampaignID("demo")!
    #expect(
      PrizeSelection.commitment(
        seed: seed, campaign: demo, channel: card, serials: 1...20, tiers: tiers)
        == "a7178a8657ab843df09d3ab401bb02eb66d5ce3062b7f24835b638a029320798")
    let winners = PrizeSelection.winners(
      seed: seed, campaign: demo, channel: card, serials: 1...20, tiers: tiers)
    #expect(
      winners == [19: PrizeName("gift")!, 10: PrizeName("coffee")!, 18: PrizeName("coffee")!])
  }

  @Test("known answer: the draw example of the Prizes article")
  func drawKnownAnswer() {
    let entries = [44, 91, 138, 185, 232].map { Draw.Entry(id: Int64($0), profile: "crm:\($0)") }
    let beacon = [UInt8](repeating: 0xAB, count: 16)
    #expect(Draw.winners(entries, beacon: beacon, count: 2).map(\.id) == [44, 138])
    #expect(Draw.winners(entries, beacon: beacon, count: 5).map(\.id) == [44, 138, 185, 232, 91])
    let repeated = Draw.entries(
      entries + [Draw.Entry(id: 300, profile: "crm:44"), Draw.Entry(id: 301, profile: nil)],
      perProfile: true, excluding: ["crm:91"])
    #expect(repeated.map(\.id) == [44, 138, 185, 232])
  }

  @Test(
    "100,000 serials with tiers of 10 and 100: exactly 10 and 100 winners, spread evenly over tenths of the range"
  )
  func exactAndUnbiased() {
    var tenths = [Int](repeating: 0, count: 10)
    for run in 0..<10 {
      let winners = PrizeSelection.winners(
        seed: seed(run), campaign: campaign, channel: card, serials: 1...100_000, tiers: tiers)
      #expect(winners.values.filter { $0.rawValue == "gift-card" }.count == 10)
      #expect(winners.values.filter { $0.rawValue == "coffee" }.count == 100)
      #expect(winners.keys.allSatisfy { (1...100_000).contains($0) })
      for serial in winners.keys { tenths[(serial - 1) / 10_000] += 1 }
    }
    // 1,100 winners over ten runs: 110 expected per tenth.
    #expect(chiSquare(tenths) < chiSquare9At999, "\(tenths)")
  }

  @Test(
    "the same seed and run give the same winners (a reprint); another seed, campaign, channel or range others"
  )
  func fixedBySeed() {
    let first = PrizeSelection.winners(
      seed: seed(1), campaign: campaign, channel: card, serials: 1...5_000, tiers: tiers)
    #expect(
      first
        == PrizeSelection.winners(
          seed: seed(1), campaign: campaign, channel: card, serials: 1...5_000, tiers: tiers))
    #expect(
      first
        != PrizeSelection.winners(
          seed: seed(2), campaign: campaign, channel: card, serials: 1...5_000, tiers: tiers))
    #expect(
      first
        != PrizeSelection.winners(
          seed: seed(1), campaign: CampaignID("other")!, channel: card, serials: 1...5_000,
          tiers: tiers))
    #expect(
      first
        != PrizeSelection.winners(
          seed: seed(1), campaign: campaign, channel: ChannelID("flyer")!, serials: 1...5_000,
          tiers: tiers))
  }

  @Test(
    "a book: seeds are 32 random bytes in files of mode 0600, the list holds no seed, and a second allocation does not move the first one's winners"
  )
  func book() throws {
    let home = VoucherHome(try temporaryFolder())
    defer { try? FileManager.default.removeItem(atPath: home.path) }
    let book = PrizeBook(home: home, campaign: campaign)
    let first = try book.add(
      channel: card, serials: 1...100_000, tiers: tiers, capacity: 1_000_000, now: Date())
    let before = try book.winners(of: first)
    let second = try book.add(
      channel: card, serials: 100_001...200_000, tiers: tiers, capacity: 1_000_000, now: Date())
    _ = try book.add(
      channel: ChannelID("flyer")!, serials: 1...100_000, tiers: tiers, capacity: 1_000_000,
      now: Date())
    #expect(try book.winners(of: first) == before)
    let all = try book.allocations()
    #expect(all.count == 3 && all[0] == first && all[1] == second)
    let seedPath = book.folder + "/card.1-100000.seed"
    let mode =
      try FileManager.default.attributesOfItem(atPath: seedPath)[.posixPermissions] as! NSNumber
    #expect(mode.intValue == 0o600)
    let seed = try book.seed(of: first)
    let other = try book.seed(of: second)
    #expect(seed.count == 32 && seed != other)
    let list = try String(contentsOfFile: book.folder + "/allocations.json", encoding: .utf8)
    #expect(!list.contains(PrizeSelection.hex(seed)))
    #expect(
      PrizeSelection.commitment(
        seed: seed, campaign: campaign, channel: card, serials: 1...100_000, tiers: tiers)
        == first.commitment)
    // Refused: overlapping runs, too many prizes, out of range, bad tiers.
    #expect(throws: PrizeError.overlaps(channel: card, first: 1, last: 100_000)) {
      try book.add(channel: card, serials: 50...500, tiers: tiers, capacity: 1_000_000, now: Date())
    }
    #expect(throws: PrizeError.tooManyPrizes(prizes: 110, serials: 100)) {
      try book.add(
        channel: card, serials: 300_001...300_100, tiers: tiers, capacity: 1_000_000, now: Date())
    }
    #expect(throws: PrizeError.outOfRange(first: 999_999, last: 1_000_001, capacity: 1_000_000)) {
      try book.add(
        channel: card, serials: 999_999...1_000_001, tiers: tiers, capacity: 1_000_000, now: Date())
    }
    #expect(throws: PrizeError.invalidTiers("a tier name is given twice")) {
      try book.add(
        channel: card, serials: 300_001...400_000, tiers: tiers + tiers, capacity: 1_000_000,
        now: Date())
    }
    // A seed file others can read is refused, like a key file.
    chmod(seedPath, 0o644)
    #expect(throws: PrizeError.seedTooOpen(path: seedPath, mode: 0o644)) {
      try book.seed(of: first)
    }
  }
}
