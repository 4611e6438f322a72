import Foundation
import Testing
import Training
@testable import TesseraCLI

extension CommandTests {
    /// `tessera train gcn|gat|sage|gin`: each writes final.test_accuracy; GCN splits the karate
    /// club from two labelled members.
    struct GraphCommandTests {
        func run(_ arguments: [String]) throws -> (JSONValue, String) {
            let out = NSTemporaryDirectory() + "tessera-graph-\(UInt64.random(in: 0..<UInt64.max))"
            try GraphCommand(arguments: arguments + ["--out", out]).run(print: { _ in })
            return (try JSONValue(parsing: Data(contentsOf: URL(fileURLWithPath: out + "/results.json"))), out)
        }

        @Test func nodeAndGraphClassification() throws {
            let (karate, out) = try run(["gcn"])
            #expect(try #require(karate["final"]?["test_accuracy"]?.numberValue) >= 0.9)
            #expect(karate["final"]?["labelled_nodes"]?.numberValue == 2 && karate["final"]?["test_nodes"]?.numberValue == 32)
            #expect(FileManager.default.fileExists(atPath: out + "/embeddings.svg"))
            let (sage, _) = try run(["sage", "--epochs", "50"])
            #expect(try #require(sage["final"]?["test_accuracy"]?.numberValue) > 0.5)
            let (links, _) = try run(["gcn", "--task", "links", "--dataset", "sbm", "--epochs", "50"])
            #expect(try #require(links["final"]?["link_auc"]?.numberValue) > 0.6)
            let (gin, _) = try run(["gin", "--epochs", "5"])
            #expect(try #require(gin["final"]?["test_accuracy"]?.numberValue) > 0.7)
        }

        @Test func misuseIsAUsageError() {
            for bad in [["gin", "--dataset", "karate"], ["gcn", "--dataset", "cora"], ["gat", "--dataset", "karate", "--p-in", "0.2"],
                        ["sage", "--p-in", "2"], ["gcn", "--epochs", "0"], ["gat", "--task", "links"], ["gcn", "--task", "edges"],
                        ["gcn", "--checkpoint-dir", NSTemporaryDirectory()]] {
                #expect(throws: UsageError.self, "\(bad)") { _ = try GraphCommand(arguments: bad) }
            }
        }
    }
}
