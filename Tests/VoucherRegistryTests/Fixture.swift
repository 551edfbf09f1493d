import Foundation
import Testing

@testable import VoucherKit
@testable import VoucherRegistry

/// A temporary home with a key, a campaign and helpers to make vouchers and open the registry.
struct Fixture {
  let home: VoucherHome
  let ring: KeyRing
  let book: CampaignBook
  let now = Date(timeIntervalSince1970: 1_790_000_000)

  /// - Parameter limits: The per-profile limits of the `summer` campaign, if any.
  init(uses: Int = 1, capacity: Int = 10_000, limits: ProfileLimits? = nil) throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent(
      "voucher-registry-\(UUID().uuidString)"
    ).path
    home = VoucherHome(path)
    try KeyRing.generate(in: home.keys, now: Date())
    ring = try KeyRing.load(from: home.keys)
    var spec = CampaignSpec(
      id: CampaignID("summer")!, channels: [ChannelID("flyer")!, ChannelID("receipt")!])
    spec.uses = uses
    spec.capacity = capacity
    spec.limits = limits
    _ = try home.campaignStore.add(spec, keyRing: ring, now: Date())
    var other = CampaignSpec(id: CampaignID("winter")!, channels: [ChannelID("email")!])
    other.capacity = 100
    _ = try home.campaignStore.add(other, keyRing: ring, now: Date())
    book = try home.campaignStore.load()
  }

  func remove() { try? FileManager.default.removeItem(atPath: home.path) }

  var campaign: Campaign { book.campaign(CampaignID("summer")!)! }

  /// The voucher of a serial of channel 0 (flyer), or of `channel`.
  func voucher(_ serial: Int, channel: Int = 0, campaign: String = "summer") throws -> Voucher {
    let campaign = book.campaign(CampaignID(campaign)!)!
    let code = try Issuer(campaign: campaign, keyRing: ring).code(channel: channel, serial: serial)
    guard case .valid(let voucher) = Verifier(keyRing: ring, campaigns: book).verify(code, now: now)
    else {
      throw TestFailure("the fixture's code does not verify")
    }
    return voucher
  }

  func registry(files: any FileLayer = SystemFiles(), lockTimeout: Double = 5) throws -> Registry {
    try Registry.open(
      folder: home.registry, campaigns: book, create: true, lockTimeout: lockTimeout, files: files)
  }

  var journalPath: String { home.registry + "/journal" }

  func journalBytes() throws -> [UInt8] {
    Array(try Data(contentsOf: URL(fileURLWithPath: journalPath)))
  }

  func writeJournal(_ bytes: [UInt8]) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: journalPath))
  }
}

/// The commits (frames) of a journal's bytes: where each starts and ends. Its first record
/// starts `Journal.frameHeaderSize` bytes after its start.
func journalFrames(_ bytes: [UInt8]) -> [(start: Int, end: Int)] {
  var frames: [(start: Int, end: Int)] = []
  var offset = Int(Journal.headerSize)
  while offset + Journal.frameHeaderSize <= bytes.count, bytes[offset] == Journal.frameMarker {
    let length =
      Int(bytes[offset + 4]) | Int(bytes[offset + 5]) << 8 | Int(bytes[offset + 6]) << 16
      | Int(bytes[offset + 7]) << 24
    frames.append((offset, offset + Journal.frameHeaderSize + length))
    offset += Journal.frameHeaderSize + length
  }
  return frames
}

struct TestFailure: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

extension RedeemAnswer {
  var receipt: Receipt? {
    if case .redeemed(let receipt, _) = self { return receipt }
    return nil
  }
}
