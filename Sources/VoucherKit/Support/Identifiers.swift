/// A campaign's identifier: 1 to 32 of `a-z`, `0-9` and `-`.
///
/// Distinct identifier types keep a campaign id from being passed where a channel name is meant.
public struct CampaignID: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
  /// The identifier's text.
  public let rawValue: String

  /// Creates an identifier, or returns `nil` when `rawValue` is not 1 to 32 of `a-z`, `0-9`, `-`.
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
        .init(codingPath: decoder.codingPath, debugDescription: "bad campaign id"))
    }
    self = value
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(rawValue)
  }
}

/// A distribution channel's name within a campaign (`flyer`, `receipt`, ...): 1 to 32 of `a-z`,
/// `0-9` and `-`.
public struct ChannelID: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
  /// The name's text.
  public let rawValue: String

  /// Creates a channel name, or returns `nil` when `rawValue` is not 1 to 32 of `a-z`, `0-9`, `-`.
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
        .init(codingPath: decoder.codingPath, debugDescription: "bad channel name"))
    }
    self = value
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(rawValue)
  }
}

/// The number of a key in the key ring, 0 to 30. It is the one part of a code printed in clear.
public struct KeySlot: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
  /// The highest usable slot; the symbol after it (`Z`) is reserved for a future code format.
  public static let maximum: UInt8 = 30

  /// The slot number.
  public let rawValue: UInt8

  /// Creates a slot, or returns `nil` above ``maximum``.
  public init?(_ rawValue: Int) {
    guard (0...Int(Self.maximum)).contains(rawValue) else { return nil }
    self.rawValue = UInt8(rawValue)
  }

  public var description: String { String(rawValue) }
  public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

  public init(from decoder: any Decoder) throws {
    let number = try decoder.singleValueContainer().decode(Int.self)
    guard let value = Self(number) else {
      throw DecodingError.dataCorrupted(
        .init(codingPath: decoder.codingPath, debugDescription: "bad key slot"))
    }
    self = value
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(Int(rawValue))
  }
}

/// Whether `text` is 1 to 32 of `a-z`, `0-9` and `-`.
func isSlug(_ text: String) -> Bool {
  let bytes = text.utf8
  guard (1...32).contains(bytes.count) else { return false }
  return bytes.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
}
