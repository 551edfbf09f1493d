#if PostgreSQL
  internal import CLibPQ

  /// Where a PostgreSQL registry is: a libpq connection URI (`postgresql:///voucher?host=/run/x`)
  /// or `key=value` string, checked once.
  ///
  /// A password in it is refused: passwords come from libpq's usual places (`PGPASSFILE`,
  /// `~/.pgpass`), never from the command line, and so no message can print one. The target is
  /// named in messages by its database and host alone.
  public struct PGTarget: Sendable, Hashable, CustomStringConvertible {
    /// What libpq is given.
    let conninfo: String
    /// The database and host, for messages.
    public let description: String

    /// Checks a connection string.
    ///
    /// - Throws: ``PGTargetError`` when libpq cannot parse it or it holds a password.
    public init(_ text: String) throws(PGTargetError) {
      var error: UnsafeMutablePointer<CChar>?
      guard let options = PQconninfoParse(text, &error) else {
        let reason = error.map { String(cString: $0) } ?? "out of memory"
        if let error { PQfreemem(error) }
        throw .malformed(reason.split(separator: "\n").first.map(String.init) ?? reason)
      }
      defer { PQconninfoFree(options) }
      var values: [String: String] = [:]
      var option = options
      while let keyword = option.pointee.keyword {
        if let value = option.pointee.val {
          values[String(cString: keyword)] = String(cString: value)
        }
        option += 1
      }
      guard values["password"] == nil else { throw .password }
      conninfo = text
      let database = values["dbname"] ?? values["user"] ?? "the default database"
      let host = values["host"] ?? values["hostaddr"] ?? "the default socket"
      description = "the PostgreSQL registry '\(database)' on \(host)"
    }
  }

  /// Why a registry URI was refused.
  public enum PGTargetError: Error, Equatable, CustomStringConvertible {
    /// libpq cannot parse it; its reason.
    case malformed(String)
    /// It holds a password, which must come from `PGPASSFILE` or `~/.pgpass` instead.
    case password

    public var description: String {
      switch self {
      case .malformed(let reason):
        return "the registry URI is not a PostgreSQL connection URI: \(reason)"
      case .password:
        return
          "the registry URI holds a password; put it in ~/.pgpass or the file PGPASSFILE names instead"
      }
    }
  }
#endif
