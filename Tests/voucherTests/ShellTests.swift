import Foundation
import Testing

/// The path of a program on this machine, if installed.
func installed(_ program: String) -> String? {
  ["/usr/bin/", "/bin/", "/usr/local/bin/"].map { $0 + program }.first {
    FileManager.default.isExecutableFile(atPath: $0)
  }
}

/// Every command's help, as `voucher help ...` prints it, parsed: words after `voucher`, usage
/// line, options.
struct HelpPage {
  let words: [String]
  let usage: String
  let options: [String]
  let subcommands: [String]

  init(_ words: [String]) throws {
    self.words = words
    let shown = runBinary(["help"] + words)
    try #require(shown.status == 0, "\(words): \(shown.stderr)")
    let lines = shown.stdoutLines
    usage = lines.first { $0.hasPrefix("USAGE: ") } ?? ""
    func section(_ title: String) -> [String] {
      guard let start = lines.firstIndex(of: title + ":") else { return [] }
      return lines[(start + 1)...].prefix { !$0.isEmpty }.compactMap {
        let word = $0.split(separator: " ").first.map(String.init)
        return $0.hasPrefix("  ") && !$0.hasPrefix("    ") ? word : nil
      }
    }
    options = section("OPTIONS").filter { $0.hasPrefix("--") && $0 != "--help" }
      .map { String($0.split(separator: ",")[0]) }
    subcommands = section("SUBCOMMANDS")
  }

  /// `voucher` and every command and group subcommand, from the help pages themselves.
  static func all() throws -> [HelpPage] {
    let top = try HelpPage([])
    var pages = [top]
    for name in top.subcommands where name != "help" {
      let page = try HelpPage([name])
      pages.append(page)
      for sub in page.subcommands { pages.append(try HelpPage([name, sub])) }
    }
    return pages
  }
}

@Suite("Shell conventions: completions, a manual page, complete usage lines")
struct ShellTests {
  @Test("every option a help page lists is in its USAGE line")
  func usageLinesComplete() throws {
    for page in try HelpPage.all() {
      for option in page.options {
        #expect(page.usage.contains(option), "\(page.words): \(option) is missing from \(page.usage)")
      }
    }
  }

  /// A shell's completion script written into a new temporary folder.
  func writeScript(_ shell: String, as name: String) throws -> (folder: URL, file: String) {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "voucher-\(shell)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let script = runBinary(["completions", shell])
    try #require(script.status == 0)
    let file = folder.appendingPathComponent(name).path
    try script.stdout.write(toFile: file, atomically: true, encoding: .utf8)
    return (folder, file)
  }

  /// Completions of `line` (a command line with the word being completed last) in bash.
  func bashCompletions(_ script: String, _ line: [String]) -> [String] {
    let words = line.map { "'" + $0 + "'" }.joined(separator: " ")
    let run = runBinary(
      [
        "-c",
        "source /dev/stdin; COMP_WORDS=(\(words)); COMP_CWORD=\(line.count - 1); _voucher; printf '%s\\n' \"${COMPREPLY[@]}\"",
      ], stdin: Data(script.utf8), executable: "/bin/bash")
    #expect(run.status == 0 && run.stderr.isEmpty, "\(run.stderr)")
    return run.stdoutLines.filter { !$0.isEmpty }
  }

  @Test("bash: every command, group subcommand and option completes; values offer their choices")
  func bash() throws {
    // Anywhere: completions and the manual read no home (here one writable by every user).
    let script = runBinary(["completions", "bash"], directory: "/tmp")
    try #require(script.status == 0, "\(script.stderr)")
    #expect(runBinary(["manual"], directory: "/tmp").status == 0)
    let unknown = runBinary(["completions", "tcsh\u{1b}"])
    #expect(unknown.status == 64 && unknown.stderrLines == [#"error: unknown shell 'tcsh\u{1B}'; give bash, zsh or fish"#])
    for page in try HelpPage.all() {
      if page.words.count == 1 {
        #expect(bashCompletions(script.stdout, ["voucher", String(page.words[0].prefix(2))]).contains(page.words[0]))
      }
      for sub in page.subcommands where !page.words.isEmpty {
        #expect(bashCompletions(script.stdout, ["voucher"] + page.words + [""]).contains(sub), "\(page.words) \(sub)")
      }
      for option in page.options where !page.words.isEmpty {
        #expect(
          bashCompletions(script.stdout, ["voucher", "--home", "/tmp"] + page.words + ["--"]).contains(option),
          "\(page.words) \(option)")
      }
    }
    #expect(bashCompletions(script.stdout, ["voucher", "verify", "--format", ""]) == ["text", "json"])
    #expect(bashCompletions(script.stdout, ["voucher", "help", "red"]) == ["redeem"])
    #expect(bashCompletions(script.stdout, ["voucher", "registry", "ch"]) == ["check"])
    #expect(bashCompletions(script.stdout, ["voucher", "redeem", "--store", ""]) == [])
  }

  @Test(
    "fish: commands, subcommands, options and choices, with their help",
    .enabled(if: installed("fish") != nil, "Debian's fish is not installed (.ci/run installs it)"))
  func fish() throws {
    let (folder, file) = try writeScript("fish", as: "voucher.fish")
    defer { try? FileManager.default.removeItem(at: folder) }
    func complete(_ line: String) -> [String] {
      let run = runBinary(
        ["-N", "-c", "source \(file); complete -C '\(line)'"], executable: installed("fish")!)
      #expect(run.status == 0 && run.stderr.isEmpty, "\(run.stderr)")
      return run.stdoutLines.map { String($0.split(separator: "\t")[0]) }
    }
    #expect(complete("voucher red") == ["redeem"])
    #expect(Set(complete("voucher registry ")).isSuperset(of: ["init", "check", "rebuild"]))
    #expect(Set(complete("voucher verify --format ")) == ["text", "json"])
    #expect(complete("voucher redeem --sto") == ["--store"])
    for page in try HelpPage.all() where page.words.count == 1 && page.subcommands.isEmpty {
      let offered = Set(complete("voucher \(page.words[0]) --"))
      #expect(offered.isSuperset(of: page.options), "\(page.words): \(offered)")
    }
  }

  @Test(
    "zsh: a TAB in an interactive zsh completes commands, subcommands, options and choices",
    .enabled(if: installed("zsh") != nil, "Debian's zsh is not installed (.ci/run installs it)"))
  func zsh() throws {
    let (folder, file) = try writeScript("zsh", as: "_voucher")
    defer { try? FileManager.default.removeItem(at: folder) }
    #expect(runBinary(["-n", file], executable: installed("zsh")!).status == 0)
    // An interactive zsh on a pseudo-terminal (zsh/zpty): type the line and a TAB, then print
    // what the line became.
    let driver = """
      zmodload zsh/zpty
      zpty z zsh -f -i
      zpty -w z "PROMPT='> '; fpath=(\(folder.path) \\$fpath); autoload -U compinit; compinit -u -D; bindkey -e"
      sleep 0.5
      zpty -w -n z "$1"$'\\t'
      sleep 0.5
      zpty -w -n z $'\\C-aprint -r -- LINE:\\C-e:END\\n'
      local out= all=
      for i in {1..50}; do
        while zpty -r -t z out; do all+=$out; done
        [[ $all == *$'\\n'LINE:*:END* ]] && break
        sleep 0.1
      done
      zpty -d z
      all=${all##*$'\\n'LINE:}
      print -r -- ${all%%:END*}
      """
    let driverFile = folder.appendingPathComponent("driver.zsh").path
    try driver.write(toFile: driverFile, atomically: true, encoding: .utf8)
    func completed(_ line: String) -> String {
      runBinary(["-f", driverFile, line], executable: installed("zsh")!, timeout: 20).stdoutLines.last ?? ""
    }
    #expect(completed("voucher red") == "voucher redeem")
    #expect(completed("voucher registry che") == "voucher registry check")
    #expect(completed("voucher verify --format j") == "voucher verify --format json")
    #expect(completed("voucher redeem --sto") == "voucher redeem --store")
  }

  @Test(
    "the manual page: roff that groff renders without a warning, every command and option in it",
    .enabled(if: installed("groff") != nil, "groff is not installed (Debian's groff-base)"))
  func manual() throws {
    let page = runBinary(["manual"])
    try #require(page.status == 0)
    #expect(page.stdout.hasPrefix(#".\" The manual page of voucher"#))
    let rendered = runBinary(
      ["-man", "-Tutf8", "-ww", "-rLL=200n"], stdin: Data(page.stdout.utf8),
      environment: ["GROFF_NO_SGR": "1"], executable: installed("groff")!)
    #expect(rendered.status == 0 && rendered.stderr.isEmpty, "\(rendered.stderr)")
    // Plain text: overstriking (bold, underline) taken out.
    let text = rendered.stdout.replacing(/.\x{08}/, with: "")
    for help in try HelpPage.all() where !help.words.isEmpty {
      #expect(text.contains("voucher " + help.words.joined(separator: " ")), "\(help.words)")
      for option in help.options {
        #expect(text.contains(option), "\(help.words) \(option)")
      }
    }
    #expect(text.contains("EXIT STATUS") && text.contains("VOUCHER_HOME"))
  }
}
