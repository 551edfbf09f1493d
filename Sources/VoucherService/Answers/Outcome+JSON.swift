import VoucherKit
import VoucherRegistry

extension Outcome {
  /// The answer as one JSON line (without its line feed), keys sorted, with the request's id:
  /// `serve`'s answer.
  ///
  /// - Parameter id: The request's id, echoed as sent.
  /// - Returns: One compact JSON object.
  public func jsonLine(id: JSONScalar) -> String { json(id: id) }

  /// The answer as one JSON object without an id, keys sorted: the fields of the command
  /// line's `--format json`, as the HTTP front answers.
  public var json: String { json(id: nil) }

  private func json(id: JSONScalar?) -> String {
    var writer = JSONWriter()
    writer.add("campaign", campaign)
    writer.add("channel", channel)
    writer.add("code", code)
    if let events {
      writer.add(
        raw: "events",
        "["
          + events.map { event in
            var item = JSONWriter()
            item.add("event", event.kind.rawValue)
            item.add("profile", event.profile)
            item.add("reason", event.reason)
            item.add("request", event.request)
            item.add("store", event.store)
            item.add("terminal", event.terminal)
            item.add("time", ISO8601.format(event.time))
            item.add("venue", event.venue?.rawValue)
            return item.line
          }.joined(separator: ",") + "]")
    }
    if let id { writer.add(raw: "id", id.json) }
    writer.add("input", input)
    writer.add("message", message)
    writer.add("profile", profile)
    writer.add("reason", reason)
    writer.add("replayed", replayed)
    writer.add("request", request)
    writer.add("serial", serial)
    writer.add("status", status)
    writer.add("store", store)
    writer.add("suggestion", suggestion)
    writer.add("terminal", terminal)
    writer.add("time", time)
    writer.add("title", title)
    writer.add("usesLeft", usesLeft)
    writer.add("venue", venue)
    return writer.line
  }
}
