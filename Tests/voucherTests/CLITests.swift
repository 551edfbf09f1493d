import Foundation
import Testing
import VoucherTestSupport

@Suite("voucher, end to end")
struct CLITests {
  @Test("keys new makes a 0600 key; issue writes codes that verify valid; nothing prints a secret")
  func issueAndVerify() throws {
    let home = try Home()
    defer { home.remove() }
    let mode =
      try FileManager.default.attributesOfItem(atPath: home.path + "/Keys/slot-00.key")[
        .posixPermissions] as! NSNumber
    #expect(mode.intValue == 0o600)
    let issued = home.run(
      "issue", "--campaign", "summer", "--channel", "flyer", "--count", "1000", "--output",
      "codes.txt")
    #expect(issued.status == 0)
    #expect(issued.stdout.contains("serials 1 to 1000"))
    let codes = try String(contentsOfFile: home.path + "/codes.txt", encoding: .utf8).split(
      separator: "\n"
    ).map(String.init)
    #expect(codes.count == 1000 && Set(codes).count == 1000)
    let verified = home.run("verify", "-", stdin: Data((codes.joined(separator: "\n") + "\n").utf8))
    #expect(verified.status == 0)
    #expect(verified.stdoutLines.count == 1000)
    #expect(
      verified.stdoutLines.allSatisfy {
        $0.contains("  valid  campaign summer, channel flyer, serial")
      })
    #expect(verified.stderr.isEmpty)

    let secret = try String(contentsOfFile: home.path + "/Keys/slot-00.key", encoding: .utf8)
      .split(separator: "\n").first { $0.hasPrefix("secret: ") }!.dropFirst(8)
    for outcome in [
      issued, verified, home.run("keys", "list"), home.run("keys", "list", "--format", "json"),
      home.run("campaign", "show", "summer"),
    ] {
      #expect(!outcome.stdout.contains(secret) && !outcome.stderr.contains(secret))
    }
  }

  @Test("a reprint with --first gives identical codes; two plain runs give disjoint ones")
  func reprintsAndContinuation() throws {
    let home = try Home()
    defer { home.remove() }
    let first = home.run("issue", "--campaign", "summer", "--channel", "receipt", "--count", "500")
    let second = home.run("issue", "--campaign", "summer", "--channel", "receipt", "--count", "500")
    let reprint = home.run(
      "issue", "--campaign", "summer", "--channel", "receipt", "--count", "500", "--first", "1")
    #expect(first.status == 0 && second.status == 0 && reprint.status == 0)
    #expect(Set(first.stdoutLines).isDisjoint(with: second.stdoutLines))
    #expect(reprint.stdout == first.stdout)
    let csv = home.run(
      "issue", "--campaign", "summer", "--channel", "receipt", "--count", "2", "--first", "501",
      "--format", "csv")
    #expect(
      csv.stdout
        == "serial,code\r\n501,\(second.stdoutLines[0])\r\n502,\(second.stdoutLines[1])\r\n")
    let json = home.run(
      "issue", "--campaign", "summer", "--channel", "receipt", "--count", "3", "--first", "1",
      "--format", "json")
    let rows = try JSONDecoder().decode([JSONValue].self, from: Data(json.stdout.utf8))
    #expect(rows.map { $0["code"]?.string } == first.stdoutLines.prefix(3).map { $0 })
    let shown = home.run("campaign", "show", "summer", "--format", "json")
    let issued = try JSONDecoder().decode(JSONValue.self, from: Data(shown.stdout.utf8))["issued"]
    #expect(issued?["receipt"] == .number(1000) && issued?["flyer"] == .number(0))
  }

  @Test("each status reads clearly in text and JSON, with the documented exit status")
  func statuses() throws {
    let home = try Home()
    defer { home.remove() }
    #expect(
      home.run(
        "campaign", "add", "shop", "--channels", "flyer", "--redeem-at", "store", "--capacity", "10"
      ).status == 0)
    #expect(
      home.run(
        "campaign", "add", "later", "--channels", "flyer", "--starts", "2999-01-01", "--capacity",
        "10"
      ).status == 0)
    #expect(
      home.run(
        "campaign", "add", "past", "--channels", "flyer", "--ends", "2001-01-01", "--capacity", "10"
      ).status == 0)
    func code(_ campaign: String) -> String {
      home.run("issue", "--campaign", campaign, "--channel", "flyer", "--count", "1").stdoutLines[0]
    }
    let shop = code("shop")
    // Swap the first two adjacent, different symbols (the slot and the next, usually): a typo the
    // check symbol must catch, and one the suggestion search undoes.
    var typo = Array(shop)
    let first = typo.indices.first {
      typo[$0] != "-" && typo[$0 + 1] != "-" && typo[$0] != typo[$0 + 1]
    }!
    typo.swapAt(first, first + 1)
    let answers = home.run(
      "verify", "--at", "online", "--format", "json", shop, code("later"), code("past"),
      String(typo), "0000-0000-0000-0000", "U-turn")
    #expect(answers.status == 1)
    let rows = try JSONDecoder().decode([JSONValue].self, from: Data(answers.stdout.utf8))
    #expect(
      rows.map { $0["status"]?.string } == [
        "wrong-venue", "not-yet-valid", "expired", "mistyped", "forged", "malformed",
      ])
    #expect(rows[3]["suggestion"]?.string == shop)
    #expect(rows[0]["campaign"]?.string == "shop" && rows[0]["serial"] == .number(1))
    #expect(answers.stderrLines == ["error: code 6: character 1 (U) cannot be part of a code"])
    let fine = home.run("verify", "--at", "store", shop.lowercased())
    #expect(
      fine.status == 0
        && fine.stdout.hasPrefix("\(shop)  valid  campaign shop, channel flyer, serial 1"))
    #expect(home.run("keys", "revoke", "0").status == 0)
    #expect(home.run("verify", shop).stdout.contains("revoked-key"))
  }

  @Test("every bad input gets one error line, its exit status, and changes no file")
  func badInputs() throws {
    let home = try Home()
    defer { home.remove() }
    #expect(
      home.run(
        "issue", "--campaign", "summer", "--channel", "flyer", "--count", "5", "--output",
        "taken.txt"
      ).status == 0)
    _ = FileManager.default.createFile(atPath: home.path + "/plainfile", contents: Data("x".utf8))
    let cases: [([String], Int32)] = [
      (["issue", "--campaign", "summer", "--channel", "flyer", "--count", "5", "--bogus"], 64),
      (["issue", "--campaign", "summer", "--channel", "flyer", "--count", "0"], 64),
      (["issue", "--campaign", "summer", "--channel", "flyer", "--count", "-3"], 64),
      (["issue", "--campaign", "summer", "--channel", "flyer", "--count", "lots"], 64),
      (["issue", "--campaign", "summer", "--channel", "flyer"], 64),
      (["issue", "--campaign", "summer", "--channel", "flyer", "--count", "99996"], 65),
      (
        [
          "issue", "--campaign", "summer", "--channel", "flyer", "--count", "1", "--first",
          "100001",
        ], 65
      ),
      (["issue", "--campaign", "winter", "--channel", "flyer", "--count", "1"], 66),
      (["issue", "--campaign", "summer", "--channel", "poster", "--count", "1"], 66),
      (
        [
          "issue", "--campaign", "summer", "--channel", "flyer", "--count", "1", "--output",
          "taken.txt",
        ], 73
      ),
      (
        [
          "issue", "--campaign", "summer", "--channel", "flyer", "--count", "1", "--output",
          "no/such/folder/x.txt",
        ], 73
      ),
      (
        [
          "issue", "--campaign", "summer", "--channel", "flyer", "--count", "1", "--output",
          "plainfile/x.txt",
        ], 73
      ),
      (
        ["issue", "--campaign", "summer", "--channel", "flyer", "--count", "1", "--format", "pdf"],
        64
      ),
      (["campaign", "add", "winter", "--channels", "flyer", "--starts", "2026-02-30"], 64),
      (["campaign", "add", "winter", "--channels", "flyer", "--ends", "next week"], 64),
      (
        [
          "campaign", "add", "winter", "--channels", "flyer", "--starts", "2026-05-02", "--ends",
          "2026-05-01",
        ], 64
      ),
      (["campaign", "add", "Winter", "--channels", "flyer"], 64),
      (["campaign", "add", "winter", "--channels", "fly er"], 64),
      (["campaign", "add", "winter", "--channels", "flyer", "--tag-bits", "16"], 64),
      (["campaign", "add", "summer", "--channels", "flyer"], 73),
      (["campaign", "show", "winter"], 66),
      (["keys", "retire", "7"], 66),
      (["keys", "retire", "x"], 64),
      (["verify", "--at", "moon", "0000"], 64),
      (["verify"], 64),
      (["frobnicate"], 64),
    ]
    for (arguments, status) in cases {
      let before = home.snapshot()
      let outcome = home.run(arguments: arguments)
      #expect(outcome.status == status, "\(arguments): \(outcome.stderr)")
      #expect(
        outcome.stderrLines.count == 1 && outcome.stderrLines.first?.hasPrefix("error: ") == true,
        "\(arguments): \(outcome.stderr)")
      #expect(outcome.stdout.isEmpty, "\(arguments)")
      #expect(home.snapshot() == before, "\(arguments) changed a file")
    }
  }

  @Test(
    "an argument that is not UTF-8 (a title, a reason, a code) is a usage error naming it; nothing is stored"
  )
  func argumentsNotUTF8() throws {
    let home = try Home()
    defer { home.remove() }
    let code = home.codes(1)[0]
    // Bytes that are not UTF-8 reach the binary only through a shell: Process takes Strings.
    let cases: [(String, String)] = [
      (
        "campaign add winter --channels flyer --title \"$(printf 'caf\\351')\"",
        "the value of --title"
      ),
      (
        "campaign add winter --channels flyer \"--title=$(printf 'caf\\351')\"",
        "the value of --title"
      ),
      (
        "block --campaign summer --channel flyer --serials 1 --reason \"$(printf '\\377\\376')\"",
        "the value of --reason"
      ),
      ("void \(code) --reason \"$(printf 'lost \\300')\"", "the value of --reason"),
      ("verify \"$(printf '\\377')\"", "argument 4"),
    ]
    for (command, named) in cases {
      let before = home.snapshot()
      let outcome = runBinary(
        ["-c", "exec \"$0\" --home \"$1\" \(command)", voucherBinary, home.path],
        executable: "/bin/sh")
      #expect(outcome.status == 64, "\(command): \(outcome.status) \(outcome.stderr)")
      #expect(
        outcome.stderrLines.count == 1
          && outcome.stderr.hasPrefix("error: \(named) ")
          && outcome.stderr.contains("is not valid UTF-8"),
        "\(command): \(outcome.stderr)")
      #expect(outcome.stdout.isEmpty, "\(command): \(outcome.stdout)")
      #expect(home.snapshot() == before, "\(command) changed a file")
    }
    // The same title in UTF-8 is fine, and stored as given.
    let accepted = runBinary(
      [
        "-c",
        "exec \"$0\" --home \"$1\" campaign add winter --channels flyer --title \"$(printf 'caf\\303\\251')\"",
        voucherBinary, home.path,
      ], executable: "/bin/sh")
    #expect(accepted.status == 0, "\(accepted.stderr)")
    let shown = home.run("campaign", "show", "winter", "--format", "json")
    #expect(
      try JSONDecoder().decode(JSONValue.self, from: Data(shown.stdout.utf8))["campaign"]?[
        "title"]?.string
        == "café")
  }

  @Test("bad key files are refused before anything happens: mode, length, format")
  func badKeyFiles() throws {
    let home = try Home()
    defer { home.remove() }
    let key = home.path + "/Keys/slot-00.key"
    let good = try String(contentsOfFile: key, encoding: .utf8)
    let secret = good.split(separator: "\n").first { $0.hasPrefix("secret: ") }!
    let cases: [(String, Int, Int32)] = [
      (good, 0o644, 78),
      (good, 0o640, 78),
      (
        good.replacingOccurrences(
          of: String(secret), with: "secret: 00112233445566778899aabbccddee"), 0o600, 78
      ),
      (good.replacingOccurrences(of: String(secret), with: "secret: this is not hex"), 0o600, 65),
      ("garbage\n", 0o600, 65),
    ]
    for (text, mode, status) in cases {
      try text.write(toFile: key, atomically: false, encoding: .utf8)
      try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: key)
      let before = home.snapshot()
      for arguments in [
        ["verify", "0000-0000-0000-0000"],
        ["issue", "--campaign", "summer", "--channel", "flyer", "--count", "1"],
      ] {
        let outcome = home.run(arguments: arguments)
        #expect(outcome.status == status, "\(arguments) mode \(mode): \(outcome.stderr)")
        #expect(outcome.stderrLines.count == 1 && outcome.stderr.hasPrefix("error: key file"))
        #expect(!outcome.stderr.contains(secret.dropFirst(8)))
        #expect(home.snapshot() == before)
      }
    }
    try FileManager.default.removeItem(atPath: home.path + "/Keys")
    #expect(home.run("verify", "0000-0000-0000-0000").status == 66)
  }

  @Test("hostile codes: NUL, control, non-ASCII, 100 KB argument, 1 MB line, every naughty string")
  func hostileCodes() throws {
    let home = try Home()
    defer { home.remove() }
    let before = home.snapshot()
    let huge = String(repeating: "A", count: 100_000)
    let lines = [
      "ABCD\u{0}EFGH", "ABCD\u{1B}[31m", "ÄBCD-EFGH", "\u{202E}ABCD",
      String(repeating: "7", count: 1 << 20), "",
    ]
    let piped = home.run("verify", "-", stdin: Data(lines.joined(separator: "\n").utf8 + [0x0A]))
    #expect(piped.status == 1)
    #expect(piped.stdoutLines.count == lines.count)
    #expect(piped.stdoutLines.allSatisfy { $0.contains("  malformed  ") && $0.utf8.count < 300 })
    #expect(
      piped.stderrLines.count == lines.count
        && piped.stderrLines.allSatisfy { $0.hasPrefix("error: line ") })
    let argument = home.run("verify", huge)
    #expect(
      argument.status == 1 && argument.stdoutLines.count == 1 && argument.stderrLines.count == 1)

    // Arguments cannot hold NUL, and a lone "-" means "read standard input".
    let naughty = try TestData.naughtyStrings().filter { !$0.contains("\0") && $0 != "-" }
    let asArguments = home.run(arguments: ["verify", "--format", "json", "--"] + naughty)
    #expect(asArguments.status == 1)
    let rows = try JSONDecoder().decode([JSONValue].self, from: Data(asArguments.stdout.utf8))
    #expect(rows.count == naughty.count)
    let statuses = Set(rows.compactMap { $0["status"]?.string })
    #expect(statuses.isSubset(of: ["malformed", "mistyped", "forged"]), "\(statuses)")
    #expect(
      asArguments.stderrLines.count == rows.filter { $0["status"]?.string == "malformed" }.count)
    let asLines = home.run(
      "verify", "-", stdin: Data((naughty.joined(separator: "\n") + "\n").utf8))
    #expect(asLines.status == 1 && asLines.stdoutLines.count == naughty.count)
    #expect(home.snapshot() == before)
  }

  @Test("--help on every command prints OVERVIEW and USAGE on stdout and exits 0")
  func help() throws {
    let home = try Home(keyed: false)
    defer { home.remove() }
    for command in [
      ["--help"], ["verify", "--help"], ["issue", "--help"], ["campaign", "--help"],
      ["campaign", "add", "--help"],
      ["campaign", "list", "--help"], ["campaign", "show", "--help"], ["keys", "--help"],
      ["keys", "new", "--help"],
      ["keys", "list", "--help"], ["keys", "retire", "--help"], ["keys", "revoke", "--help"],
      ["demo", "--help"],
    ] {
      let outcome = home.run(arguments: command)
      #expect(
        outcome.status == 0 && outcome.stdout.hasPrefix("OVERVIEW: ")
          && outcome.stdout.contains("\nUSAGE: voucher"), "\(command)")
      #expect(outcome.stderr.isEmpty)
    }
  }

  @Test("VOUCHER_HOME names the home; --home wins over it; the demo key warns when issuing")
  func homeAndDemo() throws {
    let home = try Home(keyed: false)
    defer { home.remove() }
    let keys = home.path + "/Keys"
    try FileManager.default.createDirectory(atPath: keys, withIntermediateDirectories: true)
    let demo =
      "# demo\nslot: 0\nstate: active\ndemo: true\nsecret: \(String(repeating: "5a", count: 32))\n"
    try demo.write(toFile: keys + "/slot-00.key", atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes(
      [.posixPermissions: 0o644], ofItemAtPath: keys + "/slot-00.key")
    let tour = runBinary(["demo"], environment: ["VOUCHER_HOME": home.path])
    #expect(tour.status == 0, "\(tour.stderr)")
    #expect(
      tour.stdout.contains("  valid  ") && tour.stdout.contains("  mistyped  ")
        && tour.stdout.contains("  forged  "))
    #expect(tour.stdout.contains("did you mean"))
    let issued = runBinary(
      ["--home", home.path, "issue", "--campaign", "demo", "--channel", "receipt", "--count", "1"],
      environment: ["VOUCHER_HOME": "/nonexistent"])
    #expect(issued.status == 0 && issued.stderr.hasPrefix("warning: issuing with the demo key"))
  }
}
