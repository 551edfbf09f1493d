import Synchronization
import VoucherKit

#if canImport(Glibc)
  import Glibc
#endif

/// The token book as a running server sees it: the file is looked at (one `stat`) on every
/// request and read again when it changed, so `voucher tokens revoke` takes effect at once.
///
/// A connection keeps a ``Memo`` of its last answer: while the file is unchanged and the same
/// secret comes again, the answer is the memo's, without the shared lock or a digest (eight
/// connections on one lock spent more time spinning for it than serving). With a memo, the file
/// is looked at once per ``Memo/refresh()``: a connection refreshes it for each read from its
/// client, so the requests that arrived together are judged by the file as it was when they
/// were read, and every request read after a revocation is refused.
///
/// A file that cannot be read (made too open, damaged) leaves no token valid until it is
/// mended: the server fails closed, and says so once through `report`.
public final class TokenWatcher: Sendable {
  private let path: String
  private let report: @Sendable (TokenError) -> Void
  private let state = Mutex<(stamp: Stamp, book: TokenBook)>((Stamp(), TokenBook()))

  /// What changes when the file is replaced or written: inode, size, modification and change
  /// times, mode; all zero for a file that is not there.
  struct Stamp: Hashable, Sendable {
    var inode: UInt64 = 0
    var size: Int64 = 0
    var modified = timespec()
    var changed = timespec()
    var mode: UInt32 = 0

    static func == (a: Stamp, b: Stamp) -> Bool {
      a.inode == b.inode && a.size == b.size && a.mode == b.mode
        && a.modified.tv_sec == b.modified.tv_sec && a.modified.tv_nsec == b.modified.tv_nsec
        && a.changed.tv_sec == b.changed.tv_sec && a.changed.tv_nsec == b.changed.tv_nsec
    }

    func hash(into hasher: inout Hasher) {
      hasher.combine(inode)
      hasher.combine(modified.tv_nsec)
    }
  }

  /// One connection's last answer: the file as it was, the secret given, the token it named.
  public struct Memo: Sendable {
    fileprivate var stamp: Stamp?
    fileprivate var secret: [UInt8] = []
    fileprivate var token: APIToken?
    /// The file's stamp since the last refresh, once looked at.
    fileprivate var seen: Stamp?

    /// An empty memo, for a new connection.
    public init() {}

    /// Makes the next answer look at the file again (a connection calls it per read).
    public mutating func refresh() { seen = nil }
  }

  /// Watches the token file at `path`.
  ///
  /// - Throws: ``TokenError`` when the file cannot be read at start.
  public init(path: String, report: @escaping @Sendable (TokenError) -> Void) throws(TokenError) {
    self.path = path
    self.report = report
    let book = try TokenBook.load(from: path)
    let stamp = Self.stamp(path)
    state.withLock { $0 = (stamp, book) }
  }

  /// The token whose secret this is, in the file as it is now.
  public func token(secret: String) -> APIToken? {
    current().token(secret: secret)
  }

  /// The token whose secret this is, in the file as it is now, answered from `memo` when the
  /// file and the secret are those of its last answer.
  public func token(secret: some Collection<UInt8>, memo: inout Memo) -> APIToken? {
    let stamp = memo.seen ?? Self.stamp(path)
    memo.seen = stamp
    let given = Array(secret)
    if memo.stamp == stamp && TokenCrypto.equal(memo.secret, given) { return memo.token }
    let token = current(stamp).token(secret: given)
    (memo.stamp, memo.secret, memo.token) = (stamp, given, token)
    return token
  }

  /// The book, read again if the file changed since it was last read.
  public func current() -> TokenBook { current(Self.stamp(path)) }

  private func current(_ stamp: Stamp) -> TokenBook {
    state.withLock { state in
      guard stamp != state.stamp else { return state.book }
      do throws(TokenError) {
        state = (stamp, try TokenBook.load(from: path))
      } catch {
        state = (stamp, TokenBook())
        report(error)
      }
      return state.book
    }
  }

  /// The file's stamp now.
  private static func stamp(_ path: String) -> Stamp {
    var info = stat()
    guard stat(path, &info) == 0 else { return Stamp() }
    return Stamp(
      inode: UInt64(info.st_ino), size: Int64(info.st_size), modified: info.st_mtim,
      changed: info.st_ctim, mode: info.st_mode)
  }
}
