/// A column that `issue` can write in CSV or JSON (`--columns`).
public enum IssueColumn: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible
{
  /// The serial within the channel.
  case serial
  /// The printed code.
  case code
  /// The registration link: the layout's URL template with the code filled in.
  case url
  /// The campaign's id.
  case campaign
  /// The channel's name.
  case channel
  /// The campaign's last day, or empty (`null` in JSON) when it has none.
  case ends

  public var description: String { rawValue }
}
