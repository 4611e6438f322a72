import Foundation
import Testing
@testable import Training

@Suite("JSON results")
struct JSONValueTests {
    @Test func writesSortedDeterministicTextAndReadsItBack() throws {
        let value: JSONValue = .object(["b": [1, 2.5, true], "a": "x\"y\n", "c": .null, "d": .number(.nan)])
        #expect(value.text(indent: nil) == #"{"a":"x\"y\n","b":[1,2.5,true],"c":null,"d":null}"#)
        let parsed = try JSONValue(parsing: Data(value.text().utf8))
        #expect(parsed["b"] == [1, 2.5, true])
        #expect(parsed["a"]?.stringValue == "x\"y\n")
        struct Configuration: Codable { var epochs = 3; var rate = 0.5; var flag = true }
        #expect(try JSONValue(encoding: Configuration()) == .object(["epochs": 3, "rate": 0.5, "flag": true]))
    }
}
