import FoundationEssentials
import VoucherKit
import VoucherRegistry
import VoucherService

/// `voucher demo`: the quick start. Issues a few codes of a demo campaign with the home's key
/// ring (the repository's demo key) and shows each kind of answer a cashier can get.
enum DemoCommand {
  static let spec = CommandSpec(
    name: "voucher demo",
    overview: """
      Walk through the product with the home's key ring: add the campaign 'demo' if missing, issue \
      five codes, check a genuine, a mistyped and a forged one, and redeem one twice.
      """,
    usage: "")

  static func run(_ arguments: [String], _ context: Context) throws -> Int32 {
    guard let options = try parse(spec, arguments, context) else { return ExitStatus.success }
    _ = try options.positionals(0, "")
    let console = context.console
    let ring = try context.keyRing()
    let store = context.home.campaignStore
    let id = CampaignID("demo")!
    var book = try store.load()
    if book.campaign(id) == nil {
      var spec = CampaignSpec(id: id, channels: [ChannelID("flyer")!, ChannelID("receipt")!])
      spec.title = "Demo: a free coffee with any cake"
      spec.redeemAt = .store
      _ = try store.add(spec, keyRing: ring, now: context.now)
      book = try store.load()
      try console.print(
        "1. Added campaign 'demo' (channels flyer and receipt, redeemable in stores).\n")
    } else {
      try console.print("1. Campaign 'demo' exists already.\n")
    }
    let campaign = book.campaign(id)!
    let issuer = try Issuer(campaign: campaign, keyRing: ring)
    if ring.info(for: campaign.slot)?.isDemo == true {
      console.warning("the demo key's secret is public: never print real vouchers with it")
    }
    // The registry before the first issue: once codes are out, it never appears by itself.
    let registry = try context.registry.open(campaigns: book, create: true)
    defer { reportWarnings(registry, context) }
    let serials = try context.home.issueLog(id).reserve(
      campaign: campaign, channel: campaign.channels[0], count: 5, first: nil, now: context.now)
    let codes = serials.map { issuer.code(channel: 0, serial: $0) }
    try console.print("2. Issued flyer serials \(serials.lowerBound) to \(serials.upperBound):\n")
    for (serial, code) in zip(serials, codes) { try console.print("     \(serial)  \(code)\n") }

    let verifier = Verifier(keyRing: ring, campaigns: book)
    let genuine = codes[0].description
    var typo = Array(genuine)
    typo.swapAt(5, 6)
    let forged = forgery(of: codes[0])
    try console.print("3. What a cashier sees at the till (voucher verify --at store CODE):\n")
    for (label, text) in [
      ("as printed", genuine),
      ("typed in lower case, no dashes", genuine.lowercased().filter { $0 != "-" }),
      ("two symbols swapped", String(typo)), ("a made-up code", forged),
    ] {
      let answer = Outcome(input: text, verifier.verify(text, at: .store, now: context.now))
      try console.print("     \(label):\n       \(answer.line)")
    }
    guard case .valid(let voucher) = verifier.verify(genuine, at: .store, now: context.now) else {
      throw CommandError(ExitStatus.software, "the demo's own code does not verify")
    }
    try console.print(
      "4. Redeeming it twice at the till (voucher redeem CODE --store S12 --terminal T3):\n")
    for attempt in 0..<2 {
      let answer = try registry.redeem(
        voucher, store: StoreID("S12"), terminal: TerminalID("T\(3 + attempt)"), now: context.now)
      try console.print("       " + Outcome(input: genuine, voucher: voucher, answer).line)
    }
    try console.print(
      "Next: 'voucher history \(genuine)', 'voucher registry check', 'voucher campaign show demo'.\n"
    )
    return ExitStatus.success
  }

  /// A code with a correct check symbol but a signature this key ring never made.
  private static func forgery(of code: VoucherCode) -> String {
    var symbols = Array(code.symbols)
    symbols[3] = symbols[3] == "7" ? "8" : "7"
    for check in "0123456789ABCDEFGHJKMNPQRSTVWXYZ" {
      symbols[symbols.count - 1] = check
      if let candidate = try? VoucherCode(parsing: String(symbols)), candidate.hasValidCheck {
        return candidate.description
      }
    }
    return String(symbols)
  }
}
