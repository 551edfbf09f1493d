extension IssueLog {
  /// The serials of `range` that no run recorded here issued for `channel`, as ranges in order
  /// (a block of a range nobody printed is worth a warning).
  ///
  /// - Throws: ``CampaignError`` when the log cannot be read.
  public func neverIssued(channel: ChannelID, in range: ClosedRange<Int>) throws(CampaignError)
    -> [ClosedRange<Int>]
  {
    let issued = try entries().filter { $0.channel == channel && $0.count > 0 }
      .map { $0.first...($0.first + $0.count - 1) }
      .sorted { $0.lowerBound < $1.lowerBound }
    var gaps: [ClosedRange<Int>] = []
    var next = range.lowerBound  // the first serial not yet accounted for
    for run in issued where run.upperBound >= next {
      guard next <= range.upperBound else { break }
      if run.lowerBound > next {
        gaps.append(next...min(run.lowerBound - 1, range.upperBound))
      }
      next = max(next, run.upperBound + 1)
    }
    if next <= range.upperBound { gaps.append(next...range.upperBound) }
    return gaps
  }
}
