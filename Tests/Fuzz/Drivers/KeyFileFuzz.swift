import FoundationEssentials

@testable import VoucherKit

#if canImport(Glibc)
  import Glibc
#endif

/// Fuzzes key files: the parser directly, and `KeyRing.load` on the input written as
/// `slot-00.key` (mode 0600) in a private folder.
///
/// Checks: nothing traps; a parsed key file renders to text that parses to the same key; a ring
/// loaded from an active key issues codes that the ring verifies as valid.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzKeyFile(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))
  do {
    let file = try KeyFile.parse(bytes, path: "fuzz/slot-00.key")
    let again = try KeyFile.parse(file.render(), path: "fuzz/slot-00.key")
    require(again.info == file.info && again.secret == file.secret, "a key file renders back")
  } catch {
    _ = error.description
  }

  let folder = FuzzFixture.folder
  let path = folder + "/slot-00.key"
  require(
    FileManager.default.createFile(atPath: path, contents: Data(bytes)), "cannot write \(path)")
  chmod(path, 0o600)
  let ring: KeyRing
  do {
    ring = try KeyRing.load(from: folder)
  } catch {
    _ = error.description
    return 0
  }
  guard let key = ring.keys.first, key.state == .active else { return 0 }
  let campaign = Campaign(
    Campaign.Fields(
      id: CampaignID("fuzz")!, title: "fuzz", channels: [ChannelID("flyer")!], starts: nil,
      ends: nil, uses: 1, redeemAt: .any, tagBits: 40, capacity: 1000, slot: key.slot, base: 0,
      created: "2026-11-22T00:00:00Z"))
  let issuer = try! Issuer(campaign: campaign, keyRing: ring)
  let verifier = Verifier(keyRing: ring, campaigns: CampaignBook([campaign]))
  let code = issuer.code(channel: 0, serial: 1000)
  let answer = verifier.verify(code.description, now: FuzzFixture.now)
  require(answer.status == .valid, "\(code) of a loaded key verifies as \(answer.status)")
  return 0
}
