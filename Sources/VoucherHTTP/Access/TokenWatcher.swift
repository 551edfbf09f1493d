import Synchronization
import VoucherKit

#if canImport(Glibc)
  import Glibc
#endif

/// The token book as a running server sees it: the file is looked at (one `stat`) on every
/// request and read again when it changed, so `voucher tokens revoke` takes effect at once.
///
/// A file that cannot be read (made too open, damaged) leaves no token valid until it is
/// mended: the server fails closed, and says so once through `report`.
public final class TokenWatcher: Sendable {
  private let path: String
  private let report: @Sendable (TokenError) -> Void
  private let state = Mutex<(stamp: [Int64], book: TokenBook)>(([], TokenBook()))

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

  /// The book, read again if the file changed since it was last read.
  public func current() -> TokenBook {
    let stamp = Self.stamp(path)
    return state.withLock { state in
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

  /// What changes when the file is replaced or written: inode, size, modification time, mode.
  private static func stamp(_ path: String) -> [Int64] {
    var info = stat()
    guard stat(path, &info) == 0 else { return [-1] }
    return [
      Int64(info.st_ino), Int64(info.st_size), Int64(info.st_mtim.tv_sec),
      Int64(info.st_mtim.tv_nsec), Int64(info.st_mode), Int64(info.st_ctim.tv_nsec),
    ]
  }
}
