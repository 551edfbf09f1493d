import FoundationEssentials

@testable import VoucherKit

#if canImport(Glibc)
  import Glibc
#endif

/// What every fuzz driver shares: the demo key ring, the `demo` campaign of `voucher demo`, a
/// fixed clock, and a check that stops the run when an invariant fails.
///
/// The demo key is read from `Keys/slot-00.key` of the working directory, or from the path in
/// `VOUCHER_FUZZ_KEY`; `.ci/fuzz` sets it.
enum FuzzFixture {
  /// The demo key ring, parsed from the committed demo key file.
  static let keyRing: KeyRing = {
    let path = ProcessInfo.processInfo.environment["VOUCHER_FUZZ_KEY"] ?? "Keys/slot-00.key"
    guard let data = FileManager.default.contents(atPath: path),
      let file = try? KeyFile.parse(Array(data), path: path)
    else {
      fatalError("fuzz fixture: cannot read the demo key at \(path)")
    }
    return KeyRing(keys: [(file.info, file.secret)])
  }()

  /// The campaign `voucher demo` adds: two channels, redeemable in stores, 40-bit tags.
  static let campaign = Campaign(
    Campaign.Fields(
      id: CampaignID("demo")!, title: "Demo: a free coffee with any cake",
      channels: [ChannelID("flyer")!, ChannelID("receipt")!], starts: nil, ends: nil, uses: 1,
      redeemAt: .store, tagBits: 40, capacity: 1_000_000, slot: KeySlot(0)!, base: 0,
      created: "2026-11-22T00:00:00Z"))

  /// A verifier over the demo key and campaign.
  static let verifier = Verifier(keyRing: keyRing, campaigns: CampaignBook([campaign]))

  /// The demo campaign's issuer.
  static let issuer = try! Issuer(campaign: campaign, keyRing: keyRing)

  /// The clock every driver uses: 2026-12-01T00:00:00Z.
  static let now = Date(timeIntervalSince1970: 1_796_083_200)

  /// A private folder for drivers that need files, made once per process.
  static let folder: String = {
    let base = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
    let path = "\(base)/voucher-fuzz-\(getpid())"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }()
}

/// Stops the run with a message when an invariant does not hold; libFuzzer then saves the input.
func require(_ condition: Bool, _ message: @autoclosure () -> String) {
  if !condition { fatalError("invariant failed: \(message())") }
}
