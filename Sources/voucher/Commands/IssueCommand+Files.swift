import FoundationEssentials
import VoucherKit

#if canImport(Glibc)
  import Glibc
#endif

extension IssueCommand {
  /// What `issue` was asked to write besides the codes: columns, links, boxes, QR codes.
  struct Request {
    let layout: IssueLayout
    /// Codes per file (`--per-file`).
    let perFile: Int?
    /// The QR error correction level, when `--qr svg` asks for QR codes.
    let qr: QRErrorCorrection?
    /// The link template (also with `--qr`, where the layout has none).
    let url: URLTemplate?

    init(_ options: ParsedArguments, format: IssueFormat) throws {
      do {
        url = try options.value("url").map(URLTemplate.init)
      } catch {
        throw CommandError.usage(error.description)
      }
      let columns = try options.value("columns").map(Self.columns)
      perFile = try options.integer("per-file", in: 1...Campaign.codeSpacePerKey)
      if perFile != nil && options.value("output") == nil {
        throw CommandError.usage("--per-file goes with --output naming the files")
      }
      if let kind = options.value("qr") {
        guard kind == "svg" else {
          throw CommandError.usage("--qr must be svg, not '\(printable(kind))'")
        }
        guard options.value("output") != nil else {
          throw CommandError.usage("--qr svg needs --output naming a folder for the SVG files")
        }
        for option in ["format", "columns", "per-file"] where options.value(option) != nil {
          throw CommandError.usage("--qr writes one SVG per code; --\(option) goes with code files")
        }
        let level = options.value("qr-level") ?? "M"
        guard let parsed = QRErrorCorrection(rawValue: level.uppercased()) else {
          throw CommandError.usage(
            "--qr-level must be one of L, M, Q, H, not '\(printable(level))'")
        }
        qr = parsed
        layout = try! IssueLayout(format: .text)
        return
      }
      if options.value("qr-level") != nil {
        throw CommandError.usage("--qr-level goes with --qr svg")
      }
      qr = nil
      do {
        layout = try IssueLayout(format: format, columns: columns, url: url)
      } catch {
        throw CommandError.usage(error.description)
      }
    }

    /// The columns of `--columns`.
    static func columns(_ text: String) throws -> [IssueColumn] {
      try text.split(separator: ",", omittingEmptySubsequences: false).map { name in
        guard let column = IssueColumn(rawValue: String(name)) else {
          let names = IssueColumn.allCases.map(\.rawValue).joined(separator: ", ")
          throw CommandError.usage(
            "--columns names an unknown column '\(printable(String(name)))'; columns are \(names)")
        }
        return column
      }
    }
  }

  /// One issue run's fixed parts, for the writers of files and QR folders.
  struct Run {
    let context: Context
    let campaign: Campaign
    let channel: ChannelID
    let channelIndex: Int
    let issuer: Issuer
    let ring: KeyRing
    let count: Int
    let first: Int?
    let threads: Int
    let force: Bool

    /// Reserves the serials and runs `stage` on them before they are recorded (a file is written
    /// and synced there), then `commit` once they are (a file moves into place, or output that
    /// cannot be taken back is written); on failure runs `discard` and, when the range was
    /// recorded anyway, says how to print it again.
    ///
    /// A failed write before the record records nothing; a file moves into place only after the
    /// record, so a code that anyone can see is always on record and no later run hands it out
    /// again.
    func issue(
      stage: (ClosedRange<Int>) throws -> Void, commit: (ClosedRange<Int>) throws -> Void,
      discard: () -> Void
    ) throws -> ClosedRange<Int> {
      var recorded: ClosedRange<Int>?
      do {
        recorded = try context.home.issueLog(campaign.id).reserve(
          campaign: campaign, channel: channel, count: count, first: first, now: context.now,
          beforeRecording: stage)
        try commit(recorded!)
        return recorded!
      } catch {
        discard()
        guard let recorded else { throw error }
        throw IssueCommand.recordedFailure(
          error, recorded, campaign: campaign.id, channel: channel)
      }
    }

    /// `--output FILE` to a regular file: the codes, and `FILE.manifest.json` beside each file;
    /// with `--per-file`, one file and manifest per box.
    func writeFiles(path: String, layout: IssueLayout, perFile: Int?) throws -> Int32 {
      let size = perFile ?? count
      let partCount = (count + size - 1) / size
      // Every box stays open (a staged file and its manifest) until the run is on record.
      let openable = raiseOpenFileLimit()
      guard partCount <= min(9999, (openable - 64) / 2) else {
        throw CommandError.usage(
          "--per-file \(size) would make \(partCount) files; at most \(min(9999, (openable - 64) / 2)) at once (the limit of open files, ulimit -n, allows \(openable))"
        )
      }
      let paths = perFile == nil ? [path] : (1...partCount).map { partPath(path, $0) }
      for file in paths {
        if perFile != nil && !Output.isFileDestination(file) {
          throw CommandError(
            ExitStatus.cannotCreate,
            "\(printable(file)) is not a regular file; --per-file writes files")
        }
        let manifest = file + ".manifest.json"
        if !force && FileSystem.exists(manifest) {
          throw CommandError(
            ExitStatus.cannotCreate, "\(printable(manifest)) exists; pass --force to replace it")
        }
      }
      var outputs: [Output] = []
      var manifests: [StagedFile] = []
      defer { for staged in manifests { staged.discard() } }
      do {
        for file in paths {
          outputs.append(try Output(path: file, force: force, console: context.console))
        }
      } catch {
        for output in outputs { output.discard() }
        throw error
      }
      let issued = ISO8601.format(context.now)
      let progress = Progress(context: context, total: count)
      let serials = try issue(
        stage: { serials in
          for (index, output) in outputs.enumerated() {
            let lower = serials.lowerBound + index * size
            let part = lower...min(serials.upperBound, lower + size - 1)
            let hasher = SHA256Hasher()
            var bytes = 0
            try issuer.write(
              channel: channelIndex, serials: part, layout: layout, threads: threads,
              to: { raw in
                hasher.update(raw)
                bytes += raw.count
                try output.write(raw: raw)
              },
              progress: { progress.show(index * size + $0) })
            try output.finishWriting()
            let manifest = try IssueManifest(
              campaign: campaign.id, channel: channel, serials: part,
              part: perFile == nil ? nil : index + 1, parts: perFile == nil ? nil : partCount,
              layout: layout, file: baseName(paths[index]), bytes: bytes,
              sha256: hasher.finish(), issued: issued, keySlot: campaign.slot
            ).signed(with: ring)
            let staged: StagedFile
            do {
              staged = try StagedFile(for: paths[index] + ".manifest.json")
              manifests.append(staged)
              try staged.write(try manifest.json())
            } catch let error as SystemError {
              throw CommandError(ExitStatus.cannotCreate, error.description)
            }
          }
        },
        commit: { _ in
          for output in outputs { try output.commit(force: force) }
          for staged in manifests {
            do {
              try staged.commit(replace: force)
            } catch let error as SystemError {
              throw CommandError(ExitStatus.cannotCreate, error.description)
            }
          }
          manifests = []
        },
        discard: { for output in outputs { output.discard() } })
      let files =
        paths.count == 1
        ? "\(printable(path)), with its manifest \(printable(path)).manifest.json"
        : "\(paths.count) files \(printable(paths[0])) to \(printable(paths[paths.count - 1])), each with its manifest"
      try context.console.print(
        "wrote \(count) codes of campaign \(campaign.id), channel \(channel), serials \(serials.lowerBound) to \(serials.upperBound), to \(files)\n"
      )
      return ExitStatus.success
    }

    /// Standard output, a device, a FIFO or a terminal: what is written cannot be taken back, so
    /// the range is recorded first, and no manifest is written.
    func writeStream(output: Output, layout: IssueLayout) throws -> Int32 {
      let progress = Progress(context: context, total: count)
      let serials = try issue(
        stage: { _ in },
        commit: { serials in
          try issuer.write(
            channel: channelIndex, serials: serials, layout: layout, threads: threads,
            to: { try output.write(raw: $0) }, progress: progress.show)
          try output.commit(force: force)
        },
        discard: { output.discard() })
      if let path = output.path {
        try context.console.print(
          "wrote \(count) codes of campaign \(campaign.id), channel \(channel), serials \(serials.lowerBound) to \(serials.upperBound), to \(printable(path))\n"
        )
      }
      return ExitStatus.success
    }

    /// `--qr svg --output DIR`: one SVG per code.
    func writeQR(folder: String, qr level: QRErrorCorrection, url: URLTemplate?) throws -> Int32 {
      // Every code of a campaign has the same length and alphabet: if one fits, all do.
      let sample = issuer.code(channel: channelIndex, serial: 1).description
      do {
        _ = try QRCode(url?.link(sample) ?? sample, level: level)
      } catch {
        throw CommandError.usage("the --url link does not fit a QR code at level \(level)")
      }
      let svg = try SVGFolder(path: folder, force: force)
      let issuer = self.issuer
      let channelIndex = self.channelIndex
      let channel = self.channel
      let capacity = campaign.capacity
      let serials = try issue(
        stage: { serials in
          try svg.stage(
            serials, names: { SVGFolder.name(channel: channel, serial: $0, capacity: capacity) },
            threads: threads, level: level,
            text: { serial in
              let code = issuer.code(channel: channelIndex, serial: serial).description
              return url?.link(code) ?? code
            })
        },
        commit: { _ in try svg.commit() }, discard: { svg.discard() })
      try context.console.print(
        "wrote \(count) QR codes of campaign \(campaign.id), channel \(channel), serials \(serials.lowerBound) to \(serials.upperBound), to \(printable(folder))\n"
      )
      return ExitStatus.success
    }
  }

  /// A failure after the range was recorded: what failed, and how to print the range again.
  static func recordedFailure(
    _ error: any Error, _ recorded: ClosedRange<Int>, campaign: CampaignID, channel: ChannelID
  ) -> CommandError {
    let failure = CommandError(error)
    return CommandError(
      failure.status,
      "\(failure.message); serials \(recorded.lowerBound) to \(recorded.upperBound) are recorded as issued: print them again with 'voucher issue --campaign \(campaign) --channel \(channel) --first \(recorded.lowerBound) --count \(recorded.count)'"
    )
  }

  /// Progress on stderr for long runs, when stderr is a terminal.
  final class Progress {
    private let context: Context
    private let total: Int
    private let shown: Bool
    private var last = Date.distantPast

    init(context: Context, total: Int) {
      self.context = context
      self.total = total
      shown = context.console.errorIsTerminal && total >= 200_000
    }

    func show(_ done: Int) {
      guard shown, Date().timeIntervalSince(last) > 0.25 || done == total else { return }
      last = Date()
      context.console.writeError("\rissued \(done) of \(total) codes")
      if done == total { context.console.writeError("\n") }
    }
  }
}

/// The path of box `index` of a split output: `-0001` before the extension of the file's name.
func partPath(_ path: String, _ index: Int) -> String {
  let number = "-" + String(index).leftPadded(to: 4)
  let slash = path.lastIndex(of: "/").map { path.index(after: $0) } ?? path.startIndex
  let name = path[slash...]
  guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return path + number }
  return String(path[..<dot]) + number + String(path[dot...])
}

/// Raises the soft limit of open files to the hard one; answers the limit in force.
func raiseOpenFileLimit() -> Int {
  var limit = rlimit()
  guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
  if limit.rlim_cur < limit.rlim_max {
    var raised = limit
    raised.rlim_cur = limit.rlim_max
    if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
  }
  return Int(min(limit.rlim_cur, rlim_t(Int32.max)))
}

/// A path's last component.
func baseName(_ path: String) -> String {
  path.split(separator: "/", omittingEmptySubsequences: true).last.map(String.init) ?? path
}

extension IssueManifest {
  /// The manifest as a pretty-printed JSON document with sorted keys.
  func json() throws -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return Array(try encoder.encode(self)) + [0x0A]
  }
}
