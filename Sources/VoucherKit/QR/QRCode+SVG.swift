extension QRCode {
  /// The code as a compact SVG document: a white square with a quiet zone of 4 modules, and all
  /// dark modules in one path of horizontal runs, drawn with crisp edges. One user unit is one
  /// module; the document scales to any size.
  public func svg() -> String {
    let side = size + 8
    var path = ""
    path.reserveCapacity(size * size)
    for y in 0..<size {
      var x = 0
      while x < size {
        guard self[x, y] else {
          x += 1
          continue
        }
        var run = 1
        while self[x + run, y] { run += 1 }
        path += "M\(x + 4) \(y + 4)h\(run)v1h-\(run)z"
        x += run
      }
    }
    return """
      <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(side) \(side)" \
      shape-rendering="crispEdges"><rect width="\(side)" height="\(side)" fill="#fff"/>\
      <path fill="#000" d="\(path)"/></svg>

      """
  }
}
