import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Seconds on a monotonic clock.
func now() -> Double {
  var time = timespec()
  clock_gettime(CLOCK_MONOTONIC, &time)
  return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
}

/// Runs `body` and answers its wall time in seconds.
func time(_ body: () throws -> Void) rethrows -> Double {
  let start = now()
  try body()
  return now() - start
}

/// The median of some samples.
func median(_ samples: [Double]) -> Double {
  let sorted = samples.sorted()
  return sorted.count % 2 == 1
    ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

/// The peak resident memory of a program run, in bytes, measured by GNU time (a forked child of
/// a small process), or `nil` without /usr/bin/time. A child spawned straight from this large
/// process would be charged this process's memory: posix_spawn shares it until exec.
func peakMemory(_ path: String, _ arguments: [String], scratch: String) -> Int? {
  let time = "/usr/bin/time"
  guard FileManager.default.isExecutableFile(atPath: time) else { return nil }
  let report = scratch + "/peak.txt"
  let run = runProcess(time, ["-f", "%M", "-o", report, path] + arguments)
  guard run.status >= 0, let text = try? String(contentsOfFile: report, encoding: .utf8),
    let kilobytes = Int(
      text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").last ?? "")
  else { return nil }
  return kilobytes * 1024
}

/// Runs a program to completion, its standard input read from `input` (else none) and its
/// standard output written to `output` (else discarded); answers its wall time.
func runProcess(_ path: String, _ arguments: [String], input: String? = nil, output: String? = nil)
  -> (seconds: Double, peakBytes: Int, status: Int32)
{
  var pid: pid_t = 0
  var actions = posix_spawn_file_actions_t()
  posix_spawn_file_actions_init(&actions)
  if let input { posix_spawn_file_actions_addopen(&actions, 0, input, O_RDONLY, 0) }
  posix_spawn_file_actions_addopen(
    &actions, 1, output ?? "/dev/null", O_WRONLY | (output == nil ? 0 : O_CREAT | O_TRUNC), 0o600)
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
  defer { posix_spawn_file_actions_destroy(&actions) }
  let argv = ([path] + arguments).map { strdup($0) } + [nil]
  defer { for pointer in argv { free(pointer) } }
  let start = now()
  guard posix_spawn(&pid, path, &actions, nil, argv, environ) == 0 else { return (0, 0, -1) }
  var status: Int32 = 0
  var usage = rusage()
  wait4(pid, &status, 0, &usage)
  return (now() - start, Int(usage.ru_maxrss) * 1024, status)
}

/// The SHA-256 throughput `openssl speed -evp sha256 -bytes 16384` reports, in bytes per second.
func opensslSHA256Speed(seconds: Int) -> Double? {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
  process.arguments = [
    "openssl", "speed", "-evp", "sha256", "-bytes", "16384", "-seconds", "\(seconds)",
  ]
  let pipe = Pipe()
  process.standardOutput = pipe
  process.standardError = FileHandle(forWritingAtPath: "/dev/null")
  guard (try? process.run()) != nil else { return nil }
  let data = pipe.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  let text = String(decoding: data, as: UTF8.self)
  guard let line = text.split(separator: "\n").last(where: { $0.hasPrefix("sha256") }),
    let field = line.split(separator: " ").last, field.hasSuffix("k"),
    let kilobytes = Double(field.dropLast())
  else { return nil }
  return kilobytes * 1000
}
