/// Where one client's answers go: each transport implements it for a connection (a JSON Lines
/// session over standard input or a socket, an HTTP connection).
///
/// The engine hands a client its answers in the order of its requests. An answer made at once,
/// on the thread that submitted the request (``deliverNow(_:)``), comes only when nothing of the
/// client waits for the engine; it must still go out after anything ``deliver(_:)`` queued.
public protocol ServiceClient: AnyObject, Sendable {
  /// Takes answers the engine made: all of one batch's answers for this client, in request
  /// order. Called on the engine's thread, so it must not wait for the client (queue the write).
  ///
  /// - Parameter answers: One answer per request, in order.
  func deliver(_ answers: [ServiceAnswer])

  /// Takes an answer made on the thread that submitted its request (a verify answered at once).
  /// It may write before returning, after anything queued before.
  ///
  /// - Parameter answer: The answer.
  func deliverNow(_ answer: ServiceAnswer)

  /// Every request submitted was answered and the client's input has ended: nothing more will be
  /// delivered. Called once.
  func finished()
}

extension ServiceClient {
  /// Hands the answer to ``deliver(_:)``.
  public func deliverNow(_ answer: ServiceAnswer) { deliver([answer]) }

  /// Does nothing.
  public func finished() {}
}
