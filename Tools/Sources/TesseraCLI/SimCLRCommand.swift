import CheckpointHDF5
import Datasets
import Foundation
import NN
import SelfSupervised
import TensorCore
import Training
import Vision

/// `tessera train simclr --dataset fashion-mnist`: SimCLR pretraining without labels, then the
/// linear probe on its frozen representation against the same probe on raw pixels.
public struct SimCLRCommand {
    static let spec = CommandSpec(
        usage: "tessera train simclr [options]",
        summary: """
        Pretrains a small convolutional encoder with SimCLR (two random resized crops with flips
        and brightness/contrast jitter per image, a projection head, NT-Xent at temperature 0.5)
        on the training images without their labels, then trains a linear classifier on the
        frozen 128-wide representation and, as the baseline, the same classifier on the raw
        pixels. Writes results.json (final.probe_test_accuracy, pixel_probe_test_accuracy,
        beats_pixels), metrics.csv, curves.svg, views.png (images beside two of their augmented
        views) and model.h5 to --out.
        """,
        options: [
            OptionSpec("dataset", "NAME", "fashion-mnist (default) or mnist"),
            OptionSpec("epochs", "N", "pretraining epochs (default 10)"),
            OptionSpec("batch-size", "B", "images per step, two views each (default 256)"),
            OptionSpec("lr", "X", "Adam peak learning rate (default 0.002)"),
            OptionSpec("probe-epochs", "N", "linear-probe epochs, for both probes (default 20)"),
            OptionSpec("train-subset", "N", "pretrain and probe on the first N training images only"),
        ] + OptionSpec.runOptions(out: "runs/simclr-DATASET"),
        footer: "Missing data: run Datasets/fetch fashion-mnist first.")
    public static var usage: String { spec.help }

    public var dataset = "fashion-mnist"
    public var trainSubset: Int?
    public var configuration = SimCLRExperiment.Configuration()
    public var options: RunOptions
    var arguments: [String]

    public init(arguments: [String]) throws {
        self.arguments = arguments
        let args = try Self.spec.parse(arguments)
        _ = try args.onlyPositional(from: ["simclr"], usage: "tessera train")
        dataset = args.values["dataset"] ?? dataset
        guard ["fashion-mnist", "mnist"].contains(dataset) else { throw UsageError("invalid value '\(dataset)' for --dataset; expected fashion-mnist or mnist") }
        configuration.epochs = try args.value("epochs", default: 10, where: { $0 >= 1 && $0 <= 10_000 }, expected: "an integer in 1...10000")
        configuration.batchSize = try args.value("batch-size", default: 256, where: { $0 >= 2 && $0 <= 8192 }, expected: "an integer in 2...8192")
        configuration.learningRate = try args.value("lr", default: 2e-3, where: { $0 > 0 && $0.isFinite }, expected: "a positive number")
        configuration.probe.epochs = try args.value("probe-epochs", default: 20, where: { $0 >= 1 && $0 <= 10_000 }, expected: "an integer in 1...10000")
        if args.values["train-subset"] != nil {
            trainSubset = try args.value("train-subset", default: 1, where: { $0 >= 2 }, expected: "an integer of at least 2")
        }
        options = try RunOptions(args)
        configuration.seed = options.seed
        configuration.probe.seed = options.seed
        try options.refuseCheckpoints("SimCLR runs are not checkpointed")
    }

    public func run(print output: (String) -> Void = { Swift.print($0) }) throws {
        try withoutActuallyEscaping(output) { try pretrain(print: $0) }
    }

    func pretrain(print output: @escaping (String) -> Void) throws {
        let out = try options.prepare(defaultOut: "runs/simclr-\(dataset)")
        func images(_ data: TensorDataset, limit: Int?) -> TensorDataset {
            let n = Swift.min(limit ?? data.count, data.count)
            return TensorDataset(inputs: data.inputs.narrowed(axis: 0, start: 0, length: n).reshaped(to: [n, 1, 28, 28]),
                                 targets: data.targets.narrowed(axis: 0, start: 0, length: n))
        }
        let train = images(try ImageDatasets.mnistLike(dataset, split: .train, root: options.root), limit: trainSubset)
        let test = images(try ImageDatasets.mnistLike(dataset, split: .test, root: options.root), limit: nil)
        output("SimCLR on \(train.count) \(dataset) training images (labels unused), batch \(configuration.batchSize), "
               + "\(configuration.epochs) epochs; probes on \(test.count) test images")
        let result = try SimCLRExperiment.run(train: train, test: test, classes: 10, configuration: configuration, log: output)
        let recorded: [String: JSONValue] = ["command": .string("tessera " + (["train"] + arguments).joined(separator: " ")),
                                             "model": "simclr", "dataset": .string(dataset), "train_images": .number(Double(train.count))]
        try RunRecord.write(history: result.history, configuration: recorded, settings: configuration, final: result.final, model: result.model,
                            epoch: configuration.epochs, metadata: ["kind": .string("simclr"), "dataset": .string(dataset)],
                            to: out, print: output)
        // Eight test images, each followed by two of its augmented views.
        let shown = test.inputs.narrowed(axis: 0, start: 0, length: 8)
        let augment = SimCLRAugmentation(size: 28, scale: configuration.minimumCropArea...1, seed: options.seed &+ 99)
        let grid = Tensor.stacked([shown, augment(shown), augment(shown)], axis: 1).reshaped(to: [24, 1, 28, 28])
        try saveImageGrid(grid.reshaped(to: [24, 1, 28, 1, 28, 1]).expanded(to: [24, 1, 28, 3, 28, 3]).reshaped(to: [24, 1, 84, 84]),
                          to: out + "/views.png", columns: 6)
        output("wrote \(out)/results.json and \(out)/views.png")
    }
}
