import Foundation
import Testing
import VoucherKit
import VoucherTestSupport

@Suite("voucher draw")
struct DrawCLITests {
  /// The prize home with its run claimed through `serve`: serial s by profile `crm:p(s % 40)`, so
  /// that every profile claims several codes.
  func registered() throws -> PrizeHome {
    let prizes = try PrizeHome()
    let lines = (1...300).map {
      "{\"op\":\"claim\",\"code\":\"\(prizes.codes[$0]!)\",\"profile\":\"crm:p\($0 % 40)\"}\n"
    }
    let served = prizes.home.run("serve", "--stdio", stdin: Data(lines.joined().utf8))
    try #require(served.stdoutLines.count == lines.count)
    return prizes
  }

  var script: String { prizesCheckScript }

  func beacon(_ n: Int) -> String { String(repeating: String(format: "%02x", n), count: 32) }

  @Test(
    "the same inputs give the same evidence; a different beacon other winners; --per profile never picks a profile twice; Python recomputes the winners from the export and the beacon",
    .enabled(if: python3Path != nil, "python3 is not installed (.ci/run installs it)"))
  func draws() throws {
    let prizes = try registered()
    let home = prizes.home
    defer { home.remove() }
    let first = home.run("draw", "--campaign", "scratch", "--winners", "7", "--beacon", beacon(1))
    #expect(first.status == 0, "\(first.stderr)")
    let again = home.run("draw", "--campaign", "scratch", "--winners", "7", "--beacon", beacon(1))
    #expect(again.stdout == first.stdout)
    let evidence = try #require(decode(first.stdout))
    func ids(_ value: JSONValue?, _ key: String) -> [Int] {
      (value?[key]?.arrayValue ?? []).compactMap {
        if case .number(let id) = $0["id"] { return Int(id) } else { return nil }
      }
    }
    let winners = ids(evidence, "winners")
    #expect(winners.count == 7 && Set(winners).count == 7)
    #expect(
      ids(evidence, "entries").count == 300
        && ids(evidence, "entries") == ids(evidence, "entries").sorted())
    let other = home.run("draw", "--campaign", "scratch", "--winners", "7", "--beacon", beacon(2))
    #expect(ids(decode(other.stdout), "winners") != winners)
    // Python, from the export and the beacon alone.
    let export = home.path + "/events.jsonl"
    #expect(home.run("export", "--format", "jsonl", "--output", export).status == 0)
    let checked = runBinary(
      [script, "draw", export, beacon(1), "7", "claim"], executable: python3Path!)
    #expect(checked.status == 0, "\(checked.stderr)")
    let recomputed = decode(checked.stdout)?["winners"]?.integers ?? []
    #expect(recomputed == winners)
    // One entry per profile: 40 profiles; whatever the beacon, no profile wins twice.
    for n in 1...20 {
      let drawn = home.run(
        "draw", "--campaign", "scratch", "--winners", "40", "--beacon", beacon(n), "--per",
        "profile")
      let answer = try #require(decode(drawn.stdout))
      let profiles = (answer["winners"]?.arrayValue ?? []).compactMap { $0["profile"]?.string }
      #expect(profiles.count == 40 && Set(profiles).count == 40)
      #expect((answer["entries"]?.arrayValue ?? []).count == 40)
      if n == 3 {
        let python = runBinary(
          [script, "draw", export, beacon(n), "40", "profile"], executable: python3Path!)
        let pythonIDs = decode(python.stdout)?["winners"]?.integers ?? []
        #expect(pythonIDs == ids(answer, "winners"))
      }
    }
    // An evidence file: written once, not replaced without --force.
    let file = home.path + "/draw.json"
    let written = home.run(
      "draw", "--campaign", "scratch", "--winners", "7", "--beacon", beacon(1), "--out", file)
    #expect(written.status == 0 && written.stdout.hasPrefix("drew 7 winners among 300 entries"))
    #expect(try String(contentsOfFile: file, encoding: .utf8) == first.stdout)
    let before = home.snapshot()
    for (status, arguments) in [
      (73, ["--winners", "7", "--beacon", beacon(1), "--out", file]),
      (1, ["--winners", "301", "--beacon", beacon(1)]),
      (64, ["--winners", "0", "--beacon", beacon(1)]),
      (64, ["--winners", "3", "--beacon", "abc"]),
      (64, ["--winners", "3", "--beacon", "00ff"]),
      (64, ["--winners", "3", "--beacon", beacon(1) + "\u{1B}[31m"]),
      (64, ["--winners", "3", "--unclaimed-prizes", "--beacon", beacon(1)]),
      (64, ["--beacon", beacon(1)]),
      (1, ["--unclaimed-prizes", "--beacon", beacon(1)]),
    ] as [(Int32, [String])] {
      let outcome = home.run(arguments: ["draw", "--campaign", "scratch"] + arguments)
      #expect(outcome.status == status, "\(arguments) \(outcome.stderr)")
      #expect(outcome.stderrLines.count == 1 && !outcome.stderr.contains("\u{1B}"))
    }
    #expect(home.snapshot() == before)
  }

  @Test(
    "unclaimed prizes are drawn after the end among registrants who won none, one per profile, each prize once",
    .enabled(if: python3Path != nil, "python3 is not installed (.ci/run installs it)"))
  func unclaimedPrizes() throws {
    // Three of the thirteen winning cards are never registered.
    let fresh = try PrizeHome()
    defer { fresh.home.remove() }
    let freshWinners = try fresh.winners()
    let skip = Set(freshWinners.keys.sorted().prefix(3))
    let lines = (1...300).filter { !skip.contains($0) }.map {
      "{\"op\":\"claim\",\"code\":\"\(fresh.codes[$0]!)\",\"profile\":\"crm:p\($0 % 40)\"}\n"
    }
    #expect(fresh.home.run("serve", "--stdio", stdin: Data(lines.joined().utf8)).status == 0)
    #expect(fresh.home.run("campaign", "end", "scratch", "--ends", "2020-01-31").status == 0)
    let drawn = fresh.home.run(
      "draw", "--campaign", "scratch", "--unclaimed-prizes", "--beacon", beacon(9))
    #expect(drawn.status == 0, "\(drawn.stderr)")
    let evidence = try #require(decode(drawn.stdout))
    let expected = skip.sorted().map { freshWinners[$0]! }
    let prizesDrawn = (evidence["winners"]?.arrayValue ?? []).compactMap { $0["prize"]?.string }
    #expect(prizesDrawn.sorted() == expected.sorted())
    let wonBefore = Set(
      freshWinners.keys.filter { !skip.contains($0) }.map { "crm:p\($0 % 40)" })
    let drawnProfiles = (evidence["winners"]?.arrayValue ?? []).compactMap { $0["profile"]?.string }
    #expect(Set(drawnProfiles).count == 3 && wonBefore.isDisjoint(with: drawnProfiles))
    let export = fresh.home.path + "/events.jsonl"
    #expect(fresh.home.run("export", "--format", "jsonl", "--output", export).status == 0)
    let python = runBinary(
      [script, "draw", export, beacon(9), "3", "profile", "unclaimed"], executable: python3Path!)
    let ids = decode(python.stdout)?["winners"]?.integers ?? []
    let drawnIDs = (evidence["winners"]?.arrayValue ?? []).compactMap {
      if case .number(let id) = $0["id"] { return Int(id) } else { return nil }
    }
    #expect(ids == drawnIDs && ids.count == 3)
  }
}
