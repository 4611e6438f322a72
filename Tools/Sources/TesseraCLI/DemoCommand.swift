import CheckpointHDF5
import Datasets
import Foundation
import TensorCore
import Vision

/// `tessera demo`: the README's main job. Fetches Fashion-MNIST when missing, trains the
/// MLP for a few epochs, prints the test accuracy and writes the curves.
public struct DemoCommand {
    static let spec = CommandSpec(
        usage: "tessera demo [options]",
        summary: """
        Fetches Fashion-MNIST if missing (Datasets/fetch fashion-mnist), trains LeNet-5 with SGD
        (momentum 0.9, cosine schedule), prints per-epoch metrics and the test accuracy, and
        writes results.json, metrics.csv, curves.svg and .png and predictions.png (32 test images
        with their predicted labels, and the true ones where wrong, drawn under them).
        """,
        options: [
            OptionSpec("epochs", "N", "epochs (default 3)"),
            OptionSpec("out", "DIR", "output folder (default runs/demo)"),
            .device,
        ])
    public static var usage: String { spec.help }

    var train = TrainCommand()

    public init(arguments: [String]) throws {
        let args = try Self.spec.parse(arguments)
        guard args.positional.isEmpty else { throw UsageError("unexpected argument '\(args.positional[0])'") }
        train.dataset = "fashion-mnist"
        train.model = "lenet"
        train.epochs = try args.value("epochs", default: 3, where: { $0 > 0 }, expected: "a positive integer")
        train.outDirectory = args.values["out"] ?? "runs/demo"
        train.device = args.values["device"] ?? "cpu"
        _ = try DeviceOption.parse(train.device)
    }

    public func run(print output: (String) -> Void = { Swift.print($0) }) throws {
        // The output folder is checked before minutes of downloading.
        try CommandChecks.prepareDirectory(train.outDirectory ?? "runs/demo", option: "out")
        let root = DatasetLocation.defaultRoot()
        let labels = "\(root)/fashion-mnist/t10k-labels-idx1-ubyte.gz"
        if !FileManager.default.fileExists(atPath: labels) {
            let fetch = ProcessInfo.processInfo.environment["TESSERA_FETCH"]
                ?? URL(fileURLWithPath: root).deletingLastPathComponent().appendingPathComponent("fetch").path
            output("fetching Fashion-MNIST with \(fetch) ...")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = [fetch, "fashion-mnist"]
            var environment = ProcessInfo.processInfo.environment
            environment["TESSERA_DATA"] = root
            process.environment = environment
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw DatasetError.missingFile(path: labels, fetchCommand: "Datasets/fetch fashion-mnist")
            }
        }
        var command = train
        command.dataRoot = root
        let out = command.outDirectory ?? "runs/demo"
        let checkpoints = out + "/checkpoints"
        try? FileManager.default.removeItem(atPath: checkpoints)
        command.checkpointDirectory = checkpoints
        try command.run(print: output)

        // A look at the model's answers: a grid of test images and the labels it gives them.
        let model = LeNet5()
        try model.loadStateDict(CheckpointFile.load(from: CheckpointFile.latest(inDirectory: checkpoints)!).model)
        model.eval()
        let test = try ImageDatasets.mnistLike("fashion-mnist", split: .test, root: root)
        let images = test.inputs.narrowed(axis: 0, start: 0, length: 32).reshaped(to: [32, 1, 28, 28])
        let predicted = withoutGradients { model(images).argmax(axis: 1) }.scalars(as: Int64.self)
        let truth = test.targets.narrowed(axis: 0, start: 0, length: 32).scalars(as: Int64.self)
        let names = ["T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Boot"]
        try saveLabelledImageGrid(images, predicted: predicted.map { names[Int($0)] }, truth: truth.map { names[Int($0)] },
                                  to: out + "/predictions.png", columns: 8)
        output("predictions in \(out)/predictions.png (labels under the images; red: wrong, with the true label in grey), row by row:")
        for row in 0..<4 {
            let cells = (0..<8).map { column -> String in
                let i = row * 8 + column
                let cell = predicted[i] == truth[i] ? names[Int(predicted[i])] : "*\(names[Int(predicted[i])])[\(names[Int(truth[i])])]"
                return cell.padding(toLength: 20, withPad: " ", startingAt: 0)
            }
            output("  " + cells.joined())
        }
    }
}
