import VoucherKit

/// Failures of the registry. An expected "no" (used up, blocked, ...) is an answer, not an error.
public enum RegistryError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The home has no registry yet (nothing was ever redeemed).
  case missing(path: String)
  /// The registry is missing or empty, but the home has issued codes: a disk that did not mount,
  /// or a restore gone wrong. Never made anew by itself.
  case vanished(path: String)
  /// An explicit creation found a registry already there.
  case alreadyExists(path: String)
  /// Another process held the registry lock longer than the timeout.
  case busy(path: String)
  /// A file is damaged where valid data must be: never answered as "not redeemed".
  case damaged(path: String, offset: Int64, reason: String)
  /// A sync failed: the answer was not given, and writes are refused until `registry check`.
  case syncFailed(path: String, code: Int32)
  /// Writes are refused after a failed sync or found damage, until `registry check` passes.
  case fenced(reason: String)
  /// A file could not be read or written.
  case io(SystemError)

  public var description: String {
    switch self {
    case .missing(let path):
      return "no registry at \(path): nothing has been redeemed in this home yet"
    case .vanished(let path):
      return
        "no registry at \(path), but this home has issued codes: if the registry's disk is not mounted or its folder was moved, put it back; to start an empty registry on purpose, run 'voucher registry init'"
    case .alreadyExists(let path):
      return "\(path) already holds a registry"
    case .busy(let path):
      return "the registry is busy (\(path) is locked by another process); try again"
    case .damaged(let path, let offset, let reason):
      return "\(path) is damaged at byte offset \(offset): \(reason); run 'voucher registry check'"
    case .syncFailed(let path, let code):
      return
        "cannot sync \(path) to disk (\(SystemError("sync", path, code: code).description.split(separator: ":").last.map { $0.trimmingCharacters() } ?? "")): nothing was recorded as done; writes are refused until 'voucher registry check' passes"
    case .fenced(let reason):
      return "the registry refuses writes: \(reason); run 'voucher registry check'"
    case .io(let error):
      return error.description
    }
  }
}

extension RegistryError {
  /// The file or folder whose sync failed, when this is a failed sync.
  var failedSyncPath: String? {
    switch self {
    case .syncFailed(let path, _): return path
    case .io(let error) where error.operation == "sync" || error.operation == "sync folder":
      return error.path
    default: return nil
    }
  }
}

extension Substring {
  func trimmingCharacters() -> String {
    String(drop(while: { $0 == " " }))
  }
}
