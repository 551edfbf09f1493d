import Foundation
import Testing
import VoucherTestSupport

@Suite("voucher campaign set")
struct CampaignSetTests {
  /// The campaign as `campaign show --format json` prints it.
  func shown(_ home: Home, _ id: String = "summer") throws -> [String: Any] {
    let show = home.run("campaign", "show", id, "--format", "json")
    try #require(show.status == 0)
    let document = try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any]
    return try #require(document?["campaign"] as? [String: Any])
  }

  @Test("each change is made, kept with its time, old and new value, and shown in text and JSON")
  func changesAreKept() throws {
    let home = try Home()
    defer { home.remove() }
    let code = try #require(
      home.run("issue", "--campaign", "summer", "--channel", "flyer", "--count", "1").stdoutLines
        .first)
    let set = home.run(
      "campaign", "set", "summer", "--ends", "2030-08-31", "--title", "Winter tea", "--uses", "3",
      "--starts", "2019-01-01")
    #expect(set.status == 0, "\(set.stderr)")
    #expect(
      set.stdoutLines == [
        "campaign summer starts 2019-01-01 (was none)",
        "campaign summer ends 2030-08-31 (was no end)",
        "campaign summer title \"Winter tea\" (was \"Summer coffee\")",
        "campaign summer uses 3 (was 1)",
      ])
    let end = home.run("campaign", "end", "summer", "--ends", "2020-01-31")
    #expect(end.status == 0)
    #expect(
      end.stderrLines == ["warning: campaign summer ended 2020-01-31: its codes answer expired"])
    let verify = home.run("verify", code)
    #expect(verify.status == 1 && verify.stdout.contains("expired"))
    let campaign = try shown(home)
    #expect(campaign["title"] as? String == "Winter tea")
    #expect(campaign["uses"] as? Int == 3)
    #expect(campaign["ends"] as? String == "2020-01-31")
    let changes = try #require(campaign["changes"] as? [[String: Any]])
    try #require(changes.count == 5)
    #expect(changes.map { $0["field"] as? String } == ["starts", "ends", "title", "uses", "ends"])
    #expect(changes.map { $0["by"] as? String }.last == "campaign end")
    #expect(
      changes[4]["old"] as? String == "2030-08-31" && changes[4]["new"] as? String == "2020-01-31")
    #expect(changes[0]["old"] == nil && changes[0]["new"] as? String == "2019-01-01")
    for change in changes {
      let time = try #require(change["time"] as? String)
      #expect(ISO8601DateFormatter().date(from: time) != nil, "\(time)")
    }
    let text = home.run("campaign", "show", "summer").stdout
    #expect(text.contains("changes\n"))
    #expect(text.contains(": title \"Winter tea\" (was \"Summer coffee\") by campaign set\n"))
    #expect(text.contains(": ends 2020-01-31 (was 2030-08-31) by campaign end\n"))
    // A change to the value it has is no change, and records nothing.
    let same = home.run("campaign", "set", "summer", "--uses", "3")
    #expect(same.status == 0 && same.stdout == "campaign summer unchanged\n")
    #expect((try shown(home)["changes"] as? [Any])?.count == 5)
    // --no-end removes the end, and --format json prints the campaign as changed.
    let json = home.run("campaign", "set", "summer", "--no-end", "--format", "json")
    #expect(json.status == 0 && !json.stdout.contains("\"ends\" : \"2020"))
    #expect(home.run("verify", code).stdout.contains("  valid  "))
  }

  @Test(
    "--per-profile sets a limit on a running campaign: redemptions made before it count, the change is kept, a bad count is refused"
  )
  func perProfile() throws {
    let home = try Home()
    defer { home.remove() }
    let codes = home.run("issue", "--campaign", "summer", "--channel", "flyer", "--count", "3")
      .stdoutLines
    #expect(home.run("redeem", codes[0], "--store", "S1", "--profile", "crm:7").status == 0)
    let set = home.run("campaign", "set", "summer", "--per-profile", "1")
    #expect(set.status == 0 && set.stdoutLines == ["campaign summer perProfile 1 (was none)"])
    let refused = home.run("redeem", codes[1], "--store", "S1", "--profile", "crm:7")
    #expect(refused.status == 2 && refused.stdout.contains("  profile-limit  "))
    #expect(home.run("redeem", codes[1], "--store", "S1", "--profile", "crm:8").status == 0)
    let raised = home.run("campaign", "set", "summer", "--per-profile", "2", "--format", "json")
    #expect(raised.status == 0)
    #expect(home.run("redeem", codes[2], "--store", "S1", "--profile", "crm:7").status == 0)
    let campaign = try shown(home)
    let limits = try #require(campaign["limits"] as? [String: Any])
    #expect(limits["redemptions"] as? Int == 2 && limits["period"] as? String == "campaign")
    let changes = try #require(campaign["changes"] as? [[String: Any]])
    #expect(changes.map { $0["new"] as? String } == ["1", "2"])
    let before = home.snapshot()
    for bad in ["0", "-1", "abc", "1000001", ""] {
      let outcome = home.run("campaign", "set", "summer", "--per-profile", bad)
      #expect(outcome.status == 64 && outcome.stderrLines.count == 1, "\(bad): \(outcome.stderr)")
    }
    #expect(home.snapshot() == before)
  }

  @Test("a file written before changes were kept loads, and its first change starts the list")
  func oldFileLoads() throws {
    let home = try Home()
    defer { home.remove() }
    let path = home.path + "/Campaigns/summer.campaign"
    let text = try String(contentsOfFile: path, encoding: .utf8)
    #expect(!text.contains("changes"))
    #expect(home.run("campaign", "set", "summer", "--title", "Autumn").status == 0)
    #expect((try shown(home)["changes"] as? [Any])?.count == 1)
  }

  @Test(
    "a change that would strand codes, a bad date, title or number is refused with one error line and its exit status, and changes nothing"
  )
  func refusals() throws {
    let home = try Home()
    defer { home.remove() }
    #expect(home.run("campaign", "set", "summer", "--uses", "3").status == 0)
    let code = try #require(
      home.run("issue", "--campaign", "summer", "--channel", "flyer", "--count", "1").stdoutLines
        .first)
    #expect(home.run("redeem", code, "--store", "S1").status == 0)
    #expect(home.run("redeem", code, "--store", "S1").status == 0)
    let before = home.snapshot()
    let cases: [([String], Int32, String)] = [
      (
        ["--uses", "1"], 65,
        "--uses cannot be fewer than 2: a code of the campaign has been redeemed 2 times"
      ),
      (
        ["--starts", "2099-01-01"], 65, "--starts cannot move after the campaign's first redemption"
      ),
      (["--starts", "2020-01-01", "--ends", "2019-12-31"], 64, "--ends must be after --starts"),
      (["--starts", "2026-02-30"], 64, "--starts is not an ISO 8601 date: '2026-02-30'"),
      (["--ends", "tomorrow"], 64, "--ends is not an ISO 8601 date: 'tomorrow'"),
      (["--title", ""], 64, "--title must be 1 to 200 characters"),
      (["--title", String(repeating: "x", count: 201)], 64, "--title must be 1 to 200 characters"),
      (["--title", "a\u{1B}[2Jb"], 64, "--title must not contain control characters"),
      (["--uses", "0"], 64, "--uses"),
      (["--uses", "256"], 64, "--uses"),
      (["--ends", "2030-01-01", "--no-end"], 64, "give either --ends <date> or --no-end"),
      ([], 64, "nothing to change"),
      (["--colour", "red"], 64, "--colour"),
    ]
    for (arguments, status, message) in cases {
      let run = home.run(arguments: ["campaign", "set", "summer"] + arguments)
      #expect(run.status == status, "\(arguments): \(run.stderr)")
      #expect(run.stderrLines.count == 1 && run.stderr.hasPrefix("error: "), "\(arguments)")
      #expect(run.stderr.contains(message), "\(arguments): \(run.stderr)")
      #expect(run.stdout.isEmpty)
    }
    // Fewer uses after a void gave one back is allowed down to the code's live uses.
    let unknown = home.run("campaign", "set", "winter", "--title", "x")
    #expect(unknown.status == 66 && unknown.stderrLines.count == 1)
    #expect(home.snapshot() == before)
    #expect(home.run("void", code).status == 0)
    #expect(home.run("campaign", "set", "summer", "--uses", "1").status == 0)
  }

  @Test(
    "hostile titles from the naughty strings: valid text is stored as given, anything else is one escaped error line"
  )
  func hostileTitles() throws {
    let home = try Home()
    defer { home.remove() }
    let naughty = try TestData.naughtyStrings().filter { !$0.contains("\0") }
    #expect(naughty.count > 100)
    func isControl(_ scalar: Unicode.Scalar) -> Bool {
      scalar.properties.generalCategory == .control
    }
    for title in naughty {
      let before = home.snapshot()
      let run = home.run("campaign", "set", "summer", "--title", title)
      let bad =
        title.isEmpty || title.count > 200 || title.unicodeScalars.contains(where: isControl)
      if bad {
        #expect(run.status == 64, "\(title.debugDescription): \(run.stderr)")
        #expect(run.stderrLines.count == 1, "\(title.debugDescription)")
        #expect(!run.stderr.dropLast().unicodeScalars.contains(where: isControl))
        #expect(home.snapshot() == before, "\(title.debugDescription)")
      } else {
        #expect(run.status == 0, "\(title.debugDescription): \(run.stderr)")
        #expect(!run.stdout.dropLast().unicodeScalars.contains { isControl($0) && $0 != "\n" })
        // Compared as JSON text: Foundation's JSON reader drops a leading U+FEFF from a string.
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let expected = String(decoding: try encoder.encode(title), as: UTF8.self)
        let show = home.run("campaign", "show", "summer", "--format", "json")
        #expect(show.stdout.contains("\"title\" : \(expected),\n"), "\(title.debugDescription)")
      }
    }
    let text = home.run("campaign", "show", "summer")
    #expect(text.status == 0)
    #expect(!text.stdout.unicodeScalars.contains { isControl($0) && $0 != "\n" })
  }
}

extension CampaignSetTests {
  @Test(
    "hostile dates from the naughty strings: each is one escaped error line, exit 64, and changes nothing"
  )
  func hostileDates() throws {
    let home = try Home()
    defer { home.remove() }
    let naughty = try TestData.naughtyStrings().filter { !$0.contains("\0") && !$0.isEmpty }
    let before = home.snapshot()
    for text in naughty {
      for option in ["--starts", "--ends"] {
        let run = home.run("campaign", "set", "summer", option, text)
        #expect(run.status == 64, "\(option) \(text.debugDescription): \(run.stderr)")
        #expect(run.stderrLines.count == 1 && run.stderr.hasPrefix("error: "))
        #expect(
          !run.stderr.dropLast().unicodeScalars.contains {
            $0.properties.generalCategory == .control
          })
      }
    }
    #expect(home.snapshot() == before)
  }
}
