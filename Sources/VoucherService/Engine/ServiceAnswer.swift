import VoucherRegistry

/// The answer to one request, before a transport encodes it.
public struct ServiceAnswer: Sendable {
  /// What an answer says.
  public enum Result: Sendable {
    /// An answer about a code: `valid`, `redeemed`, `used-up`, `forged`, ...
    case outcome(Outcome)
    /// The request itself is wrong (not a JSON object, an unknown field, a bad store id, ...);
    /// the text says why.
    case invalid(String)
    /// The registry could not carry out the operation: nothing of it is answered as done.
    case failed(RegistryError)
  }

  /// The request's `id`, echoed as sent; `null` when the request could not be read.
  public let id: JSONScalar
  /// What the answer says.
  public let result: Result

  /// An answer to the request with this id.
  public init(id: JSONScalar, _ result: Result) {
    self.id = id
    self.result = result
  }

  /// The answer as one JSON line (without its line feed), as `serve` writes it: the outcome's
  /// fields and the id, or `{"error": ..., "id": ..., "status": "error"}`.
  ///
  /// - Parameter describe: Words a registry error for this front end's clients (the command
  ///   line names its own commands).
  /// - Returns: One compact JSON object, keys sorted.
  public func jsonLine(describing describe: (RegistryError) -> String) -> String {
    switch result {
    case .outcome(let outcome): return outcome.json(id: id)
    case .invalid(let message): return Self.errorLine(id: id, message)
    case .failed(let error): return Self.errorLine(id: id, describe(error))
    }
  }

  /// An error answer: `{"error": message, "id": id, "status": "error"}`.
  public static func errorLine(id: JSONScalar, _ message: String) -> String {
    var writer = JSONWriter()
    writer.add("error", message)
    writer.add(raw: "id", id.json)
    writer.add("status", "error")
    return writer.line
  }
}
