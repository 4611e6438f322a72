import Datasets
import Foundation

/// `tessera demo`: the README's main job. Fetches Fashion-MNIST when missing, trains the
/// MLP for a few epochs, prints the test accuracy and writes the curves.
public struct DemoCommand {
    public static let usage = """
    usage: tessera demo [--epochs N] [--out DIR]

    Fetches Fashion-MNIST if missing (Datasets/fetch fashion-mnist), trains a
    784-512-256-10 MLP with SGD (momentum 0.9, cosine schedule), prints per-epoch metrics
    and the test accuracy, and writes metrics.csv and curves.svg.

    options:
      --epochs N   epochs (default 3)
      --out DIR    output folder (default runs/demo)
      --help       show this help
    """

    var train = TrainCommand()

    public init(arguments: [String]) throws {
        let args = try Arguments(arguments, valueOptions: ["epochs", "out"])
        if args.flag("help") { throw HelpRequested(text: DemoCommand.usage) }
        guard args.positional.isEmpty else { throw UsageError("unexpected argument '\(args.positional[0])'") }
        train.dataset = "fashion-mnist"
        train.epochs = try args.value("epochs", default: 3, where: { $0 > 0 }, expected: "a positive integer")
        train.outDirectory = args.values["out"] ?? "runs/demo"
    }

    public func run(print output: (String) -> Void = { Swift.print($0) }) throws {
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
        try command.run(print: output)
    }
}
