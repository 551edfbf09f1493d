#if PostgreSQL
  /// A failure of a statement or of the connection.
  struct PGError: Error, CustomStringConvertible {
    /// The server's words (or libpq's).
    let message: String
    /// The SQLSTATE code, when the server answered with one.
    let state: String?
    /// The connection is gone: whether a statement sent was carried out is unknown.
    let connectionLost: Bool
    /// Not run, because an earlier statement of its pipeline failed.
    var aborted = false

    /// A serialization failure or a deadlock (40001, 40P01): the transaction was rolled back
    /// and may be run again.
    var isRetryable: Bool { state == "40001" || state == "40P01" }

    /// A unique or primary key was violated (23505).
    var isUniqueViolation: Bool { state == "23505" }

    /// The server is shutting down or starting (57P01 admin shutdown, 57P02 crash shutdown,
    /// 57P03 cannot connect now), or the connection broke (08xxx).
    var isServerGone: Bool {
      connectionLost || state.map { $0.hasPrefix("08") || $0.hasPrefix("57P") } == true
    }

    var description: String {
      // libpq's messages name a host and a database at most, never a password.
      let words = message.isEmpty ? "the connection failed" : message
      return state.map { "\(words) (SQLSTATE \($0))" } ?? words
    }
  }
#endif
