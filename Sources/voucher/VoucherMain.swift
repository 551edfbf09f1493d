#if canImport(Glibc)
  import Glibc
#endif

@main
struct VoucherMain {
  static func main() {
    exit(run(Array(CommandLine.arguments.dropFirst()), console: StandardConsole()))
  }
}
