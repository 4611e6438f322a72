import Baselines
import Datasets
import Foundation
import TensorCore
import Training

/// `tessera baseline knn|svm|logistic`: the classic baselines of the Baselines library on
/// MNIST or Fashion-MNIST pixels in [0, 1].
public struct BaselineCommand {
    static let models = ["knn", "svm", "logistic"]
    static let spec = CommandSpec(
        usage: "tessera baseline knn|svm|logistic [options]",
        summary: """
        knn: k-nearest neighbours (Euclidean), k chosen from --k by 5-fold cross-validation on the
        first --select-size training images, then all training images vote. svm: a linear SVM
        (Crammer–Singer hinge, λ 1e-4, Adam 1e-3, 10 epochs of batches of 128). logistic: softmax
        regression at C = 1 by L-BFGS on the first --train-size images. Writes results.json
        (final.test_accuracy) to --out.
        """,
        options: [
            OptionSpec("dataset", "NAME", "mnist (default) or fashion-mnist"),
            OptionSpec("k", "K,K", "knn: candidate k (default 1,3,5,7)"),
            OptionSpec("select-size", "N", "knn: training images the choice of k is cross-validated on (default 10000)"),
            OptionSpec("train-size", "N", "training images used (default 60000; logistic 10000)"),
        ] + OptionSpec.runOptions(out: "runs/baseline-MODEL"))
    public static var usage: String { spec.help }

    public var model = "knn"
    public var dataset = "mnist"
    public var candidates = [1, 3, 5, 7]
    public var selectSize = 10_000
    public var trainSize = 60_000
    public var options: RunOptions
    var arguments: [String]

    public init(arguments: [String]) throws {
        self.arguments = arguments
        let args = try Self.spec.parse(arguments)
        model = try args.onlyPositional(from: Self.models, usage: "tessera baseline")
        dataset = args.values["dataset"] ?? "mnist"
        guard ["mnist", "fashion-mnist"].contains(dataset) else { throw UsageError("invalid value '\(dataset)' for --dataset; expected mnist or fashion-mnist") }
        if let text = args.values["k"] {
            let parsed = text.split(separator: ",").map { Int($0) }
            guard !parsed.isEmpty, parsed.allSatisfy({ $0 != nil && $0! >= 1 && $0! <= 100 }) else {
                throw UsageError("invalid value '\(text)' for --k; expected comma-separated integers in 1...100")
            }
            candidates = parsed.map { $0! }
        }
        selectSize = try args.value("select-size", default: 10_000, where: { $0 >= 10 && $0 <= 60_000 }, expected: "an integer in 10...60000")
        trainSize = try args.value("train-size", default: model == "logistic" ? 10_000 : 60_000, where: { $0 >= 10 && $0 <= 60_000 },
                                   expected: "an integer in 10...60000")
        options = try RunOptions(args)
        if options.checkpointDirectory != nil { throw UsageError("--checkpoint-dir: baselines are not checkpointed") }
    }

    public func run(print output: (String) -> Void = { Swift.print($0) }) throws {
        let out = try options.prepare(defaultOut: "runs/baseline-\(model)")
        let train = try ImageDatasets.mnistLike(dataset, split: .train, root: options.root)
        let test = try ImageDatasets.mnistLike(dataset, split: .test, root: options.root)
        let used = Swift.min(trainSize, train.inputs.shape[0])
        let x = train.inputs.narrowed(axis: 0, start: 0, length: used), y = train.targets.narrowed(axis: 0, start: 0, length: used)
        var configuration: [String: JSONValue] = ["command": .string("tessera " + (["baseline"] + arguments).joined(separator: " ")),
                                                  "model": .string(model), "dataset": .string(dataset), "train_size": .number(Double(used)),
                                                  "seed": .number(Double(options.seed))]
        var final: [String: Double] = [:]
        let started = Date()
        switch model {
        case "knn":
            let pool = Swift.min(selectSize, used)
            let choice = KNearestNeighbors.selectK(candidates, x: x.narrowed(axis: 0, start: 0, length: pool),
                                                   labels: y.narrowed(axis: 0, start: 0, length: pool), folds: 5, seed: options.seed)
            for (k, a) in zip(candidates, choice.accuracies) {
                output(String(format: "k %d: 5-fold accuracy %.4f", k, a))
                final["cv_accuracy_k\(k)"] = a
            }
            configuration["candidates"] = .array(candidates.map { .number(Double($0)) })
            final["k"] = Double(choice.k)
            final["test_accuracy"] = accuracy(KNearestNeighbors(k: choice.k, fitting: x, labels: y).predict(test.inputs), test.targets)
        case "svm":
            let svm = LinearClassifier.svm(fitting: x, labels: y, classes: 10, seed: options.seed)
            final["test_accuracy"] = accuracy(svm.predict(test.inputs), test.targets)
            final["train_accuracy"] = accuracy(svm.predict(x), y)
        default:
            let logistic = LinearClassifier.logistic(fitting: x, labels: y, classes: 10, maxIterations: 200, tolerance: 1e-6)
            final["test_accuracy"] = accuracy(logistic.predict(test.inputs), test.targets)
            final["train_accuracy"] = accuracy(logistic.predict(x), y)
        }
        final["seconds"] = Date().timeIntervalSince(started)
        try Trainer.writeResults(history: TrainingHistory(epochs: []), configuration: configuration, final: final, to: out)
        for key in final.keys.sorted() { output("\(key): \(final[key]!)") }
        output("wrote \(out)/results.json")
    }
}
