/// The keyed selection of an allocation's winning serials, and its commitment: pure functions of
/// the seed and the allocation's parameters, so that a reprint has the same winners, another
/// allocation cannot move them, and anyone given the seed after the campaign can recompute both
/// (the algorithm is in the `Prizes` article of the `voucher` catalog).
public enum PrizeSelection {
  /// The bytes a seed has.
  public static let seedBytes = 32

  /// The message whose MAC ranks `serial`:
  /// `"voucher-prize" 0x00 campaign 0x00 channel 0x00 serial` (8 bytes, big-endian).
  static func message(campaign: CampaignID, channel: ChannelID) -> [UInt8] {
    Array("voucher-prize".utf8) + [0] + Array(campaign.rawValue.utf8) + [0]
      + Array(channel.rawValue.utf8) + [0]
  }

  /// The winning serials of an allocation, each with its prize.
  ///
  /// Every serial from `first` to `last` is ranked by the first 8 bytes (big-endian) of
  /// HMAC-SHA256 keyed with the seed over `"voucher-prize" 0x00 campaign 0x00 channel 0x00` and the serial (8 bytes, big-endian); ties go
  /// to the smaller serial. The first tier takes the lowest `count` ranks, the next tier the
  /// following ones, and so on.
  ///
  /// - Parameters:
  ///   - seed: The allocation's secret seed.
  ///   - campaign: The campaign.
  ///   - channel: The channel.
  ///   - serials: The print run.
  ///   - tiers: The tiers, in order.
  /// - Returns: The prize of each winning serial.
  public static func winners(
    seed: [UInt8], campaign: CampaignID, channel: ChannelID, serials: ClosedRange<Int>,
    tiers: [PrizeTier]
  ) -> [Int: PrizeName] {
    let mac = HMACSHA256(key: seed)
    var message = self.message(campaign: campaign, channel: channel)
    let prefix = message.count
    message += [UInt8](repeating: 0, count: 8)
    var ranked: [(score: UInt64, serial: Int)] = []
    ranked.reserveCapacity(serials.count)
    for serial in serials {
      ranked.append((score(mac, &message, prefix: prefix, number: UInt64(serial)), serial))
    }
    ranked.sort { $0.score != $1.score ? $0.score < $1.score : $0.serial < $1.serial }
    var winners: [Int: PrizeName] = [:]
    var rank = 0
    for tier in tiers {
      for _ in 0..<tier.count where rank < ranked.count {
        winners[ranked[rank].serial] = tier.name
        rank += 1
      }
    }
    return winners
  }

  /// The rank score of `number`: it is written big-endian into the last 8 bytes of `message`
  /// (from `prefix`), and the score is the first 8 bytes, big-endian, of the message's MAC.
  static func score(_ mac: HMACSHA256, _ message: inout [UInt8], prefix: Int, number: UInt64)
    -> UInt64
  {
    var value = number
    for index in (0..<8).reversed() {
      message[prefix + index] = UInt8(truncatingIfNeeded: value)
      value >>= 8
    }
    var score: UInt64 = 0
    for byte in mac.authenticate(message).prefix(8) { score = score << 8 | UInt64(byte) }
    return score
  }

  /// The commitment to an allocation: SHA-256, in lower-case hexadecimal, of the text
  ///
  /// ```
  /// voucher-prize-commitment-v1
  /// seed: <the seed in lower-case hexadecimal>
  /// campaign: <id>
  /// channel: <name>
  /// serials: <first>-<last>
  /// tier: <name>:<count>        (one line per tier, in order)
  /// ```
  ///
  /// each line ended by a line feed.
  public static func commitment(
    seed: [UInt8], campaign: CampaignID, channel: ChannelID, serials: ClosedRange<Int>,
    tiers: [PrizeTier]
  ) -> String {
    var text = "voucher-prize-commitment-v1\n"
    text += "seed: \(hex(seed))\n"
    text += "campaign: \(campaign)\nchannel: \(channel)\n"
    text += "serials: \(serials.lowerBound)-\(serials.upperBound)\n"
    for tier in tiers { text += "tier: \(tier.name):\(tier.count)\n" }
    let hasher = SHA256Hasher()
    hasher.reset(Array(text.utf8))
    return hasher.finish()
  }

  /// Bytes in lower-case hexadecimal.
  public static func hex(_ bytes: [UInt8]) -> String {
    bytes.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
  }
}
