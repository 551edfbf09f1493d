import Foundation
import Testing

/// Whether `python3` can import a module.
func pythonHas(_ module: String) -> Bool {
  runBinary(["python3", "-c", "import \(module)"], executable: "/usr/bin/env").status == 0
}

let duckDBAvailable = pythonHas("duckdb")

@Suite("CSV exports as readers that guess the dialect see them")
struct CSVReadersTests {
  /// A home whose export has more rows than DuckDB samples (20,480) before the first field with a
  /// comma or quote in it: the case that broke `read_csv_auto` when only such fields were quoted.
  func longHistory() throws -> (home: Home, codes: [String]) {
    let home = try Home()
    let issued = home.run("issue", "--campaign", "summer", "--channel", "flyer", "--count", "21000")
    try #require(issued.status == 0)
    let codes = issued.stdoutLines
    // Early rows with every kind of field: a claim, a void, a block, a terminal and a request.
    try #require(home.run("claim", "--profile", "crm:P1", codes[0]).status == 0)
    try #require(
      home.run("redeem", "--store", "S1", "--terminal", "T1", "--request", "r-1", codes[0]).status
        == 0)
    try #require(home.run("void", "--reason", "till error", codes[0]).status == 0)
    try #require(
      home.run(
        "block", "--campaign", "summer", "--channel", "receipt", "--serials", "1-10", "--reason",
        "box 1"
      ).status == 0)
    var requests = ""
    for (number, code) in codes.enumerated().dropFirst() {
      requests +=
        #"{"id":\#(number),"op":"redeem","code":"\#(code)","store":"S\#(number % 7)","terminal":"T1"}"#
        + "\n"
    }
    let served = home.run(arguments: ["serve", "--stdio"], stdin: Data(requests.utf8))
    try #require(served.status == 0 && served.stdoutLines.count == codes.count - 1)
    // Late rows with commas and quotes in their text.
    try #require(home.run("void", "--reason", #"oops, "wrong" till"#, codes[20_999]).status == 0)
    try #require(
      home.run(
        "block", "--campaign", "summer", "--channel", "receipt", "--serials", "20-30", "--reason",
        "lost, box 7"
      ).status == 0)
    return (home, codes)
  }

  /// The long history exported as CSV to `events.csv` in the home.
  func exportedHistory() throws -> (home: Home, codes: [String], file: String) {
    let (home, codes) = try longHistory()
    let file = home.path + "/events.csv"
    try #require(home.run("export", "--output", file).status == 0)
    return (home, codes, file)
  }

  @Test(
    "DuckDB's read_csv_auto reads the export with default options, every column typed",
    .enabled(if: duckDBAvailable, "Python's duckdb module is not installed (.ci/run installs it)"))
  func duckDB() throws {
    let (home, codes, file) = try exportedHistory()
    defer { home.remove() }
    let script = """
      import duckdb, json, sys
      path = sys.argv[1].replace("'", "''")
      relation = duckdb.sql(f"select * from read_csv_auto('{path}')")
      rows = relation.fetchall()
      reasons = sorted({row[relation.columns.index("reason")] or "" for row in rows})
      print(json.dumps({"types": {c: str(t) for c, t in zip(relation.columns, relation.types)},
                        "count": len(rows), "reasons": reasons}))
      """
    let read = runBinary(["python3", "-c", script, file], executable: "/usr/bin/env")
    try #require(read.status == 0, "\(read.stderr)")
    let answer = try #require(
      try JSONSerialization.jsonObject(with: Data(read.stdout.utf8)) as? [String: Any])
    let types = try #require(answer["types"] as? [String: String])
    #expect(
      types == [
        "event": "VARCHAR", "time": "TIMESTAMP WITH TIME ZONE", "campaign": "VARCHAR",
        "channel": "VARCHAR", "serial": "BIGINT", "lastSerial": "BIGINT", "code": "VARCHAR",
        "venue": "VARCHAR", "store": "VARCHAR", "terminal": "VARCHAR", "profile": "VARCHAR",
        "profileErased": "BOOLEAN", "request": "VARCHAR", "reason": "VARCHAR", "id": "BIGINT",
        "undoes": "BIGINT", "prize": "VARCHAR",
      ])
    // 21,000 redemptions, a claim, two voids, two blocks.
    #expect(answer["count"] as? Int == codes.count + 5)
    #expect(
      answer["reasons"] as? [String] == ["", "box 1", "lost, box 7", #"oops, "wrong" till"#, "till error"])
  }

  @Test(
    "Python's csv module reads every row as 17 fields: booleans never blank, one time precision, text exact"
  )
  func pythonCSV() throws {
    let (home, _, file) = try exportedHistory()
    defer { home.remove() }
    let script = """
      import csv, re, sys
      with open(sys.argv[1], newline="") as f:
          rows = list(csv.DictReader(f))
      print(len(rows), sorted({len(row) for row in rows}))
      print(sorted({row["profileErased"] for row in rows}))
      print(all(re.fullmatch(r"\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z", row["time"]) for row in rows))
      print(sorted({row["reason"] for row in rows}))
      """
    let read = runBinary(["python3", "-c", script, file], executable: "/usr/bin/env")
    #expect(read.status == 0, "\(read.stderr)")
    #expect(
      read.stdoutLines == [
        "21005 [17]", "['false']", "True",
        #"['', 'box 1', 'lost, box 7', 'oops, "wrong" till', 'till error']"#,
      ])
  }
}
