import Foundation
import SequenceModels
import Training
import Testing
@testable import TesseraCLI

extension CommandTests {
    @Suite("tessera train gpt|char-rnn|sentiment, tessera sample")
    struct TextCommandTests {
        /// A fake `shakespeare/shakespeare.txt` (the reader wants more than 1 MB) and a
        /// sentiment file whose label is written in the words.
        func syntheticRoot() -> String {
            let root = NSTemporaryDirectory() + "tessera-text-\(UInt64.random(in: 0..<UInt64.max))"
            try! FileManager.default.createDirectory(atPath: root + "/shakespeare", withIntermediateDirectories: true)
            try! FileManager.default.createDirectory(atPath: root + "/sentiment", withIntermediateDirectories: true)
            let verse = "To be, or not to be, that is the question:\nWhether 'tis nobler in the mind to suffer\n"
            let text = String(repeating: verse, count: 1_100_000 / verse.count + 1)
            try! text.write(toFile: root + "/shakespeare/shakespeare.txt", atomically: true, encoding: .utf8)
            var csv = "\u{FEFF}"
            let good = ["a good film", "truly good and warm", "good acting , good story", "a good , moving tale"]
            let bad = ["a bad film", "truly bad and cold", "bad acting , bad story", "a bad , dull tale"]
            for i in 0..<200 {
                let positive = i % 2 == 0
                csv += "\"\(positive ? 1 : -1)\",\"\((positive ? good : bad)[i % 4]) number \(i % 7)\"\r\n"
            }
            try! csv.write(toFile: root + "/sentiment/polarity-en-pang&lee2.csv", atomically: true, encoding: .utf8)
            return root
        }

        @Test func gptTrainsWritesACheckpointAndSamplesFromIt() throws {
            let root = syntheticRoot()
            let command = try LanguageModelCommand(arguments: [
                "gpt", "--slice", "3000", "--layers", "1", "--heads", "2", "--width", "16", "--block-size", "16",
                "--batch-size", "4", "--steps", "6", "--eval-every", "3", "--lr", "3e-3", "--data", root, "--out", root + "/run"])
            var lines: [String] = []
            let result = try command.run(print: { lines.append($0) })
            let vocabulary = Set(String(try String(contentsOfFile: root + "/shakespeare/shakespeare.txt", encoding: .utf8).prefix(3000))).count
            #expect(result.validationLoss < Foundation.log(Double(vocabulary)))  // better than uniform
            #expect(lines.last!.hasPrefix("validation loss: "))
            let csv = try String(contentsOfFile: root + "/run/metrics.csv", encoding: .utf8)
            #expect(csv.split(separator: "\n").count == 3)  // header + evaluations at steps 3 and 6
            #expect(FileManager.default.fileExists(atPath: root + "/run/curves.svg"))
            let results = try JSONValue(parsing: Data(contentsOf: URL(fileURLWithPath: root + "/run/results.json")))
            #expect(results["final"]?["validation_loss"]?.numberValue == result.validationLoss)
            #expect(results["final"]?["perplexity"]?.numberValue == Foundation.exp(result.validationLoss))
            #expect(results["final"]?["steps"]?.numberValue == 6 && results["final"]?["seconds"] != nil)
            #expect(results["configuration"]?["model"]?["layers"]?.numberValue == 1)

            var printed: [String] = []
            let sampled = try SampleCommand(arguments: ["gpt", "--checkpoint", root + "/run/model.h5", "--prompt", "To be",
                                                        "--tokens", "20", "--top-k", "5"]).run(print: { printed.append($0) })
            #expect(sampled.hasPrefix("To be") && sampled.count == 25)
            // A character outside the vocabulary is named.
            do {
                try SampleCommand(arguments: ["gpt", "--checkpoint", root + "/run/model.h5", "--prompt", "To Zebra"]).run(print: { _ in })
                Issue.record("a prompt with Z should not encode")
            } catch let error as TokenizerError {
                #expect(error.description.contains("'Z'"))
            }
            #expect(throws: SampleError.self) {
                try SampleCommand(arguments: ["char-rnn", "--checkpoint", root + "/run/model.h5"]).run(print: { _ in })
            }
        }

        @Test func charRNNTrainsWithCarriedStateAndSamples() throws {
            let root = syntheticRoot()
            let command = try LanguageModelCommand(arguments: [
                "char-rnn", "--cell", "gru", "--slice", "2000", "--hidden", "32", "--layers", "1", "--embedding", "8",
                "--batch-size", "4", "--block-size", "25", "--epochs", "3", "--lr", "1e-2", "--data", root, "--out", root + "/run"])
            let result = try command.run(print: { _ in })
            #expect(result.validationAccuracy > 0.3)   // repeated verse: far above 1/vocabulary after 3 epochs
            let results = try JSONValue(parsing: Data(contentsOf: URL(fileURLWithPath: root + "/run/results.json")))
            #expect(results["final"]?["validation_accuracy"]?.numberValue == result.validationAccuracy)
            let sampled = try SampleCommand(arguments: ["char-rnn", "--checkpoint", root + "/run/model.h5", "--prompt", "To",
                                                        "--tokens", "10", "--greedy"]).run(print: { _ in })
            #expect(sampled.count == 12)
        }

        @Test func sentimentTransformerLearnsTheSyntheticLabels() throws {
            let root = syntheticRoot()
            let command = try SentimentCommand(arguments: ["sentiment", "--epochs", "6", "--width", "16", "--heads", "2",
                                                           "--layers", "1", "--lr", "3e-3", "--data", root, "--out", root + "/run"])
            var lines: [String] = []
            let result = try command.run(print: { lines.append($0) })
            #expect(result.heldOutAccuracy > 0.9)
            #expect(lines.last!.hasPrefix("held-out accuracy: "))
            let results = try JSONValue(parsing: Data(contentsOf: URL(fileURLWithPath: root + "/run/results.json")))
            #expect(results["final"]?["validation_accuracy"]?.numberValue == result.heldOutAccuracy)
        }

        @Test func usageErrors() {
            var errors: [String] = []
            #expect(TesseraMain.run(["train", "gpt", "--width", "10", "--heads", "3"], print: { _ in }, error: { errors.append($0) }) == 2)
            #expect(errors.last!.contains("--width 10 must be a multiple of --heads 3"))
            #expect(TesseraMain.run(["train", "char-rnn", "--cell", "elman"], print: { _ in }, error: { errors.append($0) }) == 2)
            #expect(errors.last!.contains("invalid value 'elman' for --cell"))
            #expect(TesseraMain.run(["sample", "gpt"], print: { _ in }, error: { errors.append($0) }) == 2)
            #expect(errors.last!.contains("--checkpoint FILE is required"))
            #expect(TesseraMain.run(["train", "sentiment", "--collection", "tweets"], print: { _ in }, error: { errors.append($0) }) == 2)
            var out: [String] = []
            #expect(TesseraMain.run(["train", "gpt", "--help"], print: { out.append($0) }, error: { _ in }) == 0)
            #expect(out.last!.contains("usage: tessera train gpt|char-rnn"))
            #expect(TesseraMain.run(["sample", "--help"], print: { out.append($0) }, error: { _ in }) == 0)
            #expect(out.last!.contains("usage: tessera sample"))
        }
    }
}
