/// The bytes of one row of a layout with chosen columns or a URL, made once per run: literal
/// pieces between the serial and the code, which the issuer fills in per code.
struct IssueRowTemplate: Sendable {
  /// One piece of a row.
  enum Piece: Sendable {
    case literal([UInt8])
    case serial
    case code
  }

  /// The pieces of every row after the first.
  let pieces: [Piece]
  /// The pieces of a run's first row (JSON has no comma before it).
  let firstPieces: [Piece]
  /// Bytes before the first row.
  let header: [UInt8]
  /// Bytes after the last row.
  let footer: [UInt8]
  /// The most bytes one row takes.
  let maximumRowLength: Int

  init(layout: IssueLayout, campaign: Campaign, channel: Int, printedCode: Int) {
    var row: [Piece] = []
    func literal(_ text: String) { row.append(.literal(Array(text.utf8))) }
    let channelName = campaign.channels[channel].description
    switch layout.format {
    case .text:
      row = [.code]
      literal("\n")
      header = []
      footer = []
    case .csv:
      for (index, column) in layout.columns.enumerated() {
        if index > 0 { literal(",") }
        switch column {
        case .serial: row.append(.serial)
        case .code: row.append(.code)
        case .url:
          let url = layout.url!
          if (url.prefix + url.suffix).contains(where: { $0 == "," || $0 == "\"" }) {
            literal("\"" + url.prefix.replacingOccurrences("\"", "\"\""))
            row.append(.code)
            literal(url.suffix.replacingOccurrences("\"", "\"\"") + "\"")
          } else {
            literal(url.prefix)
            row.append(.code)
            literal(url.suffix)
          }
        case .campaign: literal(campaign.id.description)
        case .channel: literal(channelName)
        case .ends: literal(campaign.ends ?? "")
        }
      }
      literal("\r\n")
      header = Array((layout.columns.map(\.rawValue).joined(separator: ",") + "\r\n").utf8)
      footer = []
    case .json:
      literal("{")
      for (index, column) in layout.columns.enumerated() {
        literal((index > 0 ? ", " : "") + "\"\(column)\": ")
        switch column {
        case .serial: row.append(.serial)
        case .code:
          literal("\"")
          row.append(.code)
          literal("\"")
        case .url:
          let url = layout.url!
          literal("\"" + jsonEscaped(url.prefix))
          row.append(.code)
          literal(jsonEscaped(url.suffix) + "\"")
        case .campaign: literal("\"\(campaign.id)\"")
        case .channel: literal("\"\(channelName)\"")
        case .ends: literal(campaign.ends.map { "\"\(jsonEscaped($0))\"" } ?? "null")
        }
      }
      literal("}")
      header = Array("[\n".utf8)
      footer = Array("\n]\n".utf8)
    }
    let prefix = layout.format == .json ? "  " : ""
    let separator = layout.format == .json ? ",\n  " : ""
    firstPieces = Self.merged([.literal(Array(prefix.utf8))] + row)
    pieces = Self.merged([.literal(Array(separator.utf8))] + row)
    maximumRowLength = pieces.reduce(0) { length, piece in
      switch piece {
      case .literal(let bytes): return length + bytes.count
      case .serial: return length + 20
      case .code: return length + printedCode
      }
    }
  }

  /// Adjacent literals joined, empty ones dropped.
  private static func merged(_ pieces: [Piece]) -> [Piece] {
    var result: [Piece] = []
    for piece in pieces {
      if case .literal(let bytes) = piece {
        if bytes.isEmpty { continue }
        if case .literal(let before)? = result.last {
          result[result.count - 1] = .literal(before + bytes)
          continue
        }
      }
      result.append(piece)
    }
    return result
  }
}

extension String {
  fileprivate func replacingOccurrences(_ target: Character, _ replacement: String) -> String {
    var result = ""
    for character in self {
      if character == target { result += replacement } else { result.append(character) }
    }
    return result
  }
}

/// A string's JSON escaping, without the quotes: `"` and `\` escaped, control characters as
/// `\u00XX` (templates have none, campaign fields may).
func jsonEscaped(_ text: String) -> String {
  var result = ""
  for scalar in text.unicodeScalars {
    switch scalar {
    case "\"": result += "\\\""
    case "\\": result += "\\\\"
    case _ where scalar.value < 0x20:
      let hex = String(scalar.value, radix: 16)
      result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
    default: result.unicodeScalars.append(scalar)
    }
  }
  return result
}
