import FoundationEssentials

/// A setting of a campaign, or of an issue, that can be refused.
public enum CampaignSetting: Sendable, Hashable, CaseIterable {
  /// The distribution channels.
  case channels
  /// Redemptions allowed per code.
  case uses
  /// The signature's bits.
  case tagBits
  /// Codes per channel.
  case capacity
  /// What cashiers and reports show.
  case title
  /// The first valid day or moment.
  case starts
  /// The last valid day or moment.
  case ends
  /// How many codes to issue.
  case count
  /// Codes one profile may redeem per period.
  case perProfile

  /// The setting's name in words, as a library message uses it ("the number of uses").
  public var name: String {
    switch self {
    case .channels: return "the channels"
    case .uses: return "the number of uses"
    case .tagBits: return "the signature's bits"
    case .capacity: return "the capacity"
    case .title: return "the title"
    case .starts: return "the start"
    case .ends: return "the end"
    case .count: return "the number of codes"
    case .perProfile: return "the per-profile limit"
    }
  }
}

/// Why a campaign's settings, or an issue's count, were refused.
///
/// Each case names its setting (``setting``), so a front end can word it as its own option:
/// ``description(naming:)`` takes the words for each setting.
public enum CampaignSettingProblem: Sendable, Hashable, CustomStringConvertible {
  /// A campaign has 1 to 32 channels.
  case channelCount
  /// A channel is named twice.
  case duplicateChannel
  /// Uses must be from 1 to 255.
  case uses
  /// The signature's bits must be within `allowed`.
  case tagBits(allowed: ClosedRange<Int>)
  /// The capacity must be from 1 to `most` codes per channel for `channels` channels.
  case capacity(most: Int, channels: Int)
  /// A title has 1 to 200 characters.
  case titleLength
  /// A title has no control characters.
  case titleControlCharacters
  /// The start is not an ISO 8601 date (the text as given).
  case startsNotADate(String)
  /// The end is not an ISO 8601 date (the text as given).
  case endsNotADate(String)
  /// The end is not after the start.
  case endsNotAfterStarts
  /// An issue's count must be at least 1.
  case count
  /// A start after the campaign's first redemption (its time) would make redeemed codes
  /// not yet valid.
  case startsAfterRedemption(Date)
  /// Fewer uses than the most one code already has (that many).
  case usesBelowUsed(Int)
  /// A per-profile limit must be from 1 to 1,000,000.
  case perProfile

  /// The setting at fault.
  public var setting: CampaignSetting {
    switch self {
    case .channelCount, .duplicateChannel: return .channels
    case .uses: return .uses
    case .tagBits: return .tagBits
    case .capacity: return .capacity
    case .titleLength, .titleControlCharacters: return .title
    case .startsNotADate: return .starts
    case .endsNotADate, .endsNotAfterStarts: return .ends
    case .count: return .count
    case .startsAfterRedemption: return .starts
    case .usesBelowUsed: return .uses
    case .perProfile: return .perProfile
    }
  }

  /// What is wrong, naming each setting with `name`.
  ///
  /// - Parameter name: The words for a setting: its domain name, or a front end's option.
  /// - Returns: One sentence without a final period.
  public func description(naming name: (CampaignSetting) -> String) -> String {
    switch self {
    case .channelCount: return "a campaign has 1 to 32 channels"
    case .duplicateChannel: return "a channel is named twice"
    case .uses: return "\(name(.uses)) must be from 1 to 255"
    case .tagBits(let allowed):
      return "\(name(.tagBits)) must be from \(allowed.lowerBound) to \(allowed.upperBound)"
    case .capacity(let most, let channels):
      return "\(name(.capacity)) must be from 1 to \(most) with \(channels) channel(s)"
    case .titleLength: return "\(name(.title)) must be 1 to 200 characters"
    case .titleControlCharacters: return "\(name(.title)) must not contain control characters"
    case .startsNotADate(let text):
      return "\(name(.starts)) is not an ISO 8601 date: '\(printable(text))'"
    case .endsNotADate(let text):
      return "\(name(.ends)) is not an ISO 8601 date: '\(printable(text))'"
    case .endsNotAfterStarts: return "\(name(.ends)) must be after \(name(.starts))"
    case .count: return "\(name(.count)) must be at least 1"
    case .startsAfterRedemption(let first):
      return
        "\(name(.starts)) cannot move after the campaign's first redemption (\(ISO8601.format(first))): redeemed codes would be before it"
    case .usesBelowUsed(let most):
      return
        "\(name(.uses)) cannot be fewer than \(most): a code of the campaign has been redeemed \(most) time\(most == 1 ? "" : "s")"
    case .perProfile: return "\(name(.perProfile)) must be from 1 to 1000000"
    }
  }

  /// What is wrong, in the campaign's own words.
  public var description: String { description(naming: \.name) }
}
