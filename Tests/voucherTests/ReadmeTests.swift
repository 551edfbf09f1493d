import Foundation
import Testing

/// The package's folder, from this file's path.
let packageFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent().deletingLastPathComponent()

/// One command of a README block, with the answer its comment shows after `# →`.
struct ReadmeCommand {
  let command: String
  /// Pieces the output must hold in order (the comment's text after `→`, split at ` … `).
  let expected: [String]

  /// The commands of the first `sh` block after a heading, continuation lines joined.
  static func block(after heading: String, in readme: String) throws -> [ReadmeCommand] {
    let section = try #require(readme.range(of: "\n" + heading + "\n"))
    let rest = readme[section.upperBound...]
    let start = try #require(rest.range(of: "```sh\n"))
    let end = try #require(rest[start.upperBound...].range(of: "\n```\n"))
    var commands: [ReadmeCommand] = []
    var pending = ""
    for line in rest[start.upperBound..<end.lowerBound].split(separator: "\n") {
      if line.hasSuffix("\\") {
        pending += line.dropLast() + " "
        continue
      }
      let full = pending + line
      pending = ""
      let parts = full.components(separatedBy: " # ")
      let answer = parts.dropFirst().joined(separator: " # ").components(separatedBy: "→ ").dropFirst()
        .joined(separator: "→ ")
      commands.append(
        ReadmeCommand(
          command: parts[0].trimmingCharacters(in: .whitespaces),
          expected: answer.isEmpty ? [] : answer.components(separatedBy: " … ")))
    }
    return commands
  }
}

@Suite("The README runs as written")
struct ReadmeTests {
  @Test("'Using it': every command runs in a fresh home with the demo key and answers as the README shows")
  func usingIt() throws {
    let readme = try String(contentsOf: packageFolder.appendingPathComponent("README.md"), encoding: .utf8)
    let commands = try ReadmeCommand.block(after: "## Using it", in: readme)
    try #require(commands.count > 10)
    // The first line builds voucher and puts it on the PATH: here it is the binary under test.
    try #require(commands[0].command.hasPrefix("swift build -c release && export PATH="))
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("voucher-readme-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    try FileManager.default.copyItem(
      at: packageFolder.appendingPathComponent("Keys"), to: folder.appendingPathComponent("Keys"))
    var script = "export PATH='\(URL(fileURLWithPath: voucherBinary).deletingLastPathComponent().path)':\"$PATH\"\n"
    for (number, command) in commands.enumerated().dropFirst() {
      script += "echo '@@@ \(number)'\n\(command.command) 2>&1\necho \"@@@ status $?\"\n"
    }
    let run = runBinary(["-c", script], directory: folder.path, executable: "/bin/bash")
    #expect(run.status == 0 && run.stderr.isEmpty, "\(run.stderr)")
    let outputs = run.stdout.components(separatedBy: "@@@ ").dropFirst()
    try #require(outputs.count == (commands.count - 1) * 2, "\(run.stdout)")
    for (index, command) in commands.enumerated().dropFirst() {
      let output = outputs[outputs.startIndex + (index - 1) * 2]
      let status = outputs[outputs.startIndex + (index - 1) * 2 + 1]
      let refusal = command.expected.first.map { $0.hasPrefix("mistyped") || $0.hasPrefix("used-up") } ?? false
      #expect(status == "status \(refusal ? 1 : 0)\n", "\(command.command): \(output)")
      #expect(!output.contains("error:"), "\(command.command): \(output)")
      var remaining = output[...]
      for piece in command.expected {
        guard let found = remaining.range(of: piece) else {
          Issue.record("\(command.command): expected \(piece) in \(output)")
          break
        }
        remaining = remaining[found.upperBound...]
      }
    }
  }
}
