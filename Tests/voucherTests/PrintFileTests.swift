import Dispatch
import Foundation
import Synchronization
import Testing
import VoucherTestSupport

#if canImport(Glibc)
  import Glibc
#endif

/// Debian's rsvg-convert (librsvg2-bin) and zbarimg (zbar-tools), which render and read back the
/// QR codes `issue --qr svg` writes.
enum QRTools {
  static let rsvg = "/usr/bin/rsvg-convert"
  static let zbar = "/usr/bin/zbarimg"
  static var missing: String? {
    let absent = [(rsvg, "librsvg2-bin"), (zbar, "zbar-tools")].filter {
      !FileManager.default.isExecutableFile(atPath: $0.0)
    }
    guard !absent.isEmpty else { return nil }
    return "missing \(absent.map { $0.0 }.joined(separator: " and ")) (Debian: apt-get install "
      + absent.map { $0.1 }.joined(separator: " ") + "; .ci/run installs them)"
  }

  /// What zbarimg reads in each SVG, in order: every SVG rendered to PNG at 4 pixels a module,
  /// then read in batches of 100, batches on every core.
  static func decode(_ svgs: [String], scratch: String) -> [String] {
    let batches = stride(from: 0, to: svgs.count, by: 100).map {
      Array(svgs[$0..<min(svgs.count, $0 + 100)])
    }
    let results = Mutex([[String]](repeating: [], count: batches.count))
    DispatchQueue.concurrentPerform(iterations: batches.count) { index in
      var pngs: [String] = []
      for (offset, svg) in batches[index].enumerated() {
        let png = "\(scratch)/\(index)-\(offset).png"
        _ = runBinary(["-z", "4", "-o", png, svg], executable: rsvg)
        pngs.append(png)
      }
      let read = runBinary(["-q", "--raw"] + pngs, executable: zbar)
      results.withLock { $0[index] = read.stdoutLines }
    }
    return results.withLock { $0 }.flatMap { $0 }
  }
}

@Suite("print files: QR codes, links, columns, boxes and signed manifests")
struct PrintFileTests {
  static let template = "HTTPS://SHOP.EXAMPLE/R/{code}"

  @Test(
    "every QR code of a 1,000-code run reads back with zbarimg as its registration link, and a plain run as its code",
    .disabled(if: QRTools.missing != nil, Comment(rawValue: QRTools.missing ?? "")))
  func qrCodesDecode() throws {
    let home = try Home()
    defer { home.remove() }
    let issued = home.run(
      "issue", "--campaign", "summer", "--channel", "flyer", "--count", "1000", "--qr", "svg",
      "--url", Self.template, "--output", "cards")
    #expect(issued.status == 0, "\(issued.stderr)")
    #expect(issued.stdout.contains("wrote 1000 QR codes"))
    let files = try FileManager.default.contentsOfDirectory(atPath: home.path + "/cards").sorted()
    #expect(files.count == 1000 && files.first == "flyer-000001.svg")
    // The same serials again as CSV (a reprint): what each QR code must hold.
    let rows = home.run(
      "issue", "--campaign", "summer", "--channel", "flyer", "--count", "1000", "--first", "1",
      "--format", "csv", "--url", Self.template
    ).stdout.components(separatedBy: "\r\n").dropFirst().dropLast().map {
      $0.split(separator: ",").map(String.init)
    }
    #expect(rows.count == 1000 && rows.allSatisfy { $0[2] == "HTTPS://SHOP.EXAMPLE/R/" + $0[1] })
    let scratch = home.path + "/png"
    try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    let read = QRTools.decode(files.map { home.path + "/cards/" + $0 }, scratch: scratch)
    #expect(read == rows.map { $0[2] })

    // Without --url the QR code holds the code itself, at any level.
    let plain = home.run(
      "issue", "--campaign", "summer", "--channel", "receipt", "--count", "50", "--qr", "svg",
      "--qr-level", "H", "--output", "plain")
    #expect(plain.status == 0, "\(plain.stderr)")
    let codes = home.run(
      "issue", "--campaign", "summer", "--channel", "receipt", "--count", "50", "--first", "1"
    ).stdoutLines
    let plainFiles = try FileManager.default.contentsOfDirectory(atPath: home.path + "/plain")
      .sorted().map { home.path + "/plain/" + $0 }
    #expect(QRTools.decode(plainFiles, scratch: scratch) == codes)
  }

  @Test(
    "--qr refuses to replace SVGs of the same names without --force, and leaves the folder as it was"
  )
  func qrFolderRefusesExisting() throws {
    let home = try Home()
    defer { home.remove() }
    let arguments = [
      "issue", "--campaign", "summer", "--channel", "flyer", "--count", "5", "--first", "1", "--qr",
      "svg", "--output", "cards",
    ]
    #expect(home.run(arguments: arguments).status == 0)
    let before = home.snapshot()
    let again = home.run(arguments: arguments)
    #expect(again.status == 73)
    #expect(again.stderrLines == [again.stderrLines.first { $0.hasPrefix("error: ") } ?? "?"])
    #expect(again.stderr.contains("already holds 5 of these files"))
    #expect(home.snapshot() == before)
    // A run that fails (past the channel's capacity) leaves no folder it created.
    let failed = home.run(
      "issue", "--campaign", "summer", "--channel", "flyer", "--count", "200000", "--qr", "svg",
      "--output", "new-cards")
    #expect(failed.status == 65 && failed.stderr.hasPrefix("error: "))
    #expect(!FileManager.default.fileExists(atPath: home.path + "/new-cards"))
    let forced = home.run(arguments: arguments + ["--force"])
    #expect(forced.status == 0, "\(forced.stderr)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: home.path + "/cards").count == 5)
  }

  @Test(
    "manifest verify accepts the file as issued, and names the first changed row of an altered one"
  )
  func manifestVerify() throws {
    let home = try Home()
    defer { home.remove() }
    let issued = home.run(
      "issue", "--campaign", "summer", "--channel", "flyer", "--count", "1000", "--format", "csv",
      "--url", Self.template, "--columns", "serial,code,url,campaign,channel,ends", "--output",
      "box.csv")
    #expect(issued.status == 0, "\(issued.stderr)")
    let file = home.path + "/box.csv"
    let manifest = try JSONDecoder().decode(
      JSONValue.self, from: Data(contentsOf: URL(fileURLWithPath: file + ".manifest.json")))
    #expect(manifest["count"] == .number(1000) && manifest["first"] == .number(1))
    #expect(manifest["campaign"]?.string == "summer" && manifest["channel"]?.string == "flyer")
    #expect(manifest["url"]?.string == Self.template && manifest["keySlot"] == .number(0))
    #expect(manifest["sha256"]?.string?.count == 64 && manifest["mac"]?.string?.count == 64)
    let original = try String(contentsOfFile: file, encoding: .utf8)
    let verified = home.run("manifest", "verify", "box.csv")
    #expect(verified.status == 0)
    #expect(
      verified.stdout.hasPrefix(
        "box.csv: as issued: campaign summer, channel flyer, serials 1 to 1000"))

    func altered(_ text: String) -> Outcome {
      try! text.write(toFile: file, atomically: true, encoding: .utf8)
      return home.run("manifest", "verify", "box.csv")
    }
    var lines = original.components(separatedBy: "\r\n")
    // One symbol of the code on row 500 (line 501) changed.
    let row = lines[500]
    lines[500] = row.replacingOccurrences(
      of: ",0", with: ",1", options: [], range: row.range(of: ",0"))
    var outcome = altered(lines.joined(separator: "\r\n"))
    #expect(outcome.status == 1)
    #expect(
      outcome.stdout
        == "box.csv: altered: row 500 (serial 500, line 501) differs from the file as issued\n")
    // Rows 998 to 1000 cut off.
    outcome = altered(
      original.components(separatedBy: "\r\n").prefix(998).joined(separator: "\r\n") + "\r\n")
    #expect(
      outcome.status == 1 && outcome.stdout.contains("the file ends before row 998 (serial 998"))
    // A row added at the end.
    outcome = altered(original + "1001,XXXX\r\n")
    #expect(outcome.status == 1 && outcome.stdout.contains("goes on past its end"))
    // The header changed.
    outcome = altered(original.replacingOccurrences(of: "serial,code", with: "serial,kode"))
    #expect(outcome.status == 1 && outcome.stdout.contains("line 1 differs"))
    // The manifest changed to match an altered file: its HMAC no longer matches.
    try original.write(toFile: file, atomically: true, encoding: .utf8)
    #expect(home.run("manifest", "verify", "box.csv").status == 0)
    let manifestText = try String(contentsOfFile: file + ".manifest.json", encoding: .utf8)
    try manifestText.replacingOccurrences(of: "\"last\" : 1000", with: "\"last\" : 999")
      .write(toFile: file + ".manifest.json", atomically: true, encoding: .utf8)
    outcome = home.run("manifest", "verify", "box.csv")
    #expect(outcome.status == 1 && outcome.stdout.contains("HMAC does not match"))
    // No manifest, or not a manifest: an error, not a verdict.
    outcome = home.run("manifest", "verify", "missing.csv")
    #expect(outcome.status == 66 && outcome.stderr.hasPrefix("error: "))
    try "{}".write(toFile: file + ".manifest.json", atomically: true, encoding: .utf8)
    outcome = home.run("manifest", "verify", "box.csv")
    #expect(outcome.status == 65 && outcome.stderr.hasPrefix("error: "))
    // A text file: no header, so row n is line n.
    #expect(
      home.run(
        "issue", "--campaign", "summer", "--channel", "receipt", "--count", "3", "--output",
        "codes.txt"
      ).status == 0)
    #expect(home.run("manifest", "verify", "codes.txt").status == 0)
    let text = try String(contentsOfFile: home.path + "/codes.txt", encoding: .utf8)
    var codes = text.split(separator: "\n").map(String.init)
    codes[1] = codes[1].lowercased()
    try (codes.joined(separator: "\n") + "\n").write(
      toFile: home.path + "/codes.txt", atomically: true, encoding: .utf8)
    outcome = home.run("manifest", "verify", "codes.txt")
    #expect(
      outcome.status == 1
        && outcome.stdout
          == "codes.txt: altered: row 2 (serial 2, line 2) differs from the file as issued\n"
    )
    #expect(home.run("help", "manifest").stdout.contains("verify"))
    #expect(
      home.run("help", "manifest", "verify").stdout.contains("USAGE: voucher manifest verify"))
  }

  @Test(
    "--per-file splits a run into boxes, each with a manifest that verifies; together they are the run"
  )
  func boxes() throws {
    let home = try Home()
    defer { home.remove() }
    let issued = home.run(
      "issue", "--campaign", "summer", "--channel", "receipt", "--count", "10", "--format", "json",
      "--per-file", "4", "--output", "box.json")
    #expect(issued.status == 0, "\(issued.stderr)")
    #expect(issued.stdout.contains("to 3 files box-0001.json to box-0003.json"))
    var codes: [String] = []
    for part in 1...3 {
      let name = "box-000\(part).json"
      #expect(home.run("manifest", "verify", name).status == 0)
      let rows = try JSONDecoder().decode(
        [JSONValue].self, from: Data(contentsOf: URL(fileURLWithPath: home.path + "/" + name)))
      #expect(rows.count == (part == 3 ? 2 : 4))
      codes += rows.compactMap { $0["code"]?.string }
      let manifest = try JSONDecoder().decode(
        JSONValue.self,
        from: Data(contentsOf: URL(fileURLWithPath: home.path + "/" + name + ".manifest.json")))
      #expect(manifest["part"] == .number(Double(part)) && manifest["parts"] == .number(3))
    }
    // All boxes at once: one verdict each; any altered one makes the exit status 1.
    let all = home.run("manifest", "verify", "box-0001.json", "box-0002.json", "box-0003.json")
    #expect(all.status == 0 && all.stdoutLines.count == 3)
    #expect(all.stdoutLines.allSatisfy { $0.contains(": as issued: ") })
    let second = home.path + "/box-0002.json"
    let boxText = try String(contentsOfFile: second, encoding: .utf8)
    try boxText.replacingOccurrences(of: "\"serial\": 6", with: "\"serial\": 60").write(
      toFile: second, atomically: true, encoding: .utf8)
    let mixed = home.run("manifest", "verify", "box-0001.json", "box-0002.json", "box-0003.json")
    #expect(mixed.status == 1 && mixed.stdoutLines.count == 3)
    #expect(
      mixed.stdoutLines[1]
        == "box-0002.json: altered: row 2 (serial 6, line 3) differs from the file as issued")
    try boxText.write(toFile: second, atomically: true, encoding: .utf8)
    #expect(
      home.run("manifest", "verify", "--manifest", "x", "box-0001.json", "box-0002.json").status
        == 64)
    let whole = home.run(
      "issue", "--campaign", "summer", "--channel", "receipt", "--count", "10", "--first", "1")
    #expect(codes == whole.stdoutLines)
    // A second run refuses the same names, and leaves everything as it was.
    let before = home.snapshot()
    let again = home.run(
      "issue", "--campaign", "summer", "--channel", "receipt", "--count", "10", "--first", "1",
      "--format", "json", "--per-file", "4", "--output", "box.json")
    #expect(again.status == 73 && again.stderr.hasPrefix("error: "))
    #expect(home.snapshot() == before)
  }

  @Test("columns, links and their quoting in CSV and JSON, read back by a CSV and a JSON reader")
  func columnsAndLinks() throws {
    let home = try Home()
    defer { home.remove() }
    let template = "https://shop.example/r?code={code}&note=\"a,b\""
    let csv = home.run(
      "issue", "--campaign", "summer", "--channel", "flyer", "--count", "3", "--format", "csv",
      "--url", template, "--columns", "code,url,channel")
    #expect(csv.status == 0, "\(csv.stderr)")
    let lines = csv.stdout.components(separatedBy: "\r\n")
    #expect(lines[0] == "code,url,channel")
    let code = String(lines[1].prefix(while: { $0 != "," }))
    #expect(
      lines[1]
        == "\(code),\"https://shop.example/r?code=\(code)&note=\"\"a,b\"\"\",flyer")
    let json = home.run(
      "issue", "--campaign", "summer", "--channel", "flyer", "--count", "2", "--first", "1",
      "--format", "json", "--url", template, "--columns", "url,serial,ends,campaign")
    let rows = try JSONDecoder().decode([JSONValue].self, from: Data(json.stdout.utf8))
    #expect(
      rows.count == 2
        && rows[0]["url"]?.string == "https://shop.example/r?code=\(code)&note=\"a,b\"")
    #expect(
      rows[0]["serial"] == .number(1) && rows[0]["ends"] == .null
        && rows[0]["campaign"]?.string == "summer")
    // Usage errors, exit 64, one line each.
    for arguments in [
      ["--columns", "serial,bogus"], ["--columns", "url"], ["--columns", "code,code"],
      ["--format", "text", "--url", Self.template], ["--qr", "png", "--output", "x"],
      ["--qr", "svg"], ["--qr-level", "H"], ["--qr", "svg", "--output", "x", "--qr-level", "Z"],
      ["--per-file", "2"], ["--per-file", "0", "--output", "x.csv"],
      ["--qr", "svg", "--output", "x", "--format", "csv"],
    ] {
      let outcome = home.run(
        arguments: ["issue", "--campaign", "summer", "--channel", "flyer", "--count", "2"]
          + arguments)
      #expect(outcome.status == 64, "\(arguments)")
      #expect(outcome.stderrLines.count == 1 && outcome.stderr.hasPrefix("error: "), "\(arguments)")
    }
  }

  @Test(
    "every naughty string as a --url template, an output file name and a QR folder name: files that read back, or one clear error and nothing written"
  )
  func hostileTemplatesAndNames() throws {
    let home = try Home()
    defer { home.remove() }
    let strings = try TestData.naughtyStrings()
    // Outputs go beside the home, so that a snapshot of the home stays small.
    let folder = home.path + "-out"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    var accepted = 0
    for (index, text) in strings.enumerated() {
      // As a template, alone (no placeholder: refused) and with a placeholder appended.
      for template in [text, text + "{code}"] {
        let before = home.snapshot()
        let path = "\(folder)/t\(index)-\(template == text ? 0 : 1).json"
        let outcome = runInProcess(
          home,
          [
            "issue", "--campaign", "summer", "--channel", "flyer", "--count", "1", "--format",
            "json", "--url", template, "--output", path,
          ])
        expectOneError(outcome, "--url \(template.debugDescription)")
        #expect(outcome.status == 0 || outcome.status == 64, "\(template.debugDescription)")
        if outcome.status == 64 {
          #expect(home.snapshot() == before, "\(template.debugDescription)")
          #expect(!FileManager.default.fileExists(atPath: path))
          #expect(!outcome.stderr.dropLast().contains(where: { $0.isNewline || $0 == "\u{1B}" }))
          continue
        }
        accepted += 1
        let rows = try JSONDecoder().decode(
          [JSONValue].self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        let code = try #require(rows.first?["code"]?.string)
        #expect(
          rows.first?["url"]?.string == template.replacingOccurrences(of: "{code}", with: code),
          "\(template.debugDescription)")
        #expect(runInProcess(home, ["manifest", "verify", path]).status == 0)
      }
      // As a file name in a folder of its own.
      guard !text.isEmpty, !text.contains("\0"), !text.contains("/"), text != ".", text != ".."
      else { continue }
      let path = "\(folder)/\(text)"
      guard !FileManager.default.fileExists(atPath: path) else { continue }
      let outcome = runInProcess(
        home,
        [
          "issue", "--campaign", "summer", "--channel", "flyer", "--count", "2", "--format", "csv",
          "--output", path,
        ])
      expectOneError(outcome, "--output \(text.debugDescription)")
      // And as the folder of a QR run: every string with a control character, and every fourth
      // of the others (each run syncs a file and two folders).
      let controls = text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
      if controls || index % 4 == 0 {
        let qr = runInProcess(
          home,
          [
            "issue", "--campaign", "summer", "--channel", "receipt", "--count", "1", "--qr",
            "svg", "--output", path + "-qr",
          ])
        expectOneError(qr, "--qr --output \(text.debugDescription)")
        if qr.status == 0 {
          let files = try FileManager.default.contentsOfDirectory(atPath: path + "-qr")
          #expect(files.count == 1 && files[0].hasSuffix(".svg"), "\(text.debugDescription)")
          try FileManager.default.removeItem(atPath: path + "-qr")
        } else {
          #expect(!FileManager.default.fileExists(atPath: path + "-qr"))
        }
      }
      guard outcome.status == 0 else { continue }
      let verified = runInProcess(home, ["manifest", "verify", path])
      #expect(verified.status == 0, "\(text.debugDescription): \(verified.stderr)")
      #expect(!verified.stdout.dropLast().contains(where: { $0.isNewline }))
      try FileManager.default.removeItem(atPath: path)
      try FileManager.default.removeItem(atPath: path + ".manifest.json")
    }
    #expect(accepted > strings.count / 2)
  }
}

@Suite("the README's print-file example")
struct PrintFileReadmeTests {
  @Test("the README's 'Print files' block runs as shown in a fresh home, and prints what it says")
  func readmeBlock() throws {
    let readme = try String(
      contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../README.md"), encoding: .utf8)
    let section = try #require(readme.components(separatedBy: "### Print files").dropFirst().first)
    let block = try #require(
      section.components(separatedBy: "```sh\n").dropFirst().first?.components(
        separatedBy: "\n```"
      ).first)
    let home = try Home(keyed: false)
    defer { home.remove() }
    let binaries = URL(fileURLWithPath: voucherBinary).deletingLastPathComponent().path
    let outcome = runBinary(
      ["-euo", "pipefail", "-c", block],
      environment: [
        "VOUCHER_HOME": home.path,
        "PATH": binaries + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
      ], directory: home.path, executable: "/bin/bash")
    #expect(outcome.status == 0, "\(outcome.stderr)")
    // Each line the block's comments promise.
    #expect(outcome.stdout.contains("card-000001.svg\ncard-000002.svg\n"))
    #expect(outcome.stdout.contains("box-0001.csv: as issued: "))
    #expect(FileManager.default.fileExists(atPath: home.path + "/box-0002.csv.manifest.json"))
  }
}
