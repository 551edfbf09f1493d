internal import COpenSSLTLS
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// A connection's byte stream: a plain socket, or TLS over one (libssl). Used by one thread,
/// the connection's; ``stopReading()`` may come from another (a shutdown).
protocol ByteStream: AnyObject {
  /// The socket.
  var fd: Int32 { get }
  /// Reads up to `count` bytes; 0 at the end, negative on failure.
  func read(_ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int
  /// Whether bytes are buffered already (TLS records decrypted and not yet read).
  var hasBuffered: Bool { get }
  /// Writes every byte; `false` when the peer went away or the write timed out.
  func write(_ bytes: [UInt8]) -> Bool
  /// Ends the stream and closes the socket.
  func close()
}

/// A plain TCP connection.
final class PlainStream: ByteStream {
  let fd: Int32
  init(fd: Int32) { self.fd = fd }

  func read(_ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    while true {
      let n = Glibc.read(fd, buffer, count)
      if n < 0 && errno == EINTR { continue }
      return n
    }
  }

  var hasBuffered: Bool { false }

  func write(_ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { raw in
      var done = 0
      while done < raw.count {
        let n = send(fd, raw.baseAddress! + done, raw.count - done, Int32(MSG_NOSIGNAL))
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { return false }
        done += n
      }
      return true
    }
  }

  func close() { Glibc.close(fd) }
}

/// Why TLS could not be set up: the files given, in OpenSSL's words.
struct TLSError: Error, CustomStringConvertible {
  let description: String
}

/// The server's TLS settings: its certificate chain and key and, optionally, the CAs whose
/// client certificates it requires. One per server; each connection makes its own session.
final class TLSServer: Sendable {
  /// The `SSL_CTX`, behind a lock: libssl shares it between threads, Swift needs it said.
  private let context: Mutex<OpaquePointer>

  /// Loads the certificate chain and key (PEM) and, with `clientCA`, requires client
  /// certificates signed by it. TLS 1.2 at least.
  init(certificate: String, key: String, clientCA: String?) throws(TLSError) {
    guard let context = SSL_CTX_new(TLS_server_method()) else {
      throw TLSError(description: "OpenSSL could not make a TLS context: \(Self.lastError())")
    }
    _ = SSL_CTX_ctrl(context, SSL_CTRL_SET_MIN_PROTO_VERSION, Int(TLS1_2_VERSION), nil)
    guard SSL_CTX_use_certificate_chain_file(context, certificate) == 1 else {
      SSL_CTX_free(context)
      throw TLSError(description: "\(certificate): not a PEM certificate: \(Self.lastError())")
    }
    guard SSL_CTX_use_PrivateKey_file(context, key, SSL_FILETYPE_PEM) == 1 else {
      SSL_CTX_free(context)
      throw TLSError(description: "\(key): not a PEM private key: \(Self.lastError())")
    }
    guard SSL_CTX_check_private_key(context) == 1 else {
      SSL_CTX_free(context)
      throw TLSError(description: "\(key) is not the key of \(certificate)")
    }
    if let clientCA {
      guard SSL_CTX_load_verify_locations(context, clientCA, nil) == 1 else {
        SSL_CTX_free(context)
        throw TLSError(description: "\(clientCA): not a PEM CA certificate: \(Self.lastError())")
      }
      SSL_CTX_set_verify(context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nil)
    }
    self.context = Mutex(context)
  }

  deinit {
    context.withLock { SSL_CTX_free($0) }
  }

  /// Runs the server's side of a handshake on an accepted socket (bounded by the socket's
  /// receive timeout); `nil` when it fails (the socket is then closed, after `beforeClose`).
  func accept(fd: Int32, beforeClose: () -> Void) -> ByteStream? {
    guard let ssl = context.withLock({ SSL_new($0) }) else {
      beforeClose()
      Glibc.close(fd)
      return nil
    }
    SSL_set_fd(ssl, fd)
    guard SSL_accept(ssl) == 1 else {
      SSL_free(ssl)
      beforeClose()
      Glibc.close(fd)
      return nil
    }
    return TLSStream(ssl: ssl, fd: fd)
  }

  static func lastError() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    ERR_error_string_n(ERR_get_error(), &buffer, buffer.count)
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
}

/// A TLS session over an accepted socket.
final class TLSStream: ByteStream {
  private let ssl: OpaquePointer
  let fd: Int32

  init(ssl: OpaquePointer, fd: Int32) {
    self.ssl = ssl
    self.fd = fd
  }

  func read(_ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    let n = SSL_read(ssl, buffer, Int32(min(count, Int(Int32.max))))
    if n > 0 { return Int(n) }
    return SSL_get_error(ssl, n) == SSL_ERROR_ZERO_RETURN ? 0 : -1
  }

  var hasBuffered: Bool { SSL_pending(ssl) > 0 }

  func write(_ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { raw in
      var done = 0
      while done < raw.count {
        let n = SSL_write(ssl, raw.baseAddress! + done, Int32(min(raw.count - done, 1 << 20)))
        guard n > 0 else { return false }
        done += Int(n)
      }
      return true
    }
  }

  func close() {
    SSL_shutdown(ssl)
    SSL_free(ssl)
    Glibc.close(fd)
  }
}
