import CheckpointHDF5
import Datasets
import Foundation
import NN
import Optim
import TensorCore
import Training
import Vision

/// `tessera attack`: clean versus adversarial accuracy of a LeNet under FGSM and PGD, and
/// optionally after a short adversarial training.
public struct AttackCommand {
    static let spec = CommandSpec(
        usage: "tessera attack --model lenet --dataset mnist|fashion-mnist [options]",
        summary: """
        Trains LeNet-5 (or loads the newest checkpoint in --checkpoint-dir), then reports test
        accuracy on clean images and under FGSM and PGD for each epsilon (pixels in [0, 1]);
        writes results.json to the checkpoint folder.
        """,
        options: [
            OptionSpec("model", "NAME", "lenet (default; the only one)"),
            OptionSpec("dataset", "NAME", "mnist (default) or fashion-mnist"),
            OptionSpec("method", "NAME", "fgsm, pgd or both (default both)"),
            OptionSpec("epsilon", "LIST", "comma-separated radii (default 0,0.05,0.1,0.2,0.3)"),
            OptionSpec("epochs", "N", "training epochs when no checkpoint exists (default 3)"),
            OptionSpec("checkpoint-dir", "D", "reuse or store the trained model (default runs/attack-DATASET)"),
            OptionSpec("limit", "N", "test images attacked (default 2000)"),
            OptionSpec("steps", "N", "PGD iterations (default 10)"),
            OptionSpec("step-size", "X", "PGD step (default epsilon / 4)"),
            OptionSpec("adversarial-epochs", "N", "then fine-tune on half-PGD batches (epsilon 0.3 or the largest) and report again (default 0)"),
            OptionSpec("adversarial-samples", "N", "training images used per adversarial epoch (default 10000)"),
            .data,
            .device,
        ],
        footer: "Missing data: run Datasets/fetch mnist (or fashion-mnist) first.")
    public static var usage: String { spec.help }

    var dataset = "mnist"
    var methods = ["fgsm", "pgd"]
    var epsilons = [0, 0.05, 0.1, 0.2, 0.3]
    var epochs = 3
    var checkpointDirectory: String?
    var limit = 2000
    var steps = 10
    var stepSize: Double?
    var adversarialEpochs = 0
    var adversarialSamples = 10_000
    var dataRoot: String?
    var device = "cpu"

    public init(arguments: [String]) throws {
        let args = try Self.spec.parse(arguments)
        guard args.positional.isEmpty else { throw UsageError("unexpected argument '\(args.positional[0])'") }
        guard (args.values["model"] ?? "lenet") == "lenet" else {
            throw UsageError("invalid value '\(args.values["model"]!)' for --model; available: lenet")
        }
        dataset = args.values["dataset"] ?? dataset
        guard ["mnist", "fashion-mnist"].contains(dataset) else { throw UsageError("invalid value '\(dataset)' for --dataset; expected mnist or fashion-mnist") }
        switch args.values["method"] ?? "both" {
        case "fgsm": methods = ["fgsm"]
        case "pgd": methods = ["pgd"]
        case "both": methods = ["fgsm", "pgd"]
        case let other: throw UsageError("invalid value '\(other)' for --method; expected fgsm, pgd or both")
        }
        if let text = args.values["epsilon"] {
            let values = text.split(separator: ",").map { Double($0) }
            guard !values.isEmpty, values.allSatisfy({ ($0 ?? -1) >= 0 }) else {
                throw UsageError("invalid value '\(text)' for --epsilon; expected non-negative numbers like 0,0.1,0.3")
            }
            epsilons = values.map { $0! }
        }
        epochs = try args.value("epochs", default: 3, where: { $0 > 0 }, expected: "a positive integer")
        checkpointDirectory = args.values["checkpoint-dir"]
        limit = try args.value("limit", default: 2000, where: { $0 > 0 }, expected: "a positive integer")
        steps = try args.value("steps", default: 10, where: { $0 > 0 }, expected: "a positive integer")
        if args.values["step-size"] != nil {
            stepSize = try args.value("step-size", default: 0.01, where: { $0 > 0 }, expected: "a positive number")
        }
        adversarialEpochs = try args.value("adversarial-epochs", default: 0, where: { $0 >= 0 }, expected: "a non-negative integer")
        adversarialSamples = try args.value("adversarial-samples", default: 10_000, where: { $0 > 0 }, expected: "a positive integer")
        dataRoot = args.values["data"]
        device = args.values["device"] ?? device
        _ = try DeviceOption.parse(device)
    }

    /// Prints the accuracy table and returns its figures (`clean`, `fgsm_eps_0.1`, `pgd_eps_0.1`, …).
    @discardableResult
    func report(_ model: Module, _ images: Tensor, _ labels: Tensor, output: (String) -> Void) -> [String: Double] {
        var figures: [String: Double] = [:]
        model.eval()
        output("epsilon  clean    " + methods.map { $0.padding(toLength: 9, withPad: " ", startingAt: 0) }.joined())
        let g = RandomGenerator(seed: 1)
        for eps in epsilons {
            let clean = Adversarial.accuracy(model: model, images: images, labels: labels)
            figures["clean_accuracy"] = clean
            var row = String(format: "%-8.3f %.4f   ", eps, clean)
            for method in methods {
                let adversarial = method == "fgsm"
                    ? Adversarial.fgsm(model: model, images: images, labels: labels, epsilon: eps)
                    : Adversarial.pgd(model: model, images: images, labels: labels, epsilon: eps,
                                      stepSize: stepSize ?? Swift.max(eps / 4, 1e-3), steps: steps, generator: g)
                let accuracy = Adversarial.accuracy(model: model, images: adversarial, labels: labels)
                figures["\(method)_accuracy_eps_\(eps)"] = accuracy
                row += String(format: "%.4f   ", accuracy)
            }
            output(row)
        }
        return figures
    }

    public func run(print output: (String) -> Void = { Swift.print($0) }) throws {
        try withoutActuallyEscaping(output) { try attack(print: $0) }
    }

    private func attack(print output: @escaping (String) -> Void) throws {
        let root = dataRoot ?? DatasetLocation.defaultRoot()
        let directory = checkpointDirectory ?? "runs/attack-\(dataset)"
        try CommandChecks.prepareDirectory(directory, option: "checkpoint-dir")
        if CheckpointFile.latest(inDirectory: directory) == nil {
            var train = TrainCommand()
            train.model = "lenet"
            train.dataset = dataset
            train.epochs = epochs
            train.dataRoot = root
            train.checkpointDirectory = directory
            train.outDirectory = directory + "/pretraining"
            train.device = device
            try train.run(print: output)
        }
        let model = LeNet5()
        let latest = CheckpointFile.latest(inDirectory: directory)!
        try model.loadStateDict(CheckpointFile.load(from: latest).model)
        let target = try DeviceOption.resolve(device)
        model.move(to: target)
        output("model: \(latest)")
        let test = try ImageDatasets.mnistLike(dataset, split: .test, root: root)
        let n = Swift.min(limit, test.count)
        let images = test.inputs.narrowed(axis: 0, start: 0, length: n).reshaped(to: [n, 1, 28, 28]).contiguous().moved(to: target)
        let labels = test.targets.narrowed(axis: 0, start: 0, length: n).contiguous().moved(to: target)
        output("accuracy on the first \(n) test images:")
        var final = report(model, images, labels, output: output)
        let configuration: [String: JSONValue] = [
            "command": "tessera attack", "model": "lenet", "dataset": .string(dataset), "test_images": .number(Double(n)),
            "epsilons": .array(epsilons.map { .number($0) }), "methods": .array(methods.map { .string($0) }),
            "adversarial_epochs": .number(Double(adversarialEpochs)), "checkpoint": .string(latest),
        ]
        defer { try? Trainer.writeResults(history: TrainingHistory(), configuration: configuration, final: final, to: directory) }

        guard adversarialEpochs > 0 else { return }
        let eps = epsilons.contains(0.3) ? 0.3 : (epsilons.max() ?? 0.3)
        let trainSet = try ImageDatasets.mnistLike(dataset, split: .train, root: root)
        let subset = trainSet.batch(Array(0..<Swift.min(adversarialSamples, trainSet.count)))
        let data = TensorDataset(inputs: subset.input.reshaped(to: [-1, 1, 28, 28]), targets: subset.target)
        let optimizer = Adam(parameters: model.parameters(), learningRate: 1e-3)
        let loader = DataLoader(data, batchSize: 64, sampler: RandomSampler(seed: 3))
        let g = RandomGenerator(seed: 2)
        let trainer = Trainer(model: model, optimizer: optimizer,
                              configuration: TrainerConfiguration(epochs: adversarialEpochs, outputDirectory: directory + "/adversarial"))
        trainer.log = output
        defer { trainer.log = { _ in } }   // `output` does not escape `run`
        trainer.recordedConfiguration = ["command": "tessera attack (adversarial fine-tuning)", "epsilon": .number(eps),
                                         "pgd_steps": 5, "train_images": .number(Double(data.count))]
        try trainer.fit(batchesPerEpoch: loader.batchCount, batches: { loader.batches(epoch: $0) }, step: { batch in
            let (input, labels) = (batch.input.moved(to: target), batch.target.moved(to: target))
            // Half clean, half PGD loss: keeps clean accuracy while gaining robustness.
            let adversarialLoss = Adversarial.adversarialLoss(model: model, images: input, labels: labels,
                                                              epsilon: eps, stepSize: eps / 4, steps: 5, generator: g)
            let logits = model(input)
            return TrainingStepOutput(loss: (adversarialLoss + crossEntropy(logits: logits, targets: labels)) * 0.5,
                                      count: labels.elementCount, correct: Trainer.correctCount(logits, labels))
        })
        output("after \(adversarialEpochs) epoch(s) of PGD adversarial training (epsilon \(eps)):")
        for (name, value) in report(model, images, labels, output: output) { final["adversarially_trained_" + name] = value }
    }
}
