/// The identity of one event in a registry: opaque to callers, ordered as the events were
/// recorded, and stable for the registry's life (a till's receipt, an export's cursor).
///
/// Each store chooses its own numbers (the file registry uses the event's place in its journal;
/// a database its row's sequence); callers only compare, store and print them.
public struct EventID: Sendable, Hashable, Comparable, CustomStringConvertible {
  /// The store's number for the event.
  package let value: Int64

  /// An event id from a store's own number.
  package init(_ value: Int64) { self.value = value }

  /// The id as printed in exports and JSON: a decimal number.
  public var description: String { String(value) }

  public static func < (a: EventID, b: EventID) -> Bool { a.value < b.value }
}
