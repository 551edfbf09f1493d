import Foundation

/// Shared fixtures of the test targets: hostile strings, a seeded generator, and a JSON reader.
public enum TestData {
  /// Why a fixture could not be found.
  public struct Missing: Error, CustomStringConvertible {
    public let description: String
  }

  /// Every string of the Big List of Naughty Strings in `../shared/data` (comments dropped). It
  /// is read from beside the repository, never copied into it; a missing file fails loudly.
  public static func naughtyStrings() throws -> [String] {
    var url = URL(fileURLWithPath: #filePath)
    while url.path != "/" {
      url.deleteLastPathComponent()
      let candidate = url.appendingPathComponent("shared/data/naughty-strings.txt")
      if FileManager.default.fileExists(atPath: candidate.path) {
        let text = try String(contentsOf: candidate, encoding: .utf8)
        return text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter
        { !$0.hasPrefix("#") }
      }
    }
    throw Missing(
      description: "../shared/data/naughty-strings.txt is missing: the hostile-input tests need it")
  }
}

/// A deterministic generator for property tests (SplitMix64), so a failure can be replayed.
public struct SeededGenerator: RandomNumberGenerator {
  private var state: UInt64
  public init(seed: UInt64) { state = seed }
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// Any JSON value, for reading output back.
public enum JSONValue: Decodable, Equatable, Sendable {
  case string(String)
  case number(Double)
  case bool(Bool)
  case null
  case array([JSONValue])
  case object([String: JSONValue])

  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    if container.decodeNil() {
      self = .null
    } else if let value = try? container.decode(Bool.self) {
      self = .bool(value)
    } else if let value = try? container.decode(Double.self) {
      self = .number(value)
    } else if let value = try? container.decode(String.self) {
      self = .string(value)
    } else if let value = try? container.decode([JSONValue].self) {
      self = .array(value)
    } else {
      self = .object(try container.decode([String: JSONValue].self))
    }
  }

  /// A member of an object.
  public subscript(key: String) -> JSONValue? {
    if case .object(let members) = self { return members[key] }
    return nil
  }

  /// The text of a string value.
  public var string: String? {
    if case .string(let text) = self { return text }
    return nil
  }
}
