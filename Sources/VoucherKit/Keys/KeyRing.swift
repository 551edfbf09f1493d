import FoundationEssentials

#if canImport(Glibc)
  import Glibc
#endif

/// The keys that sign and verify codes: one file per slot in a home's `Keys/` folder.
///
/// Loading refuses a key file that group or others may read (mode must be 0600), a secret shorter
/// than 128 bits, and any malformed file. A published demonstration key (`demo: true`) is exempt
/// from the mode check, since its secret is public anyway; issuing with it warns.
public struct KeyRing: Sendable {
  /// Every key, ordered by slot.
  public let keys: [KeyInfo]
  /// Sealers indexed by slot number, for the hot path.
  let sealers: [CodeSealer?]
  /// Each slot's manifest key, HMAC-SHA256(secret, "voucher/v1/manifest"): print-file manifests
  /// are signed with it, never with the secret itself.
  let manifestKeys: [HMACSHA256?]

  /// Creates a ring from keys already in memory.
  init(keys: [(info: KeyInfo, secret: [UInt8])]) {
    var sealers = [CodeSealer?](repeating: nil, count: Int(KeySlot.maximum) + 1)
    var manifestKeys = [HMACSHA256?](repeating: nil, count: Int(KeySlot.maximum) + 1)
    for key in keys {
      sealers[Int(key.info.slot.rawValue)] = CodeSealer(slot: key.info.slot, secret: key.secret)
      var derived = HMACSHA256(key: key.secret).authenticate(Array("voucher/v1/manifest".utf8))
      manifestKeys[Int(key.info.slot.rawValue)] = HMACSHA256(key: derived)
      wipe(&derived)
    }
    self.keys = keys.map(\.info).sorted { $0.slot < $1.slot }
    self.sealers = sealers
    self.manifestKeys = manifestKeys
  }

  /// Loads every key file in `folder`.
  ///
  /// - Parameter folder: The key ring folder, usually `HOME/Keys`.
  /// - Returns: The ring, with at least one key.
  /// - Throws: ``KeyRingError`` for a missing or empty folder and for any bad key file.
  public static func load(from folder: String) throws(KeyRingError) -> KeyRing {
    let files = try keyFiles(in: folder)
    guard !files.isEmpty else { throw .emptyKeyRing(path: folder) }
    var keys: [(info: KeyInfo, secret: [UInt8])] = []
    for (slot, path) in files {
      var file = try readKeyFile(path, expecting: slot)
      keys.append((file.info, file.secret))
      wipe(&file.secret)
    }
    return KeyRing(keys: keys)
  }

  /// The key for `slot`, if the ring has one.
  public func info(for slot: KeySlot) -> KeyInfo? { keys.first { $0.slot == slot } }

  /// The key new campaigns sign with: the highest active slot that is not a demo key, or the
  /// demo key when it is the only active one.
  public var signingKey: KeyInfo? {
    let active = keys.filter { $0.state == .active }
    return active.last { !$0.isDemo } ?? active.last
  }

  /// The sealer of an active or retired slot.
  func sealer(for slot: KeySlot) -> CodeSealer? { sealers[Int(slot.rawValue)] }

  // MARK: - Changing the ring

  /// Makes a new 256-bit key from OpenSSL's CSPRNG in the lowest free slot, in a file of mode 0600.
  ///
  /// - Parameters:
  ///   - folder: The key ring folder; created if missing.
  ///   - now: The creation time to record.
  /// - Returns: The new key's description (never its secret).
  /// - Throws: ``KeyRingError`` when no slot is free, the generator fails or the file cannot be written.
  @discardableResult
  public static func generate(in folder: String, now: Date) throws(KeyRingError) -> KeyInfo {
    do {
      try FileSystem.makeDirectory(folder)
    } catch {
      throw .io(error)
    }
    let taken = Set(try keyFiles(in: folder).map(\.slot))
    guard
      let slot = (0...Int(KeySlot.maximum)).lazy.compactMap(KeySlot.init).first(where: {
        !taken.contains($0)
      })
    else {
      throw .noFreeSlot
    }
    var secret = try OpenSSL.randomBytes(count: 32)
    defer { wipe(&secret) }
    let info = KeyInfo(
      slot: slot, state: .active, created: ISO8601.format(now), isDemo: false, bits: 256)
    var text = KeyFile(info: info, secret: secret).render()
    defer { wipe(&text) }
    do {
      try FileSystem.writeAtomically(
        folder + "/" + KeyFile.name(for: slot), text, mode: 0o600, replace: false)
    } catch {
      throw .io(error)
    }
    return info
  }

  /// Moves a key to a later state: active → retired → revoked, or active → revoked.
  ///
  /// - Parameters:
  ///   - state: ``KeyState/retired`` or ``KeyState/revoked``.
  ///   - slot: The key to change.
  ///   - folder: The key ring folder.
  /// - Returns: The key's new description.
  /// - Throws: ``KeyRingError/unknownSlot(_:)``, ``KeyRingError/invalidTransition(slot:from:to:)``
  ///   or an error reading or writing the file.
  @discardableResult
  public static func change(slot: KeySlot, to state: KeyState, in folder: String)
    throws(KeyRingError) -> KeyInfo
  {
    guard FileSystem.isDirectory(folder) else { throw .missingKeyRing(path: folder) }
    let path = folder + "/" + KeyFile.name(for: slot)
    guard FileSystem.exists(path) else { throw .unknownSlot(slot) }
    var file = try readKeyFile(path, expecting: slot)
    defer { wipe(&file.secret) }
    let from = file.info.state
    if from == state { return file.info }
    let allowed: Bool
    switch (from, state) {
    case (.active, .retired), (.active, .revoked), (.retired, .revoked): allowed = true
    default: allowed = false
    }
    guard allowed else { throw .invalidTransition(slot: slot, from: from, to: state) }
    file.info.state = state
    var text = file.render()
    defer { wipe(&text) }
    do {
      try FileSystem.writeAtomically(path, text, mode: file.info.isDemo ? 0o644 : 0o600)
    } catch {
      throw .io(error)
    }
    return file.info
  }

  // MARK: - Files

  private static func keyFiles(in folder: String) throws(KeyRingError) -> [(
    slot: KeySlot, path: String
  )] {
    let names: [String]
    do {
      names = try FileSystem.list(folder)
    } catch {
      throw error.isMissing ? .missingKeyRing(path: folder) : .io(error)
    }
    return names.compactMap { name in KeyFile.slot(fromName: name).map { ($0, folder + "/" + name) }
    }
  }

  private static func readKeyFile(_ path: String, expecting slot: KeySlot) throws(KeyRingError)
    -> KeyFile
  {
    var contents: (bytes: [UInt8], mode: mode_t)
    do {
      contents = try FileSystem.read(path, limit: 64 << 10)
    } catch {
      throw .io(error)
    }
    defer { wipe(&contents.bytes) }
    let file = try KeyFile.parse(contents.bytes, path: path)
    guard file.info.slot == slot else {
      throw .malformedKeyFile(
        path: path, reason: "it says slot \(file.info.slot) but is named for slot \(slot)")
    }
    if !file.info.isDemo && contents.mode & 0o077 != 0 {
      throw .keyFileTooOpen(path: path, mode: UInt16(contents.mode))
    }
    guard file.secret.count >= 16 else {
      throw .keyTooShort(path: path, bits: file.secret.count * 8)
    }
    return file
  }
}
