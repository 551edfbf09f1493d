/// What a print file holds besides the codes: the file format, its columns, and a registration
/// link per code.
///
/// The plain layouts (`serial,code` CSV, `code`/`serial` JSON, one code per line) take the
/// issuer's fastest path; a layout with chosen columns or a URL is rendered from a row template
/// made once per run.
public struct IssueLayout: Sendable, Hashable {
  /// The file format.
  public let format: IssueFormat
  /// The columns, in order (CSV and JSON); empty for text.
  public let columns: [IssueColumn]
  /// The registration link template, when the layout has one.
  public let url: URLTemplate?

  /// The columns a format writes when none are chosen: `serial,code` in CSV and JSON, plus
  /// `url` with a template; text writes the code alone.
  public static func defaultColumns(_ format: IssueFormat, url: URLTemplate?) -> [IssueColumn] {
    format == .text ? [] : [.serial, .code] + (url == nil ? [] : [.url])
  }

  /// A layout.
  ///
  /// - Parameters:
  ///   - format: The file format.
  ///   - columns: The columns, or `nil` for the format's default.
  ///   - url: The registration link template.
  /// - Throws: ``IssueLayoutError`` for columns with text, a column given twice, or a `url`
  ///   column without a template.
  public init(format: IssueFormat, columns: [IssueColumn]? = nil, url: URLTemplate? = nil)
    throws(IssueLayoutError)
  {
    if format == .text && (columns != nil || url != nil) { throw .columnsNeedCSVOrJSON }
    let columns = columns ?? Self.defaultColumns(format, url: url)
    if format != .text && columns.isEmpty { throw .noColumns }
    if let twice = columns.first(where: { column in columns.filter { $0 == column }.count > 1 }) {
      throw .repeatedColumn(twice)
    }
    if columns.contains(.url) && url == nil { throw .urlColumnWithoutTemplate }
    self.format = format
    self.columns = columns
    self.url = url
  }

  /// Whether the layout is the format's plain one, which the issuer writes on its fast path.
  var isPlain: Bool {
    url == nil && columns == Self.defaultColumns(format, url: nil)
  }
}

/// Why a layout was refused.
public enum IssueLayoutError: Error, Sendable, Hashable, CustomStringConvertible {
  /// Columns or a URL were asked for in text format.
  case columnsNeedCSVOrJSON
  /// The column list is empty.
  case noColumns
  /// A column is listed twice.
  case repeatedColumn(IssueColumn)
  /// The `url` column was asked for without a URL template.
  case urlColumnWithoutTemplate

  public var description: String {
    switch self {
    case .columnsNeedCSVOrJSON:
      return "--columns and --url go with --format csv or json (text holds the codes alone)"
    case .noColumns: return "--columns names no column"
    case .repeatedColumn(let column): return "--columns names '\(column)' twice"
    case .urlColumnWithoutTemplate: return "the url column needs --url with a template"
    }
  }
}
