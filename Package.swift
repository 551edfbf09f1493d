// swift-tools-version:6.1
import PackageDescription

let package = Package(
  name: "voucher",
  products: [
    .library(name: "VoucherKit", targets: ["VoucherKit"]),
    .library(name: "VoucherRegistry", targets: ["VoucherRegistry"]),
    .library(name: "VoucherService", targets: ["VoucherService"]),
    .library(name: "VoucherHTTP", targets: ["VoucherHTTP"]),
    .executable(name: "voucher", targets: ["voucher"]),
  ],
  // The PostgreSQL registry, off by default: `swift build --traits PostgreSQL`. Without it the
  // build needs libcrypto alone, as ever.
  traits: [
    .trait(
      name: "PostgreSQL",
      description: "A chain-wide registry on PostgreSQL through libpq (Debian: libpq-dev).")
  ],
  targets: [
    // OpenSSL's libcrypto, found through pkg-config (Debian: libssl-dev).
    .systemLibrary(
      name: "COpenSSL",
      pkgConfig: "libcrypto",
      providers: [.apt(["libssl-dev", "pkg-config"])]
    ),
    // OpenSSL's libssl, for the HTTP front's TLS (Debian: libssl-dev).
    .systemLibrary(name: "COpenSSLTLS", pkgConfig: "libssl", providers: [.apt(["libssl-dev"])]),
    // The one C speed path: HMAC-SHA256 over precomputed pads on libcrypto's compression function.
    .target(name: "CVoucherCrypto", dependencies: ["COpenSSL"]),
    .target(name: "VoucherKit", dependencies: ["COpenSSL", "CVoucherCrypto"]),
    // System calls that Swift's Glibc module does not export (renameat2's atomic exchange).
    .target(name: "CVoucherSystem"),
    // The file-backed redemption registry: journal, index, locking, recovery.
    .target(
      name: "VoucherRegistry", dependencies: ["VoucherKit", "CVoucherCrypto", "CVoucherSystem"]),
    // What every front end shares: request decoding, outcomes and their JSON, the group-commit
    // engine over any RegistryStore. The CLI's serve and the HTTP front are transports over it.
    .target(name: "VoucherService", dependencies: ["VoucherKit", "VoucherRegistry"]),
    // The HTTP front's pure parts: a strict HTTP/1.1 parser, responses, routes, tokens, rate
    // limits and idempotency keys; the sockets and TLS are the command's.
    .target(
      name: "VoucherHTTP",
      dependencies: ["VoucherService", "VoucherKit", "VoucherRegistry", "COpenSSL"]),
    // libpq, found through pkg-config (Debian: libpq-dev); only the PostgreSQL trait imports it.
    .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
    // The PostgreSQL registry store: its every source is `#if PostgreSQL`, so the default build
    // compiles it empty and links no libpq.
    .target(name: "VoucherPostgres", dependencies: ["VoucherKit", "VoucherRegistry", "CLibPQ"]),
    .executableTarget(
      name: "voucher",
      dependencies: [
        "VoucherKit", "VoucherRegistry", "VoucherService", "VoucherHTTP", "COpenSSLTLS",
        .target(name: "VoucherPostgres", condition: .when(traits: ["PostgreSQL"])),
      ]),
    // The benchmark, its SQLite peer (Debian: libsqlite3-dev) and its Foundation-only baseline.
    .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
    .executableTarget(
      name: "voucher-bench",
      dependencies: [
        "VoucherKit", "VoucherRegistry", "VoucherHTTP", "COpenSSLTLS", "CSQLite",
        "VoucherTestSupport",
      ]),
    .executableTarget(name: "foundation-baseline"),
    // Fixtures shared by the tests and the benchmark (hostile strings, a seeded generator, a JSON
    // reader, a serve client).
    .target(name: "VoucherTestSupport", path: "Tests/VoucherTestSupport"),
    .testTarget(
      name: "VoucherKitTests", dependencies: ["VoucherKit", "VoucherTestSupport"],
      resources: [.copy("Vectors")]),
    .testTarget(
      name: "VoucherRegistryTests",
      dependencies: [
        "VoucherRegistry", "VoucherKit", "VoucherTestSupport",
        .target(name: "VoucherPostgres", condition: .when(traits: ["PostgreSQL"])),
      ]),
    .testTarget(
      name: "VoucherServiceTests",
      dependencies: ["VoucherService", "VoucherRegistry", "VoucherKit", "VoucherTestSupport"]),
    .testTarget(
      name: "VoucherHTTPTests",
      dependencies: ["VoucherHTTP", "VoucherService", "VoucherTestSupport"]),
    .testTarget(
      name: "voucherTests",
      dependencies: ["voucher", "VoucherKit", "VoucherRegistry", "VoucherTestSupport"]),
  ]
)
