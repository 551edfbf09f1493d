/// The bounds a strict HTTP/1.1 server keeps, so that no client can make it buffer, wait or hold
/// a connection without end.
public struct HTTPLimits: Sendable, Hashable {
  /// The longest request line (method, target, version), in bytes: 414 past it.
  public var requestLine: Int
  /// The largest header section (the request line and every field), in bytes: 431 past it.
  public var headerBytes: Int
  /// The most header fields: 431 past it.
  public var headerFields: Int
  /// The largest body, decoded, in bytes: 413 past it.
  public var bodyBytes: Int
  /// Seconds a client has from the first byte of a request to its last (a slow header or body,
  /// "slowloris"): 408 and the connection closed past it.
  public var requestSeconds: Double
  /// Seconds a keep-alive connection may stay idle between requests before it is closed.
  public var idleSeconds: Double
  /// The most connections open at once; one more is answered 503 and closed.
  public var connections: Int

  /// The defaults: a 4 KiB request line, 16 KiB of headers in at most 64 fields, a 64 KiB body,
  /// 10 seconds per request, 30 seconds idle, 256 connections.
  public init(
    requestLine: Int = 4096, headerBytes: Int = 16 << 10, headerFields: Int = 64,
    bodyBytes: Int = 64 << 10, requestSeconds: Double = 10, idleSeconds: Double = 30,
    connections: Int = 256
  ) {
    self.requestLine = requestLine
    self.headerBytes = headerBytes
    self.headerFields = headerFields
    self.bodyBytes = bodyBytes
    self.requestSeconds = requestSeconds
    self.idleSeconds = idleSeconds
    self.connections = connections
  }
}
