/// Why a request line is not a request.
public struct JSONLineError: Error, Sendable, CustomStringConvertible {
  /// What is wrong, and at which byte.
  public let description: String
}

/// Parses one line as a flat JSON object: keys to strings, numbers, booleans or null. Nested
/// objects and arrays are refused, so that no request can make the parser recurse or allocate
/// beyond its line.
public enum JSONLine {
  /// Parses one line (without its line feed) as a flat JSON object.
  ///
  /// - Parameter bytes: The line's bytes.
  /// - Returns: The object's fields.
  /// - Throws: ``JSONLineError`` naming what is wrong and where: not an object, a nested value,
  ///   a repeated key, text after the object, text that is not UTF-8, ...
  public static func parse(_ bytes: [UInt8]) throws(JSONLineError) -> [String: JSONScalar] {
    var parser = Parser(bytes: bytes)
    return try parser.object()
  }

  private struct Parser {
    let bytes: [UInt8]
    var position = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    func fail(_ text: String) -> JSONLineError {
      JSONLineError(description: "\(text) at byte \(position + 1)")
    }

    mutating func skipSpace() {
      while position < bytes.count, [0x20, 0x09, 0x0D, 0x0A].contains(bytes[position]) {
        position += 1
      }
    }

    mutating func expect(_ byte: UInt8) throws(JSONLineError) {
      skipSpace()
      guard position < bytes.count, bytes[position] == byte else {
        throw fail("expected '\(Character(Unicode.Scalar(byte)))'")
      }
      position += 1
    }

    mutating func object() throws(JSONLineError) -> [String: JSONScalar] {
      try expect(0x7B)
      var fields: [String: JSONScalar] = [:]
      skipSpace()
      if position < bytes.count, bytes[position] == 0x7D {
        position += 1
      } else {
        while true {
          skipSpace()
          let key = try string()
          try expect(0x3A)
          let value = try scalar()
          guard fields[key] == nil else { throw fail("the key '\(key.prefix(32))' appears twice") }
          fields[key] = value
          skipSpace()
          guard position < bytes.count else { throw fail("the object is not closed") }
          if bytes[position] == 0x2C {
            position += 1
            continue
          }
          guard bytes[position] == 0x7D else { throw fail("expected ',' or '}'") }
          position += 1
          break
        }
      }
      skipSpace()
      guard position == bytes.count else { throw fail("text after the object") }
      return fields
    }

    mutating func scalar() throws(JSONLineError) -> JSONScalar {
      skipSpace()
      guard position < bytes.count else { throw fail("a value is missing") }
      switch bytes[position] {
      case 0x22: return .string(try string())
      case 0x7B, 0x5B: throw fail("nested objects and arrays are not accepted")
      case 0x74: return try literal("true", .bool(true))
      case 0x66: return try literal("false", .bool(false))
      case 0x6E: return try literal("null", .null)
      default: return .number(try number())
      }
    }

    mutating func literal(_ text: StaticString, _ value: JSONScalar) throws(JSONLineError)
      -> JSONScalar
    {
      let expected = UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
      guard bytes.count - position >= expected.count,
        bytes[position..<(position + expected.count)].elementsEqual(expected)
      else {
        throw fail("not a JSON value")
      }
      position += expected.count
      return value
    }

    /// A number in JSON's grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    mutating func number() throws(JSONLineError) -> String {
      let start = position
      func digits() -> Int {
        let from = position
        while position < bytes.count, (0x30...0x39).contains(bytes[position]) { position += 1 }
        return position - from
      }
      if position < bytes.count, bytes[position] == 0x2D { position += 1 }
      let integerStart = position
      let integerDigits = digits()
      guard integerDigits > 0, integerDigits == 1 || bytes[integerStart] != 0x30 else {
        throw fail("not a JSON number")
      }
      if position < bytes.count, bytes[position] == 0x2E {
        position += 1
        guard digits() > 0 else { throw fail("not a JSON number") }
      }
      if position < bytes.count, bytes[position] == 0x65 || bytes[position] == 0x45 {
        position += 1
        if position < bytes.count, bytes[position] == 0x2B || bytes[position] == 0x2D {
          position += 1
        }
        guard digits() > 0 else { throw fail("not a JSON number") }
      }
      guard position - start <= 32 else { throw fail("a number longer than 32 characters") }
      return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    mutating func string() throws(JSONLineError) -> String {
      guard position < bytes.count, bytes[position] == 0x22 else { throw fail("expected a string") }
      position += 1
      var out: [UInt8] = []
      while true {
        guard position < bytes.count else { throw fail("the string is not closed") }
        let byte = bytes[position]
        position += 1
        switch byte {
        case 0x22:
          guard let text = String(validating: out, as: UTF8.self) else {
            throw fail("the string is not valid UTF-8")
          }
          return text
        case 0x5C:
          guard position < bytes.count else { throw fail("the string is not closed") }
          let escape = bytes[position]
          position += 1
          switch escape {
          case 0x22, 0x5C, 0x2F: out.append(escape)
          case 0x62: out.append(0x08)
          case 0x66: out.append(0x0C)
          case 0x6E: out.append(0x0A)
          case 0x72: out.append(0x0D)
          case 0x74: out.append(0x09)
          case 0x75:
            var scalar = try hex4()
            if (0xD800...0xDBFF).contains(scalar) {
              guard bytes.count - position >= 6, bytes[position] == 0x5C,
                bytes[position + 1] == 0x75
              else {
                throw fail("a lone surrogate in \\u escape")
              }
              position += 2
              let low = try hex4()
              guard (0xDC00...0xDFFF).contains(low) else {
                throw fail("a lone surrogate in \\u escape")
              }
              scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            }
            guard let character = Unicode.Scalar(scalar) else {
              throw fail("a lone surrogate in \\u escape")
            }
            out += Array(String(character).utf8)
          default:
            throw fail("an unknown escape")
          }
        default:
          guard byte >= 0x20 else { throw fail("a control character in a string") }
          out.append(byte)
        }
      }
    }

    mutating func hex4() throws(JSONLineError) -> UInt32 {
      guard bytes.count - position >= 4 else { throw fail("a short \\u escape") }
      var value: UInt32 = 0
      for _ in 0..<4 {
        let byte = bytes[position]
        position += 1
        let digit: UInt32
        switch byte {
        case 0x30...0x39: digit = UInt32(byte - 0x30)
        case 0x41...0x46: digit = UInt32(byte - 0x41 + 10)
        case 0x61...0x66: digit = UInt32(byte - 0x61 + 10)
        default: throw fail("a bad \\u escape")
        }
        value = value << 4 | digit
      }
      return value
    }
  }
}
