extension KeyRing {
  /// The ring with key states known elsewhere (a chain's shared registry) applied: each key takes
  /// the later of its own state and the given one (active, then retired, then revoked), so a key
  /// retired or revoked anywhere is so everywhere, and none is ever made active again.
  ///
  /// - Parameter states: States by slot; slots this ring has no key for are ignored.
  /// - Returns: The ring with its keys' states raised.
  package func raising(_ states: [KeySlot: KeyState]) -> KeyRing {
    var infos = keys
    for index in infos.indices {
      if let state = states[infos[index].slot], state.rank > infos[index].state.rank {
        infos[index].state = state
      }
    }
    return KeyRing(infos: infos, sealers: sealers, manifestKeys: manifestKeys)
  }

  private init(infos: [KeyInfo], sealers: [CodeSealer?], manifestKeys: [HMACSHA256?]) {
    self.keys = infos
    self.sealers = sealers
    self.manifestKeys = manifestKeys
  }
}

extension KeyState {
  /// The order states follow: active 0, retired 1, revoked 2.
  package var rank: Int {
    switch self {
    case .active: return 0
    case .retired: return 1
    case .revoked: return 2
    }
  }
}
