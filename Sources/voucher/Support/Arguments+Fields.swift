import VoucherRegistry

/// Wraps an identifier check into a usage error.
func field<T>(_ make: () throws(InvalidField) -> T) throws -> T {
  do {
    return try make()
  } catch {
    throw CommandError(error)
  }
}
