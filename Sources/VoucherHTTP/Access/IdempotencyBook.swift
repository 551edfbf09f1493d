import FoundationEssentials
import Synchronization
import VoucherKit

#if canImport(Glibc)
  import Glibc
#endif

/// `Idempotency-Key`s of the HTTP writes (the IETF httpapi draft, as Stripe uses them): each key
/// of a token is bound to the first request made with it, durably, before the request goes to
/// the registry. The same key with the same request is carried out again with the same registry
/// request id, so the registry answers the original (also after a restart); with another request
/// it is refused (422); while the first is still in flight, a second is refused (409).
///
/// The bindings live in one append-only file of lines `time key-hash request-hash`, synced
/// before a request goes on; bindings older than a day are dropped when it is read.
public final class IdempotencyBook: Sendable {
  /// What a key says about a request.
  public enum Verdict: Sendable, Equatable {
    /// Go on; use this registry request id (the key's hash, scoped to the token).
    case proceed(request: String)
    /// The key was used with another request: 422.
    case mismatch
    /// The key's first request is still being answered: 409.
    case inFlight
    /// The binding could not be made durable: 503.
    case unavailable(String)
  }

  private let path: String
  private let state = Mutex<State>(State())
  /// How long a binding is kept, in seconds.
  public static let lifetime: Double = 86_400

  private struct State {
    var bound: [String: String] = [:]
    var inFlight: Set<String> = []
    var fd: Int32 = -1
    /// Whether a write or sync failed: never retried and then trusted (fsyncgate), so every
    /// later key is refused until the server restarts.
    var fenced = false
  }

  /// Reads the bindings of the last day from `path` and opens it for appending.
  ///
  /// - Throws: `SystemError` when it cannot be opened.
  public init(path: String, now: Double = Date().timeIntervalSince1970) throws(SystemError) {
    self.path = path
    var bound: [String: String] = [:]
    if let (bytes, _) = try? FileSystem.read(path, limit: 256 << 20) {
      for line in bytes.split(separator: 0x0A) {
        let fields = line.split(separator: 0x20).map { String(decoding: $0, as: UTF8.self) }
        // A torn last line (a crash while appending) is not a binding: its request never went on.
        guard fields.count == 3, let time = Double(fields[0]), fields[1].utf8.count == 40,
          fields[2].utf8.count == 64, now - time < Self.lifetime
        else { continue }
        bound[fields[1]] = fields[2]
      }
    }
    let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw SystemError("open", path) }
    state.withLock {
      $0.bound = bound
      $0.fd = fd
    }
  }

  deinit {
    state.withLock { if $0.fd >= 0 { close($0.fd) } }
  }

  /// Checks a key against a request and, for a new key, binds it durably.
  ///
  /// - Parameters:
  ///   - key: The `Idempotency-Key` as sent.
  ///   - token: The token's name: keys of different tokens never meet.
  ///   - request: What identifies the request: method, path and body.
  ///   - now: The time written with a new binding.
  public func begin(key: String, token: String, request: [UInt8], now: Double) -> Verdict {
    let keyHash = String(hexDigest(Array((token + "\n" + key).utf8)).prefix(40))
    let requestHash = hexDigest(request)
    return state.withLock { state in
      if state.inFlight.contains(keyHash) { return .inFlight }
      if state.fenced { return .unavailable("idempotency keys cannot be recorded") }
      if let bound = state.bound[keyHash] {
        guard bound == requestHash else { return .mismatch }
      } else {
        let line = Array("\(Int(now)) \(keyHash) \(requestHash)\n".utf8)
        let written = line.withUnsafeBytes { raw -> Bool in
          (try? FileSystem.writeAll(state.fd, raw, path: path)) != nil
        }
        guard written, fdatasync(state.fd) == 0 else {
          state.fenced = true
          return .unavailable("the idempotency key could not be recorded")
        }
        state.bound[keyHash] = requestHash
      }
      state.inFlight.insert(keyHash)
      return .proceed(request: "idem:" + keyHash)
    }
  }

  /// The request of a key was answered: the key may be used again (to replay it).
  public func end(request: String) {
    let keyHash = String(request.dropFirst(5))
    _ = state.withLock { $0.inFlight.remove(keyHash) }
  }
}

func hexDigest(_ bytes: [UInt8]) -> String {
  let digits = Array("0123456789abcdef".utf8)
  var out: [UInt8] = []
  for byte in TokenCrypto.sha256(bytes) {
    out.append(digits[Int(byte >> 4)])
    out.append(digits[Int(byte & 15)])
  }
  return String(decoding: out, as: UTF8.self)
}
