/// Little-endian encoding of the registry's binary records and headers.
struct ByteWriter {
  var bytes: [UInt8] = []

  mutating func u8(_ value: UInt8) { bytes.append(value) }
  mutating func u16(_ value: UInt16) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
  mutating func u32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
  mutating func u64(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
  mutating func i64(_ value: Int64) { u64(UInt64(bitPattern: value)) }

  /// A short string: one length byte, then UTF-8 (at most 255 bytes).
  mutating func short(_ text: String?) {
    let utf8 = Array((text ?? "").utf8)
    precondition(utf8.count <= 255, "short strings are checked before encoding")
    u8(UInt8(utf8.count))
    bytes += utf8
  }

  /// A long string: two length bytes, then UTF-8.
  mutating func long(_ text: String?) {
    let utf8 = Array((text ?? "").utf8)
    precondition(utf8.count <= 65_535, "long strings are checked before encoding")
    u16(UInt16(utf8.count))
    bytes += utf8
  }
}

/// Reads what ``ByteWriter`` wrote; any read past the end makes the reader fail.
struct ByteReader {
  let bytes: ArraySlice<UInt8>
  private(set) var position: Int
  private(set) var failed = false

  init(_ bytes: ArraySlice<UInt8>) {
    self.bytes = bytes
    position = bytes.startIndex
  }

  var isAtEnd: Bool { position == bytes.endIndex }

  mutating func take(_ count: Int) -> ArraySlice<UInt8>? {
    guard !failed, bytes.endIndex - position >= count else {
      failed = true
      return nil
    }
    defer { position += count }
    return bytes[position..<(position + count)]
  }

  private mutating func integer<T: FixedWidthInteger>(_ type: T.Type) -> T {
    guard let slice = take(MemoryLayout<T>.size) else { return 0 }
    return slice.reversed().reduce(T(0)) { $0 << 8 | T($1) }
  }

  mutating func u8() -> UInt8 { integer(UInt8.self) }
  mutating func u16() -> UInt16 { integer(UInt16.self) }
  mutating func u32() -> UInt32 { integer(UInt32.self) }
  mutating func u64() -> UInt64 { integer(UInt64.self) }
  mutating func i64() -> Int64 { Int64(bitPattern: u64()) }

  mutating func short() -> String? { string(count: Int(u8())) }
  mutating func long() -> String? { string(count: Int(u16())) }

  private mutating func string(count: Int) -> String? {
    guard let slice = take(count) else { return nil }
    if count == 0 { return nil }
    guard let text = String(validating: slice, as: UTF8.self) else {
      failed = true
      return nil
    }
    return text
  }
}
