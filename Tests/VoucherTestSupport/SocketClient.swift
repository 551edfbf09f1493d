import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A JSON Lines client of `voucher serve --socket`, for the tests and the benchmark.
public final class SocketClient {
  /// Why a client could not connect.
  public struct ConnectError: Error, CustomStringConvertible {
    public let description: String
  }

  private let fd: Int32
  private var buffer: [UInt8] = []

  /// Connects, retrying for up to `timeout` seconds while the server starts.
  public init(path: String, timeout: Double = 10) throws {
    fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
      let bytes = Array(path.utf8)
      raw.copyBytes(from: bytes)
      raw[bytes.count] = 0
    }
    let deadline = Date().addingTimeInterval(timeout)
    while true {
      let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
        }
      }
      if result == 0 { return }
      guard Date() < deadline else {
        Glibc.close(fd)
        throw ConnectError(description: "cannot connect to \(path)")
      }
      usleep(20_000)
    }
  }

  deinit { Glibc.close(fd) }

  /// Sends text (request lines); stops quietly if the server has gone.
  public func send(_ text: String) {
    var copy = text
    copy.withUTF8 { bytes in
      var done = 0
      while done < bytes.count {
        let n = Glibc.send(fd, bytes.baseAddress! + done, bytes.count - done, Int32(MSG_NOSIGNAL))
        if n <= 0 { return }
        done += n
      }
    }
  }

  /// Reads up to `count` lines; fewer if the server closes the connection.
  public func lines(_ count: Int) -> [String] {
    var out: [String] = []
    out.reserveCapacity(count)
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while out.count < count {
      if let newline = buffer.firstIndex(of: 0x0A) {
        out.append(String(decoding: buffer[..<newline], as: UTF8.self))
        buffer.removeSubrange(...newline)
        continue
      }
      let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      if n <= 0 { break }
      buffer += chunk[..<n]
    }
    return out
  }

  /// Closes the connection in both directions.
  public func close() { shutdown(fd, Int32(SHUT_RDWR)) }
}
