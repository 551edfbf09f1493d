import Foundation
import Testing

@testable import VoucherKit

@Suite("Key ring")
struct KeyRingTests {
  func mode(_ path: String) throws -> Int {
    (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as! NSNumber)
      .intValue
  }

  @Test("new keys are 256 bits from the CSPRNG, mode 0600, in the lowest free slot")
  func generate() throws {
    let folder = try temporaryFolder() + "/Keys"
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let first = try KeyRing.generate(in: folder, now: Date())
    let second = try KeyRing.generate(in: folder, now: Date())
    #expect(first.slot == KeySlot(0) && second.slot == KeySlot(1))
    #expect(try mode(folder + "/slot-00.key") == 0o600)
    let a = try KeyFile.parse(
      Array(FileManager.default.contents(atPath: folder + "/slot-00.key")!), path: "a")
    let b = try KeyFile.parse(
      Array(FileManager.default.contents(atPath: folder + "/slot-01.key")!), path: "b")
    #expect(a.secret.count == 32 && b.secret.count == 32 && a.secret != b.secret)
    let ring = try KeyRing.load(from: folder)
    #expect(ring.keys.map(\.slot) == [KeySlot(0)!, KeySlot(1)!])
    #expect(ring.signingKey?.slot == KeySlot(1))
  }

  @Test("only slot-NN.key with two digits is a key file: a signed number is not a second key")
  func keyFileNames() throws {
    #expect(KeyFile.slot(fromName: "slot-01.key") == KeySlot(1))
    for name in ["slot-+1.key", "slot--1.key", "slot-1.key", "slot- 1.key", "slot-1a.key"] {
      #expect(KeyFile.slot(fromName: name) == nil, "\(name)")
    }
    let folder = try temporaryFolder() + "/Keys"
    defer { try? FileManager.default.removeItem(atPath: folder) }
    try KeyRing.generate(in: folder, now: Date())
    try FileManager.default.copyItem(
      atPath: folder + "/slot-00.key", toPath: folder + "/slot-+0.key")
    #expect(try KeyRing.load(from: folder).keys.map(\.slot) == [KeySlot(0)!])
  }

  @Test("retire and revoke move forward only")
  func transitions() throws {
    let folder = try temporaryFolder() + "/Keys"
    defer { try? FileManager.default.removeItem(atPath: folder) }
    try KeyRing.generate(in: folder, now: Date())
    #expect(try KeyRing.change(slot: KeySlot(0)!, to: .retired, in: folder).state == .retired)
    #expect(try mode(folder + "/slot-00.key") == 0o600)
    #expect(throws: KeyRingError.invalidTransition(slot: KeySlot(0)!, from: .retired, to: .active))
    {
      try KeyRing.change(slot: KeySlot(0)!, to: .active, in: folder)
    }
    #expect(try KeyRing.change(slot: KeySlot(0)!, to: .revoked, in: folder).state == .revoked)
    #expect(try KeyRing.load(from: folder).signingKey == nil)
    #expect(throws: KeyRingError.unknownSlot(KeySlot(5)!)) {
      try KeyRing.change(slot: KeySlot(5)!, to: .retired, in: folder)
    }
  }

  @Test("bad key files are refused with a clear reason")
  func badFiles() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let path = folder + "/slot-00.key"
    func write(_ text: String, mode: Int = 0o600) throws {
      try? FileManager.default.removeItem(atPath: path)
      _ = FileManager.default.createFile(
        atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: mode])
    }
    let good = "slot: 0\nstate: active\ncreated: x\nsecret: \(String(repeating: "ab", count: 32))\n"
    try write(good)
    _ = try KeyRing.load(from: folder)
    try write(good, mode: 0o644)
    #expect(throws: KeyRingError.keyFileTooOpen(path: path, mode: 0o644)) {
      try KeyRing.load(from: folder)
    }
    try write(good, mode: 0o640)
    #expect(throws: KeyRingError.keyFileTooOpen(path: path, mode: 0o640)) {
      try KeyRing.load(from: folder)
    }
    try write("slot: 0\nstate: active\nsecret: \(String(repeating: "ab", count: 15))\n")
    #expect(throws: KeyRingError.keyTooShort(path: path, bits: 120)) {
      try KeyRing.load(from: folder)
    }
    try write("slot: 0\nstate: active\nsecret: not-hex-at-all\n")
    #expect(throws: KeyRingError.self) { try KeyRing.load(from: folder) }
    try write("slot: 1\nstate: active\nsecret: \(String(repeating: "ab", count: 32))\n")
    #expect(throws: KeyRingError.self) { try KeyRing.load(from: folder) }
    try write("slot: 0\nstate: sleeping\nsecret: \(String(repeating: "ab", count: 32))\n")
    #expect(throws: KeyRingError.self) { try KeyRing.load(from: folder) }
    // A demo key is public by design: its mode is not checked.
    try write(
      "slot: 0\nstate: active\ndemo: true\nsecret: \(String(repeating: "ab", count: 32))\n",
      mode: 0o644)
    #expect(try KeyRing.load(from: folder).keys.first?.isDemo == true)
    #expect(throws: KeyRingError.missingKeyRing(path: folder + "/nowhere")) {
      try KeyRing.load(from: folder + "/nowhere")
    }
  }

  @Test("no error message carries the secret")
  func secretsStayOut() throws {
    let secret = String(repeating: "c3", count: 32)
    let errors: [KeyRingError] = [
      .keyFileTooOpen(path: "p", mode: 0o644), .keyTooShort(path: "p", bits: 8),
      .malformedKeyFile(path: "p", reason: "x"),
    ]
    for error in errors { #expect(!error.description.contains(secret)) }
    do {
      _ = try KeyFile.parse(Array("slot: 0\nstate: active\nsecret: \(secret)zz\n".utf8), path: "p")
      Issue.record("an odd-length secret was accepted")
    } catch {
      #expect(!error.description.contains("c3c3"))
    }
  }
}
