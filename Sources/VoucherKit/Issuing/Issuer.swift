import Dispatch
import Synchronization

/// Makes the codes of one campaign: deterministic, unique per (channel, serial), and fast.
///
/// ```swift
/// let ring = try KeyRing.load(from: home + "/Keys")
/// let campaign = try CampaignStore(folder: home + "/Campaigns").load().campaign(id)!
/// let issuer = try Issuer(campaign: campaign, keyRing: ring)
/// let code = issuer.code(channel: 0, serial: 1)   // "0K7M-Q8PD-2XWA-9HTE"
/// ```
///
/// Making a code costs three SHA-256 compressions and allocates nothing.
public struct Issuer: Sendable {
  /// The campaign whose codes this issuer makes.
  public let campaign: Campaign
  private let sealer: CodeSealer
  private let bodySymbols: Int

  /// An issuer for `campaign`, signing with its key from `keyRing`.
  ///
  /// - Parameters:
  ///   - campaign: The campaign.
  ///   - keyRing: The ring holding the campaign's key.
  ///   - allowingInactiveKey: Whether a retired or revoked key may print codes: for codes that
  ///     were issued before (an export prints the code of every event again), never for new ones.
  /// - Throws: ``CampaignError/missingKey(_:)`` when the ring lacks the campaign's key, and
  ///   ``CampaignError/keyNotActive(slot:state:)`` when that key is retired or revoked (unless
  ///   `allowingInactiveKey`).
  public init(campaign: Campaign, keyRing: KeyRing, allowingInactiveKey: Bool = false)
    throws(CampaignError)
  {
    guard let info = keyRing.info(for: campaign.slot),
      let sealer = keyRing.sealer(for: campaign.slot)
    else {
      throw .missingKey(campaign.slot)
    }
    guard info.state == .active || allowingInactiveKey else {
      throw .keyNotActive(slot: campaign.slot, state: info.state)
    }
    self.campaign = campaign
    self.sealer = sealer
    bodySymbols = campaign.codeLength - 2
  }

  /// The code of a channel's serial.
  ///
  /// - Parameters:
  ///   - channel: The channel's index in ``Campaign/channels``.
  ///   - serial: From 1 to the campaign's capacity.
  public func code(channel: Int, serial: Int) -> VoucherCode {
    precondition(campaign.channels.indices.contains(channel), "no such channel")
    precondition((1...campaign.capacity).contains(serial), "serial out of range")
    let body = sealer.seal(
      payload: campaign.payload(channel: channel, serial: serial), tagBits: campaign.tagBits)
    return VoucherCode.assemble(slot: sealer.slot, body: body, bodySymbols: bodySymbols)
  }

  /// Writes the codes of a range of serials in a file format, in serial order.
  ///
  /// Work is split into blocks of codes; with several threads, each thread fills its own block
  /// and the blocks are handed to `sink` in order.
  ///
  /// - Parameters:
  ///   - channel: The channel's index.
  ///   - serials: The serials, within the campaign's capacity.
  ///   - format: The file format.
  ///   - threads: How many threads make codes (1 or more).
  ///   - sink: Receives the output, block by block.
  ///   - progress: Called after each block with the number of codes written so far.
  /// - Throws: Whatever `sink` throws.
  public func write(
    channel: Int, serials: ClosedRange<Int>, format: IssueFormat, threads: Int = 1,
    to sink: (UnsafeRawBufferPointer) throws -> Void, progress: ((Int) -> Void)? = nil
  ) throws {
    try write(
      channel: channel, serials: serials, layout: try! IssueLayout(format: format),
      threads: threads, to: sink, progress: progress)
  }

  /// Writes the rows of a range of serials in a layout (a format with chosen columns or a
  /// registration link), in serial order.
  ///
  /// A plain layout takes the same path as ``write(channel:serials:format:threads:to:progress:)``;
  /// any other is rendered from a row template made once.
  ///
  /// - Parameters:
  ///   - channel: The channel's index.
  ///   - serials: The serials, within the campaign's capacity.
  ///   - layout: The format, columns and link.
  ///   - threads: How many threads make codes (1 or more).
  ///   - sink: Receives the output, block by block.
  ///   - progress: Called after each block with the number of codes written so far.
  /// - Throws: Whatever `sink` throws.
  public func write(
    channel: Int, serials: ClosedRange<Int>, layout: IssueLayout, threads: Int = 1,
    to sink: (UnsafeRawBufferPointer) throws -> Void, progress: ((Int) -> Void)? = nil
  ) throws {
    precondition(campaign.channels.indices.contains(channel), "no such channel")
    precondition(
      serials.lowerBound >= 1 && serials.upperBound <= campaign.capacity, "serial out of range")
    let format = layout.format
    let printedCode = VoucherCode.printedLength(symbols: campaign.codeLength)
    let rows =
      layout.isPlain
      ? nil
      : IssueRowTemplate(
        layout: layout, campaign: campaign, channel: channel, printedCode: printedCode)
    try (rows?.header ?? Array(format.header.utf8)).withUnsafeBytes(sink)
    let blockSize = threads > 1 ? 4096 : 8192
    let recordLength =
      rows?.maximumRowLength ?? format.maximumRecordLength(printedCode: printedCode)
    let threads = max(1, threads)
    let blockBytes = blockSize * recordLength
    // With threads, a round has four blocks per thread, handed out as threads free up, so that a
    // thread slowed by the machine's other work does not hold the round back. The blocks of a
    // round live in one buffer allocated once; each block owns its own slice of it.
    let blocksPerRound = threads == 1 ? 1 : threads * 4
    let buffer = UnsafeMutableRawBufferPointer.allocate(
      byteCount: blocksPerRound * blockBytes, alignment: 64)
    defer { buffer.deallocate() }
    // The concurrent closure may only capture sendable values: the buffer goes as its address.
    let address = Int(bitPattern: buffer.baseAddress!)
    let lengths = Mutex([Int](repeating: 0, count: blocksPerRound))
    var next = serials.lowerBound
    var written = 0
    while next <= serials.upperBound {
      let blocks = (0..<blocksPerRound).compactMap { index -> ClosedRange<Int>? in
        let first = next + index * blockSize
        return first <= serials.upperBound
          ? first...min(serials.upperBound, first + blockSize - 1) : nil
      }
      let runFirst = serials.lowerBound
      let fillBlock: @Sendable (Int) -> Void = { [self] index in
        let slice = UnsafeMutableRawBufferPointer(
          start: UnsafeMutableRawPointer(bitPattern: address)! + index * blockBytes,
          count: blockBytes)
        let length = fill(
          slice, channel: channel, serials: blocks[index], runFirst: runFirst, format: format,
          rows: rows)
        lengths.withLock { $0[index] = length }
      }
      if blocks.count == 1 {
        fillBlock(0)
      } else {
        DispatchQueue.concurrentPerform(iterations: blocks.count, execute: fillBlock)
      }
      let filled = lengths.withLock { $0 }
      for index in blocks.indices {
        try sink(
          UnsafeRawBufferPointer(
            start: buffer.baseAddress! + index * blockBytes, count: filled[index]))
        written += blocks[index].count
      }
      progress?(written)
      next = blocks[blocks.count - 1].upperBound + 1
    }
    try (rows?.footer ?? Array(format.footer.utf8)).withUnsafeBytes(sink)
  }

  /// Renders the records of `serials` into `buffer`; returns the bytes used. The hot loop: per
  /// code, one seal (three compressions), one unpack, one check fold, one printed write. With a
  /// row template, each row is its pieces in turn.
  private func fill(
    _ buffer: UnsafeMutableRawBufferPointer, channel: Int, serials: ClosedRange<Int>, runFirst: Int,
    format: IssueFormat, rows: IssueRowTemplate?
  ) -> Int {
    let out = buffer.baseAddress!
    var offset = 0
    // The payload of serial s is first + s - 1; `before` is one less than the first payload.
    let before = UInt32(campaign.base + channel * campaign.capacity) &- 1
    let tagBits = campaign.tagBits
    let count = bodySymbols + 2
    let slot = sealer.slot
    let highSymbols = count - 1 - 12
    return Crockford.alphabet.withUnsafeBufferPointer { alphabet in
      DammCheck.table.withUnsafeBufferPointer { damm in
        let alphabet = alphabet.baseAddress!
        let damm = damm.baseAddress!
        /// Renders one code in one pass: each symbol is folded into the check and printed.
        @inline(__always)
        func render(_ body: UInt128, to out: UnsafeMutableRawPointer) -> Int {
          // The symbols before the check: the slot and the body, split into the leading ones
          // and the last twelve (60 bits), so that every shift is a 64-bit one.
          let unchecked = UInt128(slot) << (5 * (count - 2)) | body
          let high = UInt64(truncatingIfNeeded: unchecked >> 60)
          let low = UInt64(truncatingIfNeeded: unchecked) & (1 << 60 - 1)
          var interim: UInt8 = 0
          var offset = 0
          var position = 0
          @inline(__always)
          func emit(_ symbol: Int) {
            if position & 3 == 0 && position > 0 {
              out.storeBytes(of: 0x2D, toByteOffset: offset, as: UInt8.self)
              offset += 1
            }
            out.storeBytes(of: alphabet[symbol], toByteOffset: offset, as: UInt8.self)
            offset += 1
            position += 1
          }
          var shift = 5 * (highSymbols - 1)
          while shift >= 0 {
            let symbol = Int(truncatingIfNeeded: high >> UInt64(shift)) & 0x1F
            interim = damm[Int(interim) << 5 | symbol]
            emit(symbol)
            shift -= 5
          }
          shift = 55
          while shift >= 0 {
            let symbol = Int(truncatingIfNeeded: low >> UInt64(shift)) & 0x1F
            interim = damm[Int(interim) << 5 | symbol]
            emit(symbol)
            shift -= 5
          }
          emit(Int(interim))
          return offset
        }
        if let rows {
          for serial in serials {
            let body = sealer.seal(
              payload: before &+ UInt32(truncatingIfNeeded: serial), tagBits: tagBits)
            for piece in serial == runFirst ? rows.firstPieces : rows.pieces {
              switch piece {
              case .literal(let bytes):
                bytes.withUnsafeBytes {
                  (out + offset).copyMemory(from: $0.baseAddress!, byteCount: $0.count)
                }
                offset += bytes.count
              case .serial: offset += writeDecimal(serial, to: out + offset)
              case .code: offset += render(body, to: out + offset)
              }
            }
          }
          return offset
        }
        for serial in serials {
          let body = sealer.seal(
            payload: before &+ UInt32(truncatingIfNeeded: serial), tagBits: tagBits)
          switch format {
          case .text:
            offset += render(body, to: out + offset)
            out.storeBytes(of: 0x0A, toByteOffset: offset, as: UInt8.self)
            offset += 1
          case .csv:
            offset += writeDecimal(serial, to: out + offset)
            out.storeBytes(of: 0x2C, toByteOffset: offset, as: UInt8.self)
            offset += 1
            offset += render(body, to: out + offset)
            out.storeBytes(of: 0x0A0D, toByteOffset: offset, as: UInt16.self)
            offset += 2
          case .json:
            offset += copy(
              serial == runFirst ? "  {\"code\": \"" : ",\n  {\"code\": \"", to: out + offset)
            offset += render(body, to: out + offset)
            offset += copy("\", \"serial\": ", to: out + offset)
            offset += writeDecimal(serial, to: out + offset)
            out.storeBytes(of: 0x7D, toByteOffset: offset, as: UInt8.self)
            offset += 1
          }
        }
        return offset
      }
    }
  }
}

/// Writes a positive integer in decimal; returns the digits written.
@inline(__always)
func writeDecimal(_ value: Int, to out: UnsafeMutableRawPointer) -> Int {
  var digits = 1
  var rest = value / 10
  while rest > 0 {
    digits += 1
    rest /= 10
  }
  var remaining = value
  for index in stride(from: digits - 1, through: 0, by: -1) {
    out.storeBytes(of: UInt8(0x30 + remaining % 10), toByteOffset: index, as: UInt8.self)
    remaining /= 10
  }
  return digits
}

/// Copies a literal's UTF-8; returns the bytes copied.
@inline(__always)
func copy(_ text: StaticString, to out: UnsafeMutableRawPointer) -> Int {
  out.copyMemory(from: text.utf8Start, byteCount: text.utf8CodeUnitCount)
  return text.utf8CodeUnitCount
}
