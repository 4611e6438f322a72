import Foundation
import Testing
@testable import TesseraCLI
import Training

extension CommandTests {
    @Suite("tessera command line")
    struct CommandLineTests {
        @Test func parsesValuesInBothSpellingsAndFlags() throws {
            let args = try Arguments(["--steps", "10", "--lr=0.5", "--help"], valueOptions: ["steps", "lr"])
            #expect(try args.value("steps", default: 1) == 10)
            #expect(try args.value("lr", default: 0.1) == 0.5)
            #expect(args.flag("help"))
        }

        @Test func rejectsUnknownOptionsMissingAndBadValues() {
            #expect(throws: UsageError("unknown option --epochs")) { try Arguments(["--epochs", "3"], valueOptions: ["steps"]) }
            #expect(throws: UsageError("--steps needs a value")) { try Arguments(["--steps"], valueOptions: ["steps"]) }
            #expect(throws: UsageError("invalid value 'ten' for --steps; expected a positive integer")) {
                try CurveCommand(arguments: ["--steps", "ten"])
            }
            #expect(throws: UsageError("invalid value '-1' for --lr; expected a positive number")) {
                try CurveCommand(arguments: ["--lr", "-1"])
            }
        }

        @Test func misspeltOptionsAreErrorsThatSuggestTheNearestName() {
            #expect(throws: UsageError("unknown option --epoch; did you mean --epochs?")) { try TrainCommand(arguments: ["mlp", "--epoch", "3"]) }
            #expect(throws: UsageError("unknown option --lerning-rate")) { try TrainCommand(arguments: ["mlp", "--lerning-rate", "3"]) }
            #expect(throws: UsageError("unknown option --chekpoint; did you mean --checkpoint?")) { try EvalCommand(arguments: ["--chekpoint", "x"]) }
            #expect(Arguments.editDistance("kitten", "sitting") == 3 && Arguments.editDistance("", "ab") == 2)
        }

        /// The help is generated from the same table the parser accepts: every option it lists parses.
        @Test func helpAndParserComeFromOneTable() throws {
            for spec in [TrainCommand.spec, EvalCommand.spec, CurveCommand.spec, ConvertCommand.spec, LanguageModelCommand.spec,
                         SentimentCommand.spec, SampleCommand.spec, AttackCommand.spec, DemoCommand.spec, InspectCommand.spec] {
                for option in spec.options {
                    #expect(spec.help.contains("--\(option.name)"), "\(spec.usage): --\(option.name) missing from help")
                    let arguments = option.placeholder == nil ? ["--\(option.name)"] : ["--\(option.name)", "1"]
                    #expect(throws: Never.self) { _ = try spec.parse(arguments) }
                }
                #expect(throws: HelpRequested.self) { _ = try spec.parse(["--help"]) }
                #expect(throws: UsageError.self) { _ = try spec.parse(["--not-an-option"]) }
            }
        }

        @Test func exitCodesMeanSomething() {
            var out: [String] = [], err: [String] = []
            #expect(TesseraMain.run(["bogus"], print: { out.append($0) }, error: { err.append($0) }) == 2)
            #expect(err.first?.contains("unknown command 'bogus'") == true)
            #expect(TesseraMain.run(["curve", "--help"], print: { out.append($0) }, error: { err.append($0) }) == 0)
            #expect(out.last?.contains("usage: tessera curve") == true)
            #expect(TesseraMain.run(["curve", "--nope"], print: { out.append($0) }, error: { err.append($0) }) == 2)
        }

        @Test func demoLossFalls() throws {
            var lines: [String] = []
            let out = NSTemporaryDirectory() + "tessera-curve-\(getpid())"
            let losses = try CurveCommand(arguments: ["--steps", "300", "--seed", "3", "--out", out]).run(print: { lines.append($0) })
            let results = try JSONValue(parsing: Data(contentsOf: URL(fileURLWithPath: out + "/results.json")))
            #expect(results["final"]?["train_loss"]?.numberValue == losses.last)
            #expect(losses.count == 300)
            #expect(losses.last! < losses.first! * 0.5, "loss should at least halve: \(losses.first!) -> \(losses.last!)")
            #expect(lines.last?.hasPrefix("loss ") == true)
        }
    }
}
