import VoucherKit
import VoucherRegistry

#if canImport(Glibc)
  import Glibc
#endif

/// Errors of the token file and its commands.
public enum TokenError: Error, Sendable, Hashable, CustomStringConvertible {
  /// A token name is not 1 to 64 of `A-Z a-z 0-9 . _ : -`.
  case badName(String)
  /// A token with this name exists already.
  case exists(String)
  /// No token has this name.
  case unknown(String)
  /// A till token needs its store; other scopes take none.
  case storeMismatch(TokenScope)
  /// The token file is readable or writable by others than its owner.
  case tooOpen(path: String, mode: UInt16)
  /// A line of the token file is not a token; the file was edited by hand or damaged.
  case damaged(path: String, line: Int)
  /// The CSPRNG failed.
  case randomFailed
  /// Reading or writing the file failed.
  case io(SystemError)

  public var description: String {
    switch self {
    case .badName(let name):
      return "a token name must be 1 to 64 of A-Z a-z 0-9 . _ : -, not '\(printable(name))'"
    case .exists(let name): return "a token named '\(name)' exists already"
    case .unknown(let name): return "no token is named '\(printable(name))'"
    case .storeMismatch(let scope):
      return scope == .till ? "a till token needs its store" : "only a till token has a store"
    case .tooOpen(let path, let mode):
      return "\(path) is mode \(String(mode, radix: 8)); token hashes must be mode 0600"
    case .damaged(let path, let line): return "\(path) line \(line) is not a token"
    case .randomFailed: return "OpenSSL's random generator failed"
    case .io(let error): return error.description
    }
  }
}

/// The home's API tokens: a file of one line per token (`name scope store sha256`, mode 0600);
/// secrets are printed once when made and never kept.
public struct TokenBook: Sendable, Hashable {
  /// The tokens, in the order made.
  public private(set) var tokens: [APIToken]

  /// The token file of a home.
  public static func path(in home: VoucherHome) -> String { home.path + "/tokens" }

  /// A book of these tokens.
  public init(tokens: [APIToken] = []) {
    self.tokens = tokens
  }

  /// Reads the token file; a missing file is an empty book.
  ///
  /// - Throws: ``TokenError``: a file others may read, a damaged line, an I/O failure.
  public static func load(from path: String) throws(TokenError) -> TokenBook {
    let read: (bytes: [UInt8], mode: mode_t)
    do {
      read = try FileSystem.read(path, limit: 4 << 20)
    } catch {
      if error.code == ENOENT { return TokenBook() }
      throw .io(error)
    }
    guard read.mode & 0o077 == 0 else { throw .tooOpen(path: path, mode: UInt16(read.mode)) }
    var tokens: [APIToken] = []
    for (number, line) in zip(1..., read.bytes.split(separator: 0x0A)) {
      let fields = line.split(separator: 0x20).map { String(decoding: $0, as: UTF8.self) }
      guard fields.count == 4, isName(fields[0]), let scope = TokenScope(rawValue: fields[1]),
        let digest = hexBytes(fields[3]), digest.count == 32
      else { throw .damaged(path: path, line: number) }
      let store = fields[2] == "-" ? nil : fields[2]
      guard (scope == .till) == (store != nil) else { throw .damaged(path: path, line: number) }
      tokens.append(APIToken(name: fields[0], scope: scope, store: store, digest: digest))
    }
    return TokenBook(tokens: tokens)
  }

  /// Writes the book atomically, mode 0600.
  public func save(to path: String) throws(TokenError) {
    var text = ""
    for token in tokens {
      text +=
        "\(token.name) \(token.scope.rawValue) \(token.store ?? "-") \(hex(token.digest))\n"
    }
    do {
      try FileSystem.writeAtomically(path, Array(text.utf8), mode: 0o600)
    } catch {
      throw .io(error)
    }
  }

  /// Makes a token: its secret, to print once, is returned; only its hash is kept.
  ///
  /// - Throws: ``TokenError`` for a bad or taken name, a store given or missing against the
  ///   scope, or a failed CSPRNG.
  public mutating func add(name: String, scope: TokenScope, store: StoreID?) throws(TokenError)
    -> String
  {
    guard Self.isName(name) else { throw .badName(name) }
    guard !tokens.contains(where: { $0.name == name }) else { throw .exists(name) }
    guard (scope == .till) == (store != nil) else { throw .storeMismatch(scope) }
    guard let random = TokenCrypto.randomBytes(count: 32) else { throw .randomFailed }
    let secret = "vt_" + hex(random)
    tokens.append(
      APIToken(
        name: name, scope: scope, store: store?.rawValue,
        digest: TokenCrypto.sha256(Array(secret.utf8))))
    return secret
  }

  /// Removes a token by name.
  public mutating func revoke(name: String) throws(TokenError) {
    guard let index = tokens.firstIndex(where: { $0.name == name }) else { throw .unknown(name) }
    tokens.remove(at: index)
  }

  /// The token whose secret this is: every token is compared, each in constant time, so the
  /// time taken says nothing about which one matched or how far a guess came.
  public func token(secret: String) -> APIToken? { token(secret: Array(secret.utf8)) }

  /// The token whose secret these bytes are, compared by digest in constant time.
  func token(secret: [UInt8]) -> APIToken? {
    let digest = TokenCrypto.sha256(secret)
    var found: APIToken?
    for token in tokens where TokenCrypto.equal(token.digest, digest) {
      found = token
    }
    return found
  }

  static func isName(_ text: String) -> Bool {
    (1...64).contains(text.utf8.count)
      && text.utf8.allSatisfy {
        ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A)
          || $0 == 0x2E || $0 == 0x5F || $0 == 0x3A || $0 == 0x2D
      }
  }
}

private func hex(_ bytes: [UInt8]) -> String {
  let digits = Array("0123456789abcdef".utf8)
  var out: [UInt8] = []
  out.reserveCapacity(bytes.count * 2)
  for byte in bytes {
    out.append(digits[Int(byte >> 4)])
    out.append(digits[Int(byte & 15)])
  }
  return String(decoding: out, as: UTF8.self)
}

private func hexBytes(_ text: String) -> [UInt8]? {
  let chars = Array(text.utf8)
  guard chars.count % 2 == 0 else { return nil }
  func value(_ c: UInt8) -> UInt8? {
    switch c {
    case 0x30...0x39: return c - 0x30
    case 0x61...0x66: return c - 0x61 + 10
    default: return nil
    }
  }
  var out: [UInt8] = []
  var index = 0
  while index < chars.count {
    guard let high = value(chars[index]), let low = value(chars[index + 1]) else { return nil }
    out.append(high << 4 | low)
    index += 2
  }
  return out
}
