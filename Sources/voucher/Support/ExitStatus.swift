/// The exit statuses of `voucher`, from `<sysexits.h>` where one fits. The README lists them.
enum ExitStatus {
  /// The command did its job and every code is valid.
  static let success: Int32 = 0
  /// At least one code was rejected (malformed, mistyped, forged, expired, ...).
  static let rejected: Int32 = 1
  /// A redemption or claim was refused by the campaign's per-profile limit (`profile-limit`), and
  /// nothing was rejected for another reason.
  static let profileLimit: Int32 = 2
  /// The command line is wrong: unknown option, missing or bad value (`EX_USAGE`).
  static let usage: Int32 = 64
  /// A data file is malformed, or input data is inconsistent with it (`EX_DATAERR`).
  static let dataError: Int32 = 65
  /// A key ring, campaign or other input is missing (`EX_NOINPUT`).
  static let noInput: Int32 = 66
  /// A service this build lacks: a PostgreSQL registry in a build without the `PostgreSQL`
  /// trait (`EX_UNAVAILABLE`).
  static let unavailable: Int32 = 69
  /// An internal error (`EX_SOFTWARE`).
  static let software: Int32 = 70
  /// An output file cannot be created (`EX_CANTCREAT`).
  static let cannotCreate: Int32 = 73
  /// Reading or writing failed (`EX_IOERR`).
  static let ioError: Int32 = 74
  /// Busy: another process held a lock too long; try again (`EX_TEMPFAIL`).
  static let busy: Int32 = 75
  /// A configuration problem, such as a key file's mode (`EX_CONFIG`).
  static let configuration: Int32 = 78

  /// Each status with what it means, for `voucher manual` (the README's table says more).
  static let meanings: [(Int32, String)] = [
    (success, "The command did its job, and every code checked is valid."),
    (rejected, "At least one code was rejected: any status but valid, redeemed, voided or claimed."),
    (profileLimit, "A redemption or claim was refused by a per-profile limit (profile-limit), and nothing else was rejected."),
    (usage, "Usage error: unknown option, missing or bad value; an argument that is not UTF-8."),
    (dataError, "Malformed data: a damaged key, campaign, log or registry file; a special file where a regular one must be."),
    (noInput, "Missing input: no key ring, key slot, campaign, channel or registry."),
    (software, "Internal error."),
    (cannotCreate, "Cannot create output: the file exists (without --force), or its folder is missing or not writable."),
    (ioError, "Reading or writing failed, or a sync did (nothing was recorded as done)."),
    (busy, "Busy: another process held a lock longer than VOUCHER_LOCK_TIMEOUT seconds; try again."),
    (configuration, "Configuration error: a key file or folder that others may read or write, a weak secret, a retired key asked to issue."),
  ]
}
