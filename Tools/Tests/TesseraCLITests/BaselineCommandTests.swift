import Foundation
import Testing
import Training
@testable import TesseraCLI

extension CommandTests {
    /// `tessera baseline knn|svm|logistic` on the synthetic digits: each writes final.test_accuracy.
    struct BaselineCommandTests {
        func run(_ arguments: [String]) throws -> JSONValue {
            let out = NSTemporaryDirectory() + "tessera-baseline-\(UInt64.random(in: 0..<UInt64.max))"
            try BaselineCommand(arguments: arguments + ["--out", out]).run(print: { _ in })
            return try JSONValue(parsing: Data(contentsOf: URL(fileURLWithPath: out + "/results.json")))
        }

        @Test func baselinesOnSyntheticDigits() throws {
            let root = TrainCommandTests().syntheticRoot()
            let knn = try run(["knn", "--data", root, "--k", "1,3", "--select-size", "200"])
            #expect(try #require(knn["final"]?["test_accuracy"]?.numberValue) > 0.9)
            #expect([1.0, 3.0].contains(try #require(knn["final"]?["k"]?.numberValue)))
            for model in ["svm", "logistic"] {
                #expect(try #require(try run([model, "--data", root])["final"]?["test_accuracy"]?.numberValue) > 0.9, "\(model)")
            }
        }

        @Test func misuseIsAUsageError() {
            for bad in [["tree"], ["knn", "--k", "0"], ["svm", "--dataset", "cifar"], ["knn", "--select-size", "5"]] {
                #expect(throws: UsageError.self, "\(bad)") { _ = try BaselineCommand(arguments: bad) }
            }
        }
    }
}
