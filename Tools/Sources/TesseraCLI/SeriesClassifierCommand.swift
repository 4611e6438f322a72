import CheckpointHDF5
import Datasets
import Foundation
import TensorCore
import TimeSeriesModels
import Training

/// `tessera train fcn --dataset GunPoint`: the fully convolutional series classifier of the
/// TimeSeries library on a UCR archive set's train split, scored on its test split.
public struct SeriesClassifierCommand {
    static let spec = CommandSpec(
        usage: "tessera train fcn [options]",
        summary: """
        Trains a fully convolutional network (Wang et al. 2017: three blocks of 1-D convolution,
        batch norm and ReLU, global average pooling, a linear layer) on a UCR archive set's train
        split with Adam under a cosine schedule, evaluating on its test split after every epoch.
        Writes results.json (final.test_accuracy), metrics.csv, curves.svg and model.h5 to --out.
        """,
        options: [
            OptionSpec("dataset", "NAME", "GunPoint (default), ItalyPowerDemand or ArrowHead (any case)"),
            OptionSpec("widths", "W,W,W", "channels of the convolution blocks (default 64,128,64; the paper 128,256,128)"),
            OptionSpec("epochs", "N", "passes over the train split (default 300)"),
            OptionSpec("batch-size", "B", "series per step (default 16)"),
            OptionSpec("lr", "X", "Adam peak learning rate (default 0.001)"),
        ] + OptionSpec.runOptions(out: "runs/fcn-DATASET"),
        footer: "Missing data: run Datasets/fetch ucr first.")
    public static var usage: String { spec.help }

    public var dataset = "GunPoint"
    public var configuration = SeriesClassification.Configuration()
    public var options: RunOptions
    var arguments: [String]

    public init(arguments: [String]) throws {
        self.arguments = arguments
        let args = try Self.spec.parse(arguments)
        _ = try args.onlyPositional(from: ["fcn"], usage: "tessera train")
        let name = args.values["dataset"] ?? dataset
        guard let known = SeriesDatasets.ucrNames.first(where: { $0.lowercased() == name.lowercased() }) else {
            throw UsageError("invalid value '\(name)' for --dataset; expected \(SeriesDatasets.ucrNames.joined(separator: ", "))")
        }
        dataset = known
        if let text = args.values["widths"] {
            let widths = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0) }
            guard !widths.isEmpty, widths.count <= 8, widths.allSatisfy({ ($0 ?? 0) >= 1 && $0! <= 1024 }) else {
                throw UsageError("invalid value '\(text)' for --widths; expected up to 8 comma-separated integers in 1...1024")
            }
            configuration.widths = widths.map { $0! }
            // The paper's kernels 8, 5, 3; further blocks keep 3.
            configuration.kernelSizes = (0..<widths.count).map { $0 < 3 ? [8, 5, 3][$0] : 3 }
        }
        configuration.epochs = try args.value("epochs", default: 300, where: { $0 >= 1 && $0 <= 100_000 }, expected: "an integer in 1...100000")
        configuration.batchSize = try args.value("batch-size", default: 16, where: { $0 >= 1 && $0 <= 100_000 }, expected: "an integer in 1...100000")
        configuration.learningRate = try args.value("lr", default: 1e-3, where: { $0 > 0 && $0.isFinite }, expected: "a positive number")
        options = try RunOptions(args)
        configuration.seed = options.seed
        try options.refuseCheckpoints("series classifiers train in a minute and are not checkpointed")
    }

    public func run(print output: (String) -> Void = { Swift.print($0) }) throws {
        // The trainer keeps its log closure for the run only.
        try withoutActuallyEscaping(output) { try classify(print: $0) }
    }

    func classify(print output: @escaping (String) -> Void) throws {
        let out = try options.prepare(defaultOut: "runs/fcn-\(dataset.lowercased())")
        let train = try SeriesDatasets.ucr(dataset, split: .train, root: options.root)
        let test = try SeriesDatasets.ucr(dataset, split: .test, root: options.root)
        let shape = train.dataset.inputs.shape
        output("\(dataset): \(shape[0]) training and \(test.dataset.count) test series of length \(shape[2]), classes \(train.classLabels)")
        let started = Date()
        let (model, trainer) = try SeriesClassification.fit(train: train.dataset, test: test.dataset, classes: train.classLabels.count,
                                                            configuration: configuration, log: output)
        var final = trainer.finalFigures()
        final["seconds"] = Date().timeIntervalSince(started)
        final["parameters"] = Double(model.parameterCount)
        let recorded: [String: JSONValue] = [
            "command": .string("tessera " + (["train"] + arguments).joined(separator: " ")), "model": "fcn", "dataset": .string(dataset),
            "train_size": .number(Double(shape[0])), "test_size": .number(Double(test.dataset.count)),
            "classes": .array(train.classLabels.map { .string($0) }),
        ]
        try RunRecord.write(history: trainer.history, configuration: recorded, settings: configuration, final: final, model: model,
                            epoch: trainer.epoch, metadata: ["kind": .string("series-classifier"), "dataset": .string(dataset)],
                            to: out, print: output)
        output("wrote \(out)/results.json")
    }
}
