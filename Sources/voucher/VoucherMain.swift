#if canImport(Glibc)
  import Glibc
#endif

@main
struct VoucherMain {
  static func main() {
    // Over a file size limit (`ulimit -f`) a write then fails with EFBIG, reported as an error,
    // instead of the default SIGXFSZ killing the process mid-operation.
    signal(SIGXFSZ, SIG_IGN)
    exit(run(Array(CommandLine.arguments.dropFirst()), console: StandardConsole()))
  }
}
