import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// LazyFS (`../shared/tools/lazyfs`, INESC TEC, MIT licence): a FUSE file system with its own page
/// cache that loses every write not fsynced on command (`lazyfs::clear-cache`), and tears a write
/// or crashes itself around chosen calls: a power cut without a reboot.
///
/// `VOUCHER_LAZYFS=DIR` names a folder holding a built `lazyfs` (and its `libpcache.so`), as
/// `.ci/run` builds it; without it the tests build it once into the package's `.build-lazyfs/`.
enum LazyFS {
  /// The package's folder.
  static let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().path

  /// `VOUCHER_LAZYFS`, if set.
  static let configured = ProcessInfo.processInfo.environment["VOUCHER_LAZYFS"].flatMap {
    $0.isEmpty ? nil : $0
  }

  /// `../shared/tools/lazyfs/build`, found beside the package or above it.
  static let buildScript: String? = {
    var url = URL(fileURLWithPath: package)
    while url.path != "/" {
      url.deleteLastPathComponent()
      let candidate = url.appendingPathComponent("shared/tools/lazyfs/build").path
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
  }()

  /// `fusermount3`, from the `PATH`.
  static let fusermount: String? = {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    return path.split(separator: ":").map { "\($0)/fusermount3" }.first {
      FileManager.default.isExecutableFile(atPath: $0)
    }
  }()

  /// Why LazyFS cannot run on this machine, or `nil` when it can.
  static let unavailable: String? = {
    if !FileManager.default.fileExists(atPath: "/dev/fuse") {
      return "/dev/fuse is missing: LazyFS is a FUSE file system"
    }
    if geteuid() != 0 { return "not root: mounting LazyFS with allow_other needs root" }
    if fusermount == nil { return "fusermount3 is missing (Debian: apt-get install fuse3)" }
    if configured == nil && buildScript == nil {
      return
        "LazyFS is not built: set VOUCHER_LAZYFS to a folder holding a built lazyfs, or provide ../shared/tools/lazyfs/build"
    }
    return nil
  }()

  /// The folder holding `lazyfs`: `VOUCHER_LAZYFS`, else `.build-lazyfs/lazyfs` in the package,
  /// built there the first time (about 40 s; the build script installs its Debian packages when
  /// they are missing).
  static func binaries() throws -> String {
    if let configured {
      guard FileManager.default.isExecutableFile(atPath: configured + "/lazyfs") else {
        throw TestFailure("VOUCHER_LAZYFS=\(configured) holds no executable lazyfs")
      }
      return configured
    }
    let folder = package + "/.build-lazyfs/lazyfs"
    if FileManager.default.isExecutableFile(atPath: folder + "/lazyfs") { return folder }
    guard let buildScript else { throw TestFailure(unavailable ?? "no LazyFS build script") }
    // Built beside and moved into place, so that a killed build or a second test run at the same
    // time never leaves a half-built folder.
    let scratch = package + "/.build-lazyfs/building-\(getpid())"
    try? FileManager.default.removeItem(atPath: scratch)
    try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    print("LazyFS: building it once into \(folder) (about 40 s)")
    let outcome = runBinary([scratch + "/out"], executable: buildScript)
    guard outcome.status == 0 && !outcome.signaled,
      FileManager.default.isExecutableFile(atPath: scratch + "/out/lazyfs")
    else {
      throw TestFailure(
        "\(buildScript) failed (status \(outcome.status)): \(outcome.stderr.suffix(2000))")
    }
    if rename(scratch + "/out", folder) != 0
      && !FileManager.default.isExecutableFile(atPath: folder + "/lazyfs")
    {
      throw TestFailure("cannot move the built LazyFS into \(folder): errno \(errno)")
    }
    try? FileManager.default.removeItem(atPath: scratch)
    return folder
  }
}
