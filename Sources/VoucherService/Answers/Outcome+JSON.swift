import VoucherKit
import VoucherRegistry

extension Outcome {
  /// The answer as one compact JSON object, keys sorted: the one encoder of answers. `serve`
  /// sends it with the request's id as one line; the CLI prints it as it is in a stream and
  /// indented (``JSONText/indented(_:)``) for one code.
  ///
  /// - Parameter id: The request's id, echoed as sent; `nil` leaves the key out.
  /// - Returns: One compact JSON object, without a line feed.
  public func json(id: JSONScalar? = nil) -> String {
    var writer = JSONWriter()
    writer.add("campaign", campaign)
    writer.add("channel", channel)
    writer.add("code", code)
    if let events { writer.add(raw: "events", Event.json(events, zone: zone)) }
    if let id { writer.add(raw: "id", id.json) }
    writer.add("input", input)
    writer.add("message", message)
    if let prize { writer.add(raw: "prize", prize.map(JSONWriter.quoted) ?? "null") }
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
    if status == Outcome.profileLimitStatus {
      if let until { writer.add("until", until) } else { writer.add(raw: "until", "null") }
    }
    writer.add("usesLeft", usesLeft)
    writer.add("venue", venue)
    return writer.line
  }
}

extension Event {
  /// The event as one compact JSON object, keys sorted, as `history` shows it everywhere:
  /// `event`, `time` (as shown in `zone`) and the fields it has; `profileErased` only when the
  /// profile was erased.
  public func json(zone: ZoneRules = .utc) -> String {
    var writer = JSONWriter()
    writer.add("event", kind.rawValue)
    writer.add("profile", profile)
    writer.add("profileErased", profileErased ? true : nil)
    writer.add("reason", reason)
    writer.add("request", request)
    writer.add("store", store)
    writer.add("terminal", terminal)
    writer.add("time", zone.format(time))
    writer.add("venue", venue?.rawValue)
    return writer.line
  }

  /// Events as one compact JSON array, in the order given.
  public static func json(_ events: [Event], zone: ZoneRules = .utc) -> String {
    "[" + events.map { $0.json(zone: zone) }.joined(separator: ",") + "]"
  }
}
