/// The file registry's per-profile counts: for every campaign whose limits were asked for, the
/// events that name each profile (redemptions not undone, claims), by journal offset.
///
/// Derived from the journal alone and kept in memory: a process reads the journal once, under
/// the lock, when it first needs a count, and then only what was appended since. Nothing of it is
/// written, so there is nothing to rebuild or to damage; `registry rebuild` and `check` need not
/// know it. An entry is read again from the journal before it counts, so an erasure by another
/// process (`forget`, which zeroes the profile in place) is seen at once.
final class ProfileTally {
  /// One counted event.
  struct Entry: Hashable {
    /// The record's offset in the journal.
    let offset: Int64
    /// Its time, in milliseconds since 1970.
    let time: Int64
    /// A claim (else a redemption).
    let claim: Bool
  }

  /// A campaign's profile and the profile's name, as the key of its entries.
  struct Key: Hashable {
    let campaign: String
    let profile: String
  }

  /// The campaigns counted: those asked for so far (whatever the registry's campaign book said
  /// when it was opened, so a limit set on a running campaign counts its past too).
  let campaigns: Set<String>
  /// The journal offset up to which the tally counts (a commit's end).
  var scanned: Int64
  /// Each profile's entries, oldest first.
  var entries: [Key: [Entry]] = [:]
  /// The key of each counted redemption, for the void that undoes it.
  var redemptions: [Int64: Key] = [:]

  init(from start: Int64, campaigns: Set<String> = []) {
    scanned = start
    self.campaigns = campaigns
  }

  /// Counts one event of a campaign with limits.
  func add(_ key: Key, _ entry: Entry) {
    entries[key, default: []].append(entry)
    if !entry.claim { redemptions[entry.offset] = key }
  }

  /// Gives back the use of the redemption at `offset`, if it counted.
  func void(_ offset: Int64) {
    guard let key = redemptions.removeValue(forKey: offset) else { return }
    entries[key]?.removeAll { $0.offset == offset }
  }

  /// Stops counting the event at `offset`, which no longer names the profile (erased).
  func forget(_ offset: Int64, of key: Key) {
    redemptions[offset] = nil
    entries[key]?.removeAll { $0.offset == offset }
  }
}
