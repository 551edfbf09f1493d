/// Where one client's answers go: each transport implements it for a connection (a JSON Lines
/// session over standard input or a socket, an HTTP connection).
///
/// The engine hands a client its answers in the order of its requests. Answers made at once, on
/// the thread that submitted the requests (``deliverNow(_:)``), come only when nothing of the
/// client waits for the engine; they must still go out after anything ``deliver(_:)`` queued.
public protocol ServiceClient: AnyObject, Sendable {
  /// Takes answers the engine made: all of one batch's answers for this client, in request
  /// order. Called on the engine's thread, so it must not wait for the client (queue the write).
  ///
  /// - Parameter answers: One answer per request, in order.
  func deliver(_ answers: [ServiceAnswer])

  /// Takes answers made on the thread that submitted their requests (verifies answered at once:
  /// those of one submission that come before anything sent to the engine, together). It may
  /// write before returning, after anything queued before.
  ///
  /// - Parameter answers: The answers, in request order.
  func deliverNow(_ answers: [ServiceAnswer])

  /// Every request submitted was answered and the client's input has ended: nothing more will be
  /// delivered. Called once.
  func finished()
}

extension ServiceClient {
  /// Hands the answers to ``deliver(_:)``.
  public func deliverNow(_ answers: [ServiceAnswer]) { deliver(answers) }

  /// Does nothing.
  public func finished() {}
}
