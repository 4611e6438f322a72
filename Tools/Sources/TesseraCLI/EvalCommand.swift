import CheckpointHDF5
import Datasets
import Foundation
import NN
import TensorCore
import Training

/// `tessera eval --checkpoint FILE`: the test metrics of a model `tessera train` saved.
public struct EvalCommand {
    static let spec = CommandSpec(
        usage: "tessera eval --checkpoint FILE [options]",
        summary: """
        Rebuilds the model a `tessera train mlp|lenet|resnet20|cnn` run saved (its --out folder's
        model.h5 records the model and dataset), loads its weights and reports test loss and
        accuracy; writes results.json to --out when given.
        """,
        options: [
            OptionSpec("checkpoint", "FILE", "the model file (required)"),
            .data,
            OptionSpec("out", "DIR", "where results.json goes (default: nothing written)"),
        ])
    public static var usage: String { spec.help }

    public var checkpoint: String
    public var dataRoot: String?
    public var outDirectory: String?

    public init(arguments: [String]) throws {
        let args = try Self.spec.parse(arguments)
        guard args.positional.isEmpty else { throw UsageError("unexpected argument '\(args.positional[0])'") }
        guard let checkpoint = args.values["checkpoint"] else { throw UsageError("--checkpoint FILE is required") }
        self.checkpoint = checkpoint
        dataRoot = args.values["data"]
        outDirectory = args.values["out"]
    }

    /// The test split's loss and accuracy; prints them.
    @discardableResult
    public func run(print output: (String) -> Void = { Swift.print($0) }) throws -> Trainer.Evaluation {
        if let outDirectory { try CommandChecks.prepareDirectory(outDirectory, option: "out") }
        let saved = try CheckpointFile.load(from: checkpoint)
        func text(_ key: String) throws -> String {
            guard case .string(let v)? = saved.metadata[key] else {
                throw TrainingError.cannotResume(path: checkpoint, reason: "no '\(key)' recorded: not a model saved by tessera train")
            }
            return v
        }
        func number(_ key: String) throws -> Int {
            guard case .number(let v)? = saved.metadata[key] else {
                throw TrainingError.cannotResume(path: checkpoint, reason: "no '\(key)' recorded: not a model saved by tessera train")
            }
            return Int(v)
        }
        var train = try TrainCommand(arguments: [try text("model"), "--dataset", try text("dataset")])
        train.dataRoot = dataRoot
        let hidden = try text("hidden").split(separator: ",").compactMap { Int($0) }
        let (model, description) = TrainCommand.makeNetwork(model: train.model, depth: try number("depth"), hidden: hidden,
                                                            features: try number("features"), generator: RandomGenerator(seed: 0))
        do { try model.loadStateDict(saved.model) } catch {
            throw TrainingError.cannotResume(path: checkpoint, reason: "weights do not fit \(description): \(error)")
        }
        let test = try train.loadData().test
        let result = Trainer.evaluate(model, on: DataLoader(test, batchSize: 1000))
        output("\(description) from \(checkpoint) on \(train.dataset) (\(result.count) test examples)")
        output(String(format: "test loss: %.4f", result.loss))
        output(String(format: "test accuracy: %.4f", result.accuracy ?? .nan))
        if let outDirectory {
            var final = ["test_loss": result.loss]
            if let accuracy = result.accuracy { final["test_accuracy"] = accuracy }
            try Trainer.writeResults(history: TrainingHistory(), configuration: [
                "command": .string("tessera eval --checkpoint \(checkpoint)"), "model": .string(train.model),
                "dataset": .string(train.dataset), "checkpoint": .string(checkpoint),
            ], final: final, to: outDirectory)
        }
        return result
    }
}
