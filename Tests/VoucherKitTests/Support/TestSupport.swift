import Foundation
import Testing
import VoucherTestSupport

@testable import VoucherKit

/// Rows of a tab-separated vector file copied from `../shared/vectors/` into the test bundle.
func vectorRows(_ name: String) throws -> [[String: String]] {
  let url = try #require(Bundle.module.url(forResource: "Vectors/\(name)", withExtension: "tsv"))
  let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").filter {
    !$0.hasPrefix("#")
  }
  let header = lines[0].split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
  return lines.dropFirst().map { line in
    let cells = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
    return Dictionary(uniqueKeysWithValues: zip(header, cells))
  }
}

/// Bytes of a hexadecimal string.
func hex(_ text: String) -> [UInt8] { decodeHex(text)! }

/// A fresh temporary folder, removed by the caller's `defer`.
func temporaryFolder() throws -> String {
  let path = FileManager.default.temporaryDirectory.appendingPathComponent(
    "voucher-test-\(UUID().uuidString)"
  ).path
  try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  return path
}

/// A key ring in memory with fixed secrets, one per slot given.
func testRing(_ slots: [Int: UInt8], states: [Int: KeyState] = [:]) -> KeyRing {
  KeyRing(
    keys: slots.map { slot, fill in
      let info = KeyInfo(
        slot: KeySlot(slot)!, state: states[slot] ?? .active, created: "2026-01-01T00:00:00Z",
        isDemo: false, bits: 256)
      return (info, [UInt8](repeating: fill, count: 32))
    })
}

/// A campaign placed by hand, for tests that need no files.
func testCampaign(
  _ id: String = "summer", channels: [String] = ["flyer", "receipt"], capacity: Int = 1_000_000,
  base: Int = 0,
  slot: Int = 0, tagBits: Int = 40, starts: String? = nil, ends: String? = nil,
  redeemAt: RedemptionPolicy = .any
) -> Campaign {
  Campaign(
    Campaign.Fields(
      id: CampaignID(id)!, title: "Test \(id)", channels: channels.map { ChannelID($0)! },
      starts: starts, ends: ends, uses: 1,
      redeemAt: redeemAt, tagBits: tagBits, capacity: capacity, slot: KeySlot(slot)!, base: base,
      created: "2026-01-01T00:00:00Z"))
}

/// The Big List of Naughty Strings (see `TestData`).
func naughtyStrings() throws -> [String] { try TestData.naughtyStrings() }
