import FoundationEssentials

@testable import VoucherKit

/// Fuzzes loading campaign files: the input, split at NUL bytes, becomes up to three files
/// (`demo.campaign`, `summer.campaign`, `winter.campaign`) in a private folder, which
/// `CampaignStore.load()` reads.
///
/// Checks: nothing traps; every loaded campaign owns its range in the book; for a campaign of the
/// demo key's slot, the first and last codes of its first and last channels verify as that
/// campaign's, channel's and serial's.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCampaign(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = UnsafeBufferPointer(start: data, count: size)
  let folder = FuzzFixture.folder
  let parts = bytes.split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
  for (index, name) in ["demo", "summer", "winter"].enumerated() {
    let path = "\(folder)/\(name).campaign"
    if index < parts.count {
      require(
        FileManager.default.createFile(atPath: path, contents: Data(parts[index])),
        "cannot write \(path)")
    } else {
      try? FileManager.default.removeItem(atPath: path)
    }
  }

  let book: CampaignBook
  do {
    book = try CampaignStore(folder: folder).load()
  } catch {
    _ = error.description
    return 0
  }
  let verifier = Verifier(keyRing: FuzzFixture.keyRing, campaigns: book)
  for campaign in book.campaigns {
    _ = campaign.startDate
    _ = campaign.endDate
    require(book.campaign(campaign.id) == campaign, "\(campaign.id) is not found by id")
    for payload in [campaign.base, campaign.base + campaign.span - 1] {
      require(
        book.campaign(slot: campaign.slot.rawValue, payload: payload) == campaign,
        "\(campaign.id) does not own payload \(payload)")
    }
    guard let issuer = try? Issuer(campaign: campaign, keyRing: FuzzFixture.keyRing) else {
      continue
    }
    for channel in Set([0, campaign.channels.count - 1]) {
      for serial in Set([1, campaign.capacity]) {
        let code = issuer.code(channel: channel, serial: serial)
        let voucher = verifier.verify(code.description, now: FuzzFixture.now).voucher
        require(
          voucher?.campaign == campaign && voucher?.channelIndex == channel
            && voucher?.serial == serial,
          "\(code) of \(campaign.id) \(channel)/\(serial) verifies as \(String(describing: voucher))"
        )
      }
    }
  }
  return 0
}
