import Foundation
import Testing
import VoucherTestSupport

#if canImport(Glibc)
  import Glibc
#endif

/// Whether Python's `openapi_spec_validator` is installed (CI installs it).
let hasSpecValidator: Bool = {
  guard let python3Path else { return false }
  return runBinary(["-c", "import openapi_spec_validator"], executable: python3Path).status == 0
}()

/// The package's root, from this file's path.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent().deletingLastPathComponent().path

@Suite("The OpenAPI document", .enabled(if: curlPath != nil, "curl is not installed"))
struct HTTPOpenAPITests {
  @Test(
    "it passes openapi-spec-validator",
    .enabled(
      if: hasSpecValidator,
      "Python's openapi-spec-validator is not installed (pip install openapi-spec-validator)"))
  func validates() throws {
    let path = packageRoot + "/Sources/VoucherHTTP/VoucherHTTP.docc/openapi.json"
    let outcome = try python(
      """
      import json, sys
      from openapi_spec_validator import validate
      validate(json.load(open(sys.argv[1])))
      print("valid")
      """, [path])
    #expect(outcome.status == 0 && outcome.stdout == "valid\n", "\(outcome.stderr)")
  }

  @Test(
    "the served document is the catalog's; every documented route answers, and no other path or method does"
  )
  func routes() throws {
    let home = try Home()
    defer { home.remove() }
    let code = home.run("issue", "--campaign", "summer", "--channel", "flyer", "--count", "1")
      .stdoutLines[0]
    let tokens = [
      "till": try addToken(home, "till", "till", store: "S1"),
      "web": try addToken(home, "web", "web"),
      "crm": try addToken(home, "crm", "crm"),
    ]
    let server = try RunningHTTPServer(home)
    let served = try call(server, "GET", "/v1/openapi.json")
    let catalog = try String(
      contentsOfFile: packageRoot + "/Sources/VoucherHTTP/VoucherHTTP.docc/openapi.json",
      encoding: .utf8)
    #expect(served.body == catalog, "the served document differs from the DocC catalog's")
    guard case .object(let paths)? = served.json?["paths"] else {
      Issue.record("no paths")
      return
    }
    #expect(paths.count == 9)
    let methods = ["GET", "POST", "PUT", "DELETE", "PATCH"]
    for (template, item) in paths {
      let path = template.replacingOccurrences(of: "{code}", with: code)
      guard case .object(let operations) = item else { continue }
      for method in methods {
        let documented = operations[method.lowercased()] != nil
        // The token whose scope the route is for.
        let scope =
          path.hasSuffix("/claim") || path.hasSuffix("/redeem")
          ? "web"
          : path.contains("/report") || path.contains("/events") ? "crm" : "till"
        let answer = try call(
          server, method, path, token: tokens[scope], body: method == "GET" ? nil : "{}")
        if documented {
          #expect(![404, 405].contains(answer.status), "\(method) \(template): \(answer.status)")
          #expect(answer.status < 500, "\(method) \(template): \(answer.body)")
        } else {
          #expect(answer.status == 405, "\(method) \(template) is not documented: \(answer.status)")
        }
      }
    }
    for path in [
      "/", "/v1", "/v1/", "/v1/codes", "/v1/codes/", "/v1/codes/\(code)/refund", "/v1/healthz",
      "/v2/health", "/v1/health/", "/v1/codes/\(code)/history/x", "/V1/health", "/v1//health",
    ] {
      #expect(try call(server, "GET", path, token: tokens["till"]).status == 404, "\(path)")
    }
    #expect(server.stop() == 0, "\(server.log)")
  }
}
