/// A draw among registrations, decided by a public random value (a beacon) published after
/// registration closed: anyone with the entries and the beacon gets the same winners (the
/// algorithm is in the `Prizes` article of the `voucher` catalog).
public enum Draw {
  /// One entry: a claim, by its event id.
  public struct Entry: Sendable, Hashable {
    /// The claim's event id: the order of entries, and what the beacon ranks.
    public let id: Int64
    /// The profile that claimed, `nil` once erased.
    public let profile: String?

    /// An entry for the claim `id` by `profile`.
    public init(id: Int64, profile: String?) {
      self.id = id
      self.profile = profile
    }
  }

  /// The entries of a draw: `claims` ordered by event id; with `perProfile`, only each profile's
  /// first claim, and none whose profile was erased; never a claim of a profile in `excluded`.
  public static func entries(
    _ claims: [Entry], perProfile: Bool, excluding excluded: Set<String> = []
  ) -> [Entry] {
    var seen = Set<String>()
    var entries: [Entry] = []
    for claim in claims.sorted(by: { $0.id < $1.id }) {
      if let profile = claim.profile, excluded.contains(profile) { continue }
      if perProfile {
        guard let profile = claim.profile, seen.insert(profile).inserted else { continue }
      }
      entries.append(claim)
    }
    return entries
  }

  /// The winners: entries ranked by the first 8 bytes (big-endian) of HMAC-SHA256 keyed with the
  /// beacon over `"voucher-draw" 0x00` and the event id (8 bytes, big-endian), ties to the
  /// smaller id; the first `count` win, in rank order.
  public static func winners(_ entries: [Entry], beacon: [UInt8], count: Int) -> [Entry] {
    let mac = HMACSHA256(key: beacon)
    var message = Array("voucher-draw".utf8) + [0] + [UInt8](repeating: 0, count: 8)
    let prefix = message.count - 8
    let ranked = entries.map { entry -> (score: UInt64, entry: Entry) in
      (
        PrizeSelection.score(mac, &message, prefix: prefix, number: UInt64(bitPattern: entry.id)),
        entry
      )
    }.sorted { $0.score != $1.score ? $0.score < $1.score : $0.entry.id < $1.entry.id }
    return ranked.prefix(count).map(\.entry)
  }
}
