import CSQLite
import Foundation

/// The SQLite peer: the same redemption logic as one would write it on SQLite (WAL,
/// `synchronous=FULL`, a primary key on the code, `BEGIN IMMEDIATE` per redemption).
final class SQLitePeer {
  private var db: OpaquePointer?
  private var select: OpaquePointer?
  private var upsert: OpaquePointer?

  init(path: String) {
    precondition(sqlite3_open(path, &db) == SQLITE_OK, "cannot open \(path)")
    execute("PRAGMA journal_mode=WAL")
    execute("PRAGMA synchronous=FULL")
    execute(
      "CREATE TABLE IF NOT EXISTS redemptions (code INTEGER PRIMARY KEY, uses INTEGER NOT NULL, store TEXT, time INTEGER NOT NULL)"
    )
    select = prepare("SELECT uses, store, time FROM redemptions WHERE code = ?")
    upsert = prepare(
      "INSERT INTO redemptions (code, uses, store, time) VALUES (?, 1, ?, ?) ON CONFLICT(code) DO UPDATE SET uses = uses + 1"
    )
  }

  deinit {
    sqlite3_finalize(select)
    sqlite3_finalize(upsert)
    sqlite3_close(db)
  }

  func execute(_ sql: String) {
    precondition(
      sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK,
      "\(sql): \(String(cString: sqlite3_errmsg(db)))")
  }

  private func prepare(_ sql: String) -> OpaquePointer? {
    var statement: OpaquePointer?
    precondition(
      sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK,
      String(cString: sqlite3_errmsg(db)))
    return statement
  }

  /// Live uses of a code, or 0: one point lookup.
  func uses(_ code: Int64) -> Int {
    sqlite3_reset(select)
    sqlite3_bind_int64(select, 1, code)
    let uses = sqlite3_step(select) == SQLITE_ROW ? Int(sqlite3_column_int64(select, 0)) : 0
    return uses
  }

  /// One durable redemption of a single-use code: check, then record, in one transaction.
  @discardableResult
  func redeem(_ code: Int64, store: String, time: Int64) -> Bool {
    execute("BEGIN IMMEDIATE")
    guard uses(code) == 0 else {
      execute("COMMIT")
      return false
    }
    write(code, store: store, time: time)
    execute("COMMIT")
    return true
  }

  /// Records a redemption inside the caller's transaction.
  func write(_ code: Int64, store: String, time: Int64) {
    sqlite3_reset(upsert)
    sqlite3_bind_int64(upsert, 1, code)
    sqlite3_bind_text(upsert, 2, store, -1, voucher_sqlite_transient())
    sqlite3_bind_int64(upsert, 3, time)
    precondition(sqlite3_step(upsert) == SQLITE_DONE, String(cString: sqlite3_errmsg(db)))
  }
}
