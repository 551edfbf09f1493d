import VoucherKit
import VoucherRegistry

/// A failure that ends a command: one `error:` line and an exit status.
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
      self.init(status, error.description)
    case let error as CampaignError:
      let status: Int32
      switch error {
      case .unknownCampaign, .unknownChannel, .missingKey: status = ExitStatus.noInput
      case .duplicateCampaign, .spaceExhausted: status = ExitStatus.cannotCreate
      case .invalidSetting: status = ExitStatus.usage
      case .capacityExceeded, .malformedFile: status = ExitStatus.dataError
      case .keyNotActive: status = ExitStatus.configuration
      case .busy: status = ExitStatus.busy
      case .io(let error): status = Self.status(of: error)
      }
      self.init(status, error.description)
    case let error as RegistryError:
      let status: Int32
      switch error {
      case .missing, .vanished: status = ExitStatus.noInput
      case .alreadyExists: status = ExitStatus.cannotCreate
      case .busy: status = ExitStatus.busy
      case .damaged: status = ExitStatus.dataError
      case .syncFailed, .fenced: status = ExitStatus.ioError
      case .io(let error): status = Self.status(of: error)
      }
      self.init(status, error.description)
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
}
