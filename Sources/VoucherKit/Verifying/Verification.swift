import FoundationEssentials

/// A genuine code's meaning: which campaign, channel and serial it stands for.
public struct Voucher: Sendable, Hashable {
  /// The code in canonical form.
  public let code: VoucherCode
  /// Its campaign.
  public let campaign: Campaign
  /// Its channel's index in the campaign's channels.
  public let channelIndex: Int
  /// Its serial within the channel, from 1.
  public let serial: Int

  /// Its channel.
  public var channel: ChannelID { campaign.channels[channelIndex] }
}

/// The answer to "is this code good here and now?". An expected "no" is a value, not an error.
public enum Verification: Sendable, Hashable {
  /// Genuine, in its validity window, and usable at the venue asked about.
  case valid(Voucher)
  /// The text cannot be a code at all (a character that is no symbol, a wrong length).
  case malformed(MalformedCode)
  /// The check symbol does not match: a typing error. `suggestion` is the one code a single
  /// substitution or adjacent swap away that verifies, if exactly one does.
  case mistyped(VoucherCode, suggestion: VoucherCode?)
  /// The check symbol matches but the signature does not: not made with this key ring.
  case forged(VoucherCode)
  /// Genuine, but no campaign of this home owns it.
  case unknownCampaign(VoucherCode)
  /// Signed by a key that has been revoked.
  case revokedKey(VoucherCode, slot: KeySlot)
  /// Genuine, but its campaign has not started.
  case notYetValid(Voucher)
  /// Genuine, but its campaign has ended.
  case expired(Voucher)
  /// Genuine, but its campaign may not be redeemed at this venue.
  case wrongVenue(Voucher, venue: Venue)

  /// The status word of the answer.
  public var status: VerificationStatus {
    switch self {
    case .valid: return .valid
    case .malformed: return .malformed
    case .mistyped: return .mistyped
    case .forged: return .forged
    case .unknownCampaign: return .unknownCampaign
    case .revokedKey: return .revokedKey
    case .notYetValid: return .notYetValid
    case .expired: return .expired
    case .wrongVenue: return .wrongVenue
    }
  }

  /// The campaign, channel and serial, for answers about a genuine code.
  public var voucher: Voucher? {
    switch self {
    case .valid(let voucher), .notYetValid(let voucher), .expired(let voucher),
      .wrongVenue(let voucher, _):
      return voucher
    default:
      return nil
    }
  }

  /// The code as read, when the text could be read as one.
  public var code: VoucherCode? {
    switch self {
    case .malformed: return nil
    case .mistyped(let code, _), .forged(let code), .unknownCampaign(let code),
      .revokedKey(let code, _):
      return code
    case .valid(let voucher), .notYetValid(let voucher), .expired(let voucher),
      .wrongVenue(let voucher, _):
      return voucher.code
    }
  }
}

/// The status vocabulary shared by every command and the `serve` protocol.
public enum VerificationStatus: String, Sendable, Hashable, CaseIterable, Codable,
  CustomStringConvertible
{
  case valid
  case malformed
  case mistyped
  case forged
  case unknownCampaign = "unknown-campaign"
  case revokedKey = "revoked-key"
  case notYetValid = "not-yet-valid"
  case expired
  case wrongVenue = "wrong-venue"

  public var description: String { rawValue }
}
