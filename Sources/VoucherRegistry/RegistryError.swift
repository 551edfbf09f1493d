import VoucherKit

/// Failures of the registry. An expected "no" (used up, blocked, ...) is an answer, not an error.
///
/// The description says what is wrong in the registry's own words; ``remedy`` says what would
/// set it right, as a case that each front end words in its own terms (a command, an API call).
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
  /// A sync failed: the answer was not given, and writes are refused until a check passes.
  case syncFailed(path: String, code: Int32)
  /// Writes are refused after a failed sync or found damage, until a check passes.
  case fenced(reason: String)
  /// A file could not be read or written.
  case io(SystemError)
  /// A database registry could not be reached (the server is down, restarting or refused the
  /// connection): nothing of the operation was answered; try again.
  case unreachable(registry: String, reason: String)
  /// A database registry refused or failed a statement (a permission, a full disk, a bug).
  case database(registry: String, reason: String)
  /// A database registry's schema is not the version this program knows: older ones are
  /// migrated on purpose, newer ones need a newer program; version 0 is a database without a
  /// registry, which is created on purpose.
  case schemaVersion(registry: String, found: Int, expected: Int)

  /// What would set a registry error right.
  public enum Remedy: Sendable, Hashable {
    /// Check the registry: it names the damage, and a sound registry takes writes again.
    case check
    /// Writes stay refused until a check of the registry passes.
    case checkToResumeWrites
    /// Rebuild the index from the journal.
    case rebuild
    /// Create an empty registry on purpose.
    case initialize
    /// Migrate the database's schema to this program's version.
    case migrate
  }

  /// What would set the error right, when a step can be named.
  public var remedy: Remedy? {
    switch self {
    case .vanished: return .initialize
    case .damaged(let path, _, _):
      // The index, the state and the block list are derived from the journal: rebuilt from it.
      let name = path.split(separator: "/").last ?? ""
      let derived = name == "state" || name == "blocks" || path.contains("/index/")
      return derived ? .rebuild : .check
    case .fenced: return .check
    case .syncFailed: return .checkToResumeWrites
    case .schemaVersion(_, let found, let expected):
      return found == 0 ? .initialize : found < expected ? .migrate : nil
    case .missing, .alreadyExists, .busy, .io, .unreachable, .database: return nil
    }
  }

  /// What is wrong, without the remedy.
  public var problem: String {
    switch self {
    case .missing(let path):
      return "no registry at \(path): nothing has been redeemed in this home yet"
    case .vanished(let path):
      return
        "no registry at \(path), but this home has issued codes: if the registry's disk is not mounted or its folder was moved, put it back"
    case .alreadyExists(let path):
      return "\(path) already holds a registry"
    case .busy(let path):
      return "the registry is busy (\(path) is locked by another process); try again"
    case .damaged(let path, let offset, let reason):
      return "\(path) is damaged at byte offset \(offset): \(reason)"
    case .syncFailed(let path, let code):
      return
        "cannot sync \(path) to disk (\(SystemError("sync", path, code: code).description.split(separator: ":").last.map { $0.trimmingCharacters() } ?? "")): nothing was recorded as done"
    case .fenced(let reason):
      return "the registry refuses writes: \(reason)"
    case .io(let error):
      return error.description
    case .unreachable(let registry, let reason):
      return "cannot reach \(registry): \(reason); nothing was recorded as done, try again"
    case .database(let registry, let reason):
      return "\(registry) failed: \(reason)"
    case .schemaVersion(let registry, 0, _):
      return "\(registry) holds no registry yet (the database has no voucher tables)"
    case .schemaVersion(let registry, let found, let expected):
      return found < expected
        ? "\(registry) has schema version \(found); this program needs version \(expected)"
        : "\(registry) has schema version \(found), newer than this program's \(expected); use a newer voucher"
    }
  }

  /// What is wrong and, in domain words, what would set it right.
  public var description: String {
    switch remedy {
    case nil: return problem
    case .check: return problem + "; check the registry"
    case .checkToResumeWrites: return problem + "; writes are refused until a check passes"
    case .rebuild: return problem + "; rebuild the index from the journal"
    case .initialize: return problem + "; to start an empty registry on purpose, create one"
    case .migrate: return problem + "; migrate its schema"
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
