#if PostgreSQL
  internal import CLibPQ
  import Glibc

  /// One connection to a PostgreSQL server: the one file that calls libpq.
  ///
  /// Every statement goes with its values as parameters (`PQexecParams`, `PQsendQueryParams`,
  /// `PQsendQueryPrepared`): no SQL is ever made from input. Values travel as text; a `nil` is
  /// SQL `NULL`. A connection is used by one thread at a time.
  ///
  /// A pipeline's statements are prepared on the server the first time the connection sends
  /// them (the registry's statements are a small fixed set), so that their next runs skip
  /// parsing and planning. A prepared statement is kept by the session whatever becomes of the
  /// transaction it was prepared in (the protocol's Parse is not transactional); one counts as
  /// prepared only once its Parse was answered without error.
  final class PGConnection {
    private let handle: OpaquePointer

    /// Connects.
    ///
    /// - Parameter target: The checked connection target.
    /// - Throws: ``PGError`` with ``PGError/connectionLost`` set when the server cannot be reached.
    init(_ target: PGTarget) throws(PGError) {
      guard let handle = PQconnectdb(target.conninfo) else {
        throw PGError(message: "out of memory", state: nil, connectionLost: true)
      }
      guard PQstatus(handle) == CONNECTION_OK else {
        let message = Self.text(PQerrorMessage(handle))
        PQfinish(handle)
        throw PGError(message: message, state: nil, connectionLost: true)
      }
      self.handle = handle
    }

    deinit { PQfinish(handle) }

    /// Left in pipeline mode with results unread (after a failure in the middle of one): no
    /// longer usable.
    private var stuck = false

    /// The statements prepared on this session: the name of each, by its SQL.
    private var prepared: [String: String] = [:]
    /// How many names were handed out (a name is never used twice, prepared or not).
    private var named = 0
    /// The most statements kept prepared; others go unnamed.
    private static let preparedLimit = 256

    /// Whether the connection still looks usable (it may yet fail on the next statement).
    var isOpen: Bool { !stuck && PQstatus(handle) == CONNECTION_OK }

    /// Runs one statement with its parameters and answers its rows.
    @discardableResult
    func execute(_ sql: String, _ parameters: [String?] = []) throws(PGError) -> PGRows {
      let result = withParameters(parameters) { values, count in
        PQexecParams(handle, sql, count, nil, values, nil, nil, 0)
      }
      return try rows(of: result)
    }

    /// Sends statements in pipeline mode, one round trip for all, and answers each one's rows or
    /// error, in order. A statement after a failed one in the same pipeline is not run (its
    /// error says so). Sent in chunks, each ending with a sync, so that neither side's buffers
    /// fill while the other waits; inside a `BEGIN` the transaction stays open across them.
    func pipeline(_ statements: [PGStatement], chunk: Int = 128) throws(PGError) -> [Result<
      PGRows, PGError
    >] {
      guard PQenterPipelineMode(handle) == 1 else { throw lastError() }
      defer { if PQexitPipelineMode(handle) != 1 { stuck = true } }
      var results: [Result<PGRows, PGError>] = []
      results.reserveCapacity(statements.count)
      var start = 0
      while start < statements.count {
        let part = statements[start..<min(statements.count, start + chunk)]
        // What was sent, in order: a statement's Parse (its SQL and name), or a statement.
        var sent: [(sql: String, name: String)?] = []
        var preparing: [String: String] = [:]
        for statement in part {
          var name = prepared[statement.sql] ?? preparing[statement.sql]
          if name == nil && prepared.count + preparing.count < Self.preparedLimit {
            named += 1
            let fresh = "voucher_\(named)"
            let count = Int32(statement.parameters.count)
            guard PQsendPrepare(handle, fresh, statement.sql, count, nil) == 1 else {
              throw lastError()
            }
            sent.append((statement.sql, fresh))
            preparing[statement.sql] = fresh
            name = fresh
          }
          let queued = withParameters(statement.parameters) { values, count in
            if let name {
              return PQsendQueryPrepared(handle, name, count, values, nil, nil, 0)
            }
            return PQsendQueryParams(handle, statement.sql, count, nil, values, nil, nil, 0)
          }
          guard queued == 1 else { throw lastError() }
          sent.append(nil)
        }
        guard PQpipelineSync(handle) == 1 else { throw lastError() }
        for item in sent {
          // Each result, then a null that ends it.
          guard let result = PQgetResult(handle) else { throw lastError() }
          if let (sql, name) = item {
            if PQresultStatus(result) == PGRES_COMMAND_OK { prepared[sql] = name }
            PQclear(result)
          } else {
            results.append(Result { () throws(PGError) in try rows(of: result) })
          }
          while let extra = PQgetResult(handle) { PQclear(extra) }
        }
        guard let sync = PQgetResult(handle) else { throw lastError() }
        let status = PQresultStatus(sync)
        PQclear(sync)
        guard status == PGRES_PIPELINE_SYNC else { throw lastError() }
        start += part.count
      }
      return results
    }

    /// The error of the connection now: lost when the connection is no longer usable.
    private func lastError() -> PGError {
      PGError(
        message: Self.text(PQerrorMessage(handle)), state: nil,
        connectionLost: PQstatus(handle) != CONNECTION_OK)
    }

    /// Reads a result's rows and frees it.
    private func rows(of result: OpaquePointer?) throws(PGError) -> PGRows {
      guard let result else { throw lastError() }
      defer { PQclear(result) }
      switch PQresultStatus(result) {
      case PGRES_COMMAND_OK:
        return PGRows(columns: 0, values: [], affected: Int(Self.text(PQcmdTuples(result))) ?? 0)
      case PGRES_TUPLES_OK:
        let rows = Int(PQntuples(result))
        let columns = Int(PQnfields(result))
        var values: [String?] = []
        values.reserveCapacity(rows * columns)
        for row in 0..<Int32(rows) {
          for column in 0..<Int32(columns) {
            if PQgetisnull(result, row, column) == 1 {
              values.append(nil)
            } else {
              values.append(Self.text(PQgetvalue(result, row, column)))
            }
          }
        }
        return PGRows(columns: columns, values: values, affected: rows)
      case PGRES_PIPELINE_ABORTED:
        throw PGError(
          message: "not run: an earlier statement of the pipeline failed", state: nil,
          connectionLost: false, aborted: true)
      default:
        let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
        let primary = PQresultErrorField(result, Int32(UInt8(ascii: "M"))).map {
          String(cString: $0)
        }
        throw PGError(
          message: primary ?? Self.text(PQresultErrorMessage(result)), state: state,
          connectionLost: state == nil && PQstatus(handle) != CONNECTION_OK)
      }
    }

    /// Calls `body` with the parameters as C strings.
    private func withParameters<T>(
      _ parameters: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?, Int32) -> T
    ) -> T {
      var storage: [UnsafeMutablePointer<CChar>?] = parameters.map { $0.map { strdup($0) } }
      defer { for pointer in storage { free(pointer) } }
      return storage.withUnsafeMutableBufferPointer { buffer in
        buffer.baseAddress!.withMemoryRebound(
          to: UnsafePointer<CChar>?.self, capacity: max(1, buffer.count)
        ) { values in
          body(buffer.isEmpty ? nil : UnsafePointer(values), Int32(buffer.count))
        }
      }
    }

    /// A C string from libpq as text, its trailing newline dropped.
    private static func text(_ pointer: UnsafePointer<CChar>?) -> String {
      guard let pointer else { return "" }
      var text = String(cString: pointer)
      while text.last == "\n" { text.removeLast() }
      return text
    }
  }

  /// One statement of a pipeline.
  struct PGStatement {
    let sql: String
    let parameters: [String?]

    init(_ sql: String, _ parameters: [String?] = []) {
      self.sql = sql
      self.parameters = parameters
    }
  }

  /// The rows of a result, as text (`nil` for `NULL`); for a command, the rows it touched.
  struct PGRows {
    let columns: Int
    let values: [String?]
    /// Rows returned, or rows a command touched.
    let affected: Int

    var count: Int { columns == 0 ? 0 : values.count / columns }

    subscript(row: Int, column: Int) -> String? { values[row * columns + column] }

    /// A column as an integer (0 for `NULL` or anything else).
    func integer(_ row: Int, _ column: Int) -> Int64 {
      self[row, column].flatMap { Int64($0) } ?? 0
    }
  }
#endif
