#if canImport(Glibc)
  import Glibc
#endif

@main
struct VoucherMain {
  static func main() {
    // Over a file size limit (`ulimit -f`) a write then fails with EFBIG, reported as an error,
    // instead of the default SIGXFSZ killing the process mid-operation.
    signal(SIGXFSZ, SIG_IGN)
    // The arguments as the kernel passed them: `CommandLine.arguments` would have replaced bytes
    // that are not UTF-8 with U+FFFD, and such a title or reason would be stored mangled.
    let argv = (1..<Int(CommandLine.argc)).map { index in
      CommandLine.unsafeArgv[index].map { Array(UnsafeBufferPointer(start: $0, count: strlen($0))) }
        .map { $0.map(UInt8.init(bitPattern:)) } ?? []
    }
    exit(run(argv: argv, console: StandardConsole()))
  }
}
