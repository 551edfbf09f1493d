import Foundation
import Testing
import VoucherKit
import VoucherService
import VoucherTestSupport

@Suite("Answers: one JSON encoder for every front end")
struct OutcomeJSONTests {
  /// An outcome with every field set from the strings given.
  func outcome(_ texts: [String], _ number: Int) -> Outcome {
    var outcome = Outcome(input: texts[0], .malformed(.empty))
    outcome.code = texts[1 % texts.count]
    outcome.status = texts[2 % texts.count]
    outcome.message = texts[3 % texts.count]
    outcome.campaign = texts[4 % texts.count]
    outcome.channel = texts[5 % texts.count]
    outcome.serial = number
    outcome.title = texts[6 % texts.count]
    outcome.suggestion = texts[7 % texts.count]
    outcome.time = texts[8 % texts.count]
    outcome.venue = texts[9 % texts.count]
    outcome.store = texts[10 % texts.count]
    outcome.terminal = texts[11 % texts.count]
    outcome.profile = texts[12 % texts.count]
    outcome.request = texts[13 % texts.count]
    outcome.usesLeft = -number
    outcome.replayed = number % 2 == 0
    outcome.reason = texts[14 % texts.count]
    return outcome
  }

  /// The compact JSON without what indentation adds: white space outside strings.
  func squeezed(_ text: String) -> String {
    var out = ""
    var inString = false
    var escaped = false
    for character in text.unicodeScalars {
      if inString {
        out.unicodeScalars.append(character)
        if escaped { escaped = false } else if character == "\\" { escaped = true } else if character == "\"" { inString = false }
      } else if character == "\"" {
        inString = true
        out.unicodeScalars.append(character)
      } else if character != " " && character != "\n" {
        out.unicodeScalars.append(character)
      }
    }
    return out
  }

  @Test("hostile strings in every field: the JSON reads back to the same values, indented or not")
  func hostileRoundTrip() throws {
    let strings = try TestData.naughtyStrings()
    var generator = SeededGenerator(seed: 11)
    for round in 0..<400 {
      let texts = (0..<15).map { _ in strings.randomElement(using: &generator)! }
      let answer = outcome(texts, round)
      let compact = answer.json(id: .number(String(round)))
      let indented = JSONText.indented(compact)
      #expect(squeezed(indented) == compact)
      for text in [compact, indented] {
        let object = try #require(
          try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object["id"] as? Int == round)
        #expect(object["input"] as? String == answer.input)
        #expect(object["code"] as? String == answer.code)
        #expect(object["message"] as? String == answer.message)
        #expect(object["store"] as? String == answer.store)
        #expect(object["reason"] as? String == answer.reason)
        #expect(object["profile"] as? String == answer.profile)
        #expect(object["usesLeft"] as? Int == answer.usesLeft)
        #expect(object["replayed"] as? Bool == answer.replayed)
        #expect(object.count == 19)
      }
      #expect(!compact.contains("\n") && !compact.contains("\r"))
    }
  }

  @Test("keys come sorted, as the CLI's JSON always had them; an id is left out unless given")
  func sortedKeys() {
    let answer = outcome(["a"], 1)
    let compact = answer.json()
    let keys = compact.split(separator: ",").map { $0.drop(while: { $0 == "{" }).split(separator: ":")[0] }
    #expect(keys == keys.sorted())
    #expect(!compact.contains("\"id\""))
    #expect(answer.json(id: .string("x")).contains(#""id":"x""#))
  }

  @Test("indented exactly as Foundation's pretty printer lays out the same document")
  func layoutAgainstFoundation() throws {
    struct Document: Encodable {
      var a = 1
      var b: [Int] = []
      var c: [String: [Int]] = ["x": [], "y": [1, 2]]
      var d = "x, y: [z] {w} \"q\" \\"
      var e: [[String: Bool]] = [["t": true], [:]]
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let compact = String(decoding: try encoder.encode(Document()), as: UTF8.self)
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    let pretty = String(decoding: try encoder.encode(Document()), as: UTF8.self)
    #expect(JSONText.indented(compact) == pretty)
    #expect(JSONText.indented("[]") == "[\n\n]")
  }
}
