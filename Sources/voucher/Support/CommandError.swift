import VoucherHTTP
import VoucherKit
import VoucherRegistry

/// A failure that ends a command: one `error:` line and an exit status.
///
/// The libraries say what is wrong in their own words and name a remedy or a field as a case;
/// this is where those become the command's words: `run 'voucher registry check'`, `--store`.
struct CommandError: Error {
  let status: Int32
  let message: String

  init(_ status: Int32, _ message: String) {
    self.status = status
    self.message = message
  }

  /// A command-line mistake, exit 64.
  static func usage(_ message: String) -> CommandError { CommandError(ExitStatus.usage, message) }

  /// Maps the library's errors to a message and an exit status.
  init(_ error: any Error) {
    switch error {
    case let error as CommandError:
      self = error
    case let error as KeyRingError:
      let status: Int32
      switch error {
      case .missingKeyRing, .emptyKeyRing, .unknownSlot, .noActiveKey: status = ExitStatus.noInput
      case .keyFileTooOpen, .keyTooShort: status = ExitStatus.configuration
      case .malformedKeyFile, .invalidTransition: status = ExitStatus.dataError
      case .noFreeSlot: status = ExitStatus.cannotCreate
      case .randomFailed: status = ExitStatus.ioError
      case .io(let error): status = Self.status(of: error)
      }
      self.init(status, Self.message(error))
    case let error as CampaignError:
      let status: Int32
      switch error {
      case .unknownCampaign, .unknownChannel, .missingKey: status = ExitStatus.noInput
      case .duplicateCampaign, .spaceExhausted: status = ExitStatus.cannotCreate
      case .invalidSetting: status = ExitStatus.usage
      case .capacityExceeded, .malformedFile: status = ExitStatus.dataError
      case .keyNotActive: status = ExitStatus.configuration
      case .busy: status = ExitStatus.busy
      case .wouldStrandCodes: status = ExitStatus.dataError
      case .io(let error): status = Self.status(of: error)
      }
      self.init(status, Self.message(error))
    case let error as RegistryError:
      let status: Int32
      switch error {
      case .missing, .vanished: status = ExitStatus.noInput
      case .alreadyExists: status = ExitStatus.cannotCreate
      case .busy: status = ExitStatus.busy
      case .damaged: status = ExitStatus.dataError
      case .syncFailed, .fenced, .database: status = ExitStatus.ioError
      case .io(let error): status = Self.status(of: error)
      case .unreachable: status = ExitStatus.busy
      case .schemaVersion(_, 0, _): status = ExitStatus.noInput
      case .schemaVersion: status = ExitStatus.configuration
      }
      self.init(status, Self.message(error))
    case let error as PrizeError:
      let status: Int32
      switch error {
      case .invalidTiers, .outOfRange, .tooManyPrizes: status = ExitStatus.usage
      case .overlaps: status = ExitStatus.cannotCreate
      case .missingSeed: status = ExitStatus.noInput
      case .seedTooOpen: status = ExitStatus.configuration
      case .malformedFile: status = ExitStatus.dataError
      case .busy: status = ExitStatus.busy
      case .randomFailed: status = ExitStatus.ioError
      case .io(let error): status = Self.status(of: error)
      }
      self.init(status, error.description)
    case let error as TokenError:
      let status: Int32
      switch error {
      case .badName, .storeMismatch: status = ExitStatus.usage
      case .exists: status = ExitStatus.cannotCreate
      case .unknown: status = ExitStatus.noInput
      case .tooOpen: status = ExitStatus.configuration
      case .damaged: status = ExitStatus.dataError
      case .randomFailed: status = ExitStatus.ioError
      case .io(let error): status = Self.status(of: error)
      }
      self.init(status, error.description)
    case let error as InvalidField:
      self = .usage(Self.message(error))
    case let error as SystemError:
      self.init(Self.status(of: error), error.description)
    default:
      self.init(ExitStatus.software, "internal error: \(error)")
    }
  }

  /// A failed system call is an I/O error (74); a FIFO, device or folder where a key, campaign or
  /// registry file must be is malformed data (65), like any other damaged file.
  private static func status(of error: SystemError) -> Int32 {
    error.isNotRegularFile ? ExitStatus.dataError : ExitStatus.ioError
  }

  /// A key ring error, its remedy worded as a command.
  static func message(_ error: KeyRingError) -> String {
    switch error.remedy {
    case nil: return error.problem
    case .makeKey: return error.problem + "; create one with 'voucher keys new'"
    case .makeKeyOrChooseHome:
      return error.problem + "; create one with 'voucher keys new' or pass --home"
    }
  }

  /// A campaign error, its remedy worded as a command and a setting as its option.
  static func message(_ error: CampaignError) -> String {
    if case .invalidSetting(let problem) = error { return problem.description(naming: option) }
    if case .wouldStrandCodes(let id, let problem) = error {
      return "campaign '\(id)' was not changed: \(problem.description(naming: option))"
    }
    switch error.remedy {
    case nil: return error.problem
    case .listCampaigns: return error.problem + "; 'voucher campaign list' shows them"
    case .makeKey: return error.problem + "; make a new key with 'voucher keys new'"
    }
  }

  /// A registry error, its remedy worded as a command.
  static func message(_ error: RegistryError) -> String {
    switch error.remedy {
    case nil: return error.problem
    case .check: return error.problem + "; run 'voucher registry check'"
    case .checkToResumeWrites:
      return error.problem + "; writes are refused until 'voucher registry check' passes"
    case .rebuild: return error.problem + "; run 'voucher registry rebuild'"
    case .initialize:
      return error.problem + "; to start an empty registry on purpose, run 'voucher registry init'"
    case .migrate: return error.problem + "; run 'voucher registry migrate'"
    }
  }

  /// A refused identifier or reason, named as its option: "--store must be ...".
  static func message(_ error: InvalidField) -> String { "--\(error.field) \(error.reason)" }

  /// The option that sets a campaign setting.
  static func option(_ setting: CampaignSetting) -> String {
    switch setting {
    case .channels: return "--channels"
    case .uses: return "--uses"
    case .tagBits: return "--tag-bits"
    case .capacity: return "--capacity"
    case .title: return "--title"
    case .starts: return "--starts"
    case .ends: return "--ends"
    case .count: return "--count"
    case .perProfile: return "--per-profile"
    }
  }
}
