import FoundationEssentials
import VoucherKit

/// What one profile has done in one campaign that its limits count, as a store read it under
/// its isolation (the file registry under its lock, PostgreSQL in the transaction that records
/// the answer): its live redemptions' times (a void gives a use back) and its claims.
package struct ProfileUses: Sendable, Hashable {
  /// The times of the profile's live redemptions of the campaign's codes.
  package var redemptions: [Date]
  /// How many of the campaign's codes the profile claimed.
  package var claims: Int

  package init(redemptions: [Date] = [], claims: Int = 0) {
    self.redemptions = redemptions
    self.claims = claims
  }
}

/// What the rules need to apply a campaign's per-profile limits: the moment of the operation
/// and a profile's uses, as the store counted them (its batch's earlier operations included).
package struct LimitCount {
  /// The operation's time: which period counts.
  package let now: Date
  /// A profile's uses of the code's campaign.
  package let uses: (ProfileID) -> ProfileUses

  package init(now: Date, uses: @escaping (ProfileID) -> ProfileUses) {
    self.now = now
    self.uses = uses
  }
}
