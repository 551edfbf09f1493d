/// A prize tier's name (`gift-card`, `coffee`): 1 to 32 of `a-z`, `0-9` and `-`.
///
/// The name is what a claim answers (`"prize": "gift-card"`) and what the registry records with
/// the claim, so it is kept as plain as a campaign id.
public struct PrizeName: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
  /// The name's text.
  public let rawValue: String

  /// Creates a prize name, or returns `nil` when `rawValue` is not 1 to 32 of `a-z`, `0-9`, `-`.
  public init?(_ rawValue: String) {
    guard isSlug(rawValue) else { return nil }
    self.rawValue = rawValue
  }

  public var description: String { rawValue }
  public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

  public init(from decoder: any Decoder) throws {
    let text = try decoder.singleValueContainer().decode(String.self)
    guard let value = Self(text) else {
      throw DecodingError.dataCorrupted(
        .init(codingPath: decoder.codingPath, debugDescription: "bad prize name"))
    }
    self = value
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(rawValue)
  }
}

/// One tier of an allocation: so many winning serials of one prize.
public struct PrizeTier: Sendable, Hashable, Codable {
  /// The prize.
  public let name: PrizeName
  /// How many serials win it.
  public let count: Int

  /// A tier of `count` winners of `name`.
  public init(name: PrizeName, count: Int) {
    self.name = name
    self.count = count
  }
}
