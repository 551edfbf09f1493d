/// Splits a JSON Lines byte stream into requests, as it arrives in pieces: a request per line
/// that ends in a line feed; a line longer than the limit is answered with an error and skipped
/// to its end, so that no client can make a reader buffer without bound.
///
/// A line still without its end when the client stops is not a request.
public struct JSONLinesFramer: Sendable {
  /// The longest request line accepted by default: 64 KiB.
  public static let defaultLineLimit = 64 << 10

  /// The longest request line accepted, in bytes without its line feed.
  public let lineLimit: Int
  /// The bytes of the line not yet ended.
  private var pending: [UInt8] = []
  /// Whether the line not yet ended was too long already, and is skipped to its end.
  private var discarding = false

  /// A framer for one client's stream.
  ///
  /// - Parameter lineLimit: The longest request line accepted.
  public init(lineLimit: Int = defaultLineLimit) {
    self.lineLimit = lineLimit
  }

  /// The requests that the next piece of the stream completes, in order.
  ///
  /// - Parameter bytes: The bytes read, in the order they came.
  /// - Returns: A request per line ended in `bytes`, and one error for a line that grew past the
  ///   limit.
  public mutating func requests(in bytes: UnsafeBufferPointer<UInt8>) -> [IncomingRequest] {
    var requests: [IncomingRequest] = []
    let tooLong = IncomingRequest.unreadable("the line is longer than \(lineLimit) bytes")
    let n = bytes.count
    var start = 0
    for index in 0..<n where bytes[index] == 0x0A {
      if discarding {
        discarding = false
      } else if pending.count + (index - start) > lineLimit {
        requests.append(tooLong)
      } else {
        pending += bytes[start..<index]
        requests.append(IncomingRequest(line: pending))
      }
      pending = []
      start = index + 1
    }
    if start < n && !discarding {
      pending += bytes[start..<n]
    }
    if pending.count > lineLimit {
      requests.append(tooLong)
      pending = []
      discarding = true
    }
    return requests
  }
}
