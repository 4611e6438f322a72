import CheckpointHDF5
import Datasets
import Foundation
import NN
import Optim
import TensorCore
import Vision

/// Training failed in a way the user can act on.
public enum TrainingError: Error, CustomStringConvertible {
    case nonFiniteLoss(step: Int, epoch: Int, value: Double)
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case let .nonFiniteLoss(step, epoch, value):
            return "loss became \(value) at step \(step) (epoch \(epoch)); lower --lr, or find the operation with anomaly mode (Anomaly.detect { ... })"
        case let .cannotWrite(path, reason):
            return "cannot write \(path): \(reason)"
        }
    }
}

/// `tessera train mlp`: an MLP classifier on an image dataset, with progress, metrics CSV
/// and an SVG of the curves.
public struct TrainCommand {
    public static let usage = """
    usage: tessera train mlp|lenet|resnet20|cnn [options]
       (gpt, char-rnn, sentiment: tessera train MODEL --help)

    Trains a multilayer perceptron, LeNet-5, a CIFAR-style ResNet or the same network without
    its shortcuts (cnn: the plain deep CNN of the depth-vs-residual experiment) on an image
    dataset and reports per-epoch loss and accuracy; writes metrics.csv and curves.svg to --out.

    options:
      --dataset NAME       fashion-mnist (default), mnist, mnist-5k, digits
      --epochs N           passes over the training set (default 10)
      --batch-size B       examples per step (default 128)
      --lr X               learning rate (default 0.05 for sgd, 0.001 for adam/adamw)
      --optimizer NAME     sgd (momentum 0.9, default), adam, adamw
      --hidden SIZES       hidden widths, comma-separated (default 512,256)
      --depth N            resnet20/cnn depth, 6n + 2 (default 20: 9 residual or plain blocks)
      --train-subset N     train on the first N training images only (quick experiments)
      --weight-decay X     L2 (sgd, adam) or decoupled (adamw) decay (default 0)
      --schedule NAME      cosine (default: anneal to 0 over the epochs, per step) or constant
      --seed S             initialisation and shuffling seed (default 0)
      --threads N          CPU threads for kernels and OpenBLAS (default: all cores)
      --out DIR            where metrics.csv and curves.svg go (default runs/mlp-DATASET)
      --checkpoint-dir D   save model, optimizer, schedule and position every epoch (keeps 3)
      --resume             continue from the newest checkpoint in --checkpoint-dir
      --stop-after-epoch K stop after epoch K of --epochs (time-boxed jobs; --resume later)
      --data DIR           dataset root (default Datasets/data, or $TESSERA_DATA)
      --help               show this help
    Missing data: run Datasets/fetch NAME first.
    """

    public var model = "mlp"
    public var dataset = "fashion-mnist"
    public var epochs = 10
    public var batchSize = 128
    public var learningRate: Double?
    public var optimizer = "sgd"
    public var hidden = [512, 256]
    public var depth = 20
    public var trainSubset: Int?
    public var weightDecay = 0.0
    public var schedule = "cosine"
    public var seed: UInt64 = 0
    public var outDirectory: String?
    public var dataRoot: String?
    public var checkpointDirectory: String?
    public var resume = false
    public var stopAfterEpoch: Int?
    public var threads: Int?

    public init() {}

    public init(arguments: [String]) throws {
        guard let model = arguments.first, !model.hasPrefix("--") else {
            if arguments.contains("--help") { throw HelpRequested(text: TrainCommand.usage) }
            throw UsageError("missing model: tessera train mlp [options]")
        }
        guard ["mlp", "lenet", "resnet20", "cnn"].contains(model) else {
            throw UsageError("unknown model '\(model)'; available: mlp, lenet, resnet20, cnn, gpt, char-rnn, sentiment")
        }
        self.model = model
        let args = try Arguments(Array(arguments.dropFirst()), valueOptions: [
            "dataset", "epochs", "batch-size", "lr", "optimizer", "hidden", "weight-decay", "schedule", "seed", "out", "data",
            "checkpoint-dir", "stop-after-epoch", "threads", "depth", "train-subset"], flagOptions: ["help", "resume"])
        if args.flag("help") { throw HelpRequested(text: TrainCommand.usage) }
        guard args.positional.isEmpty else { throw UsageError("unexpected argument '\(args.positional[0])'") }
        dataset = args.values["dataset"] ?? dataset
        guard ["fashion-mnist", "mnist", "mnist-5k", "digits"].contains(dataset) else {
            throw UsageError("unknown dataset '\(dataset)'; expected fashion-mnist, mnist, mnist-5k or digits")
        }
        if model != "mlp" && dataset == "digits" { throw UsageError("\(model) needs 28×28 images; digits are 8×8") }
        depth = try args.value("depth", default: 20, where: { $0 >= 8 && ($0 - 2) % 6 == 0 }, expected: "6n + 2 (8, 14, 20, 32, 44, 56, ...)")
        if args.values["depth"] != nil && model != "resnet20" && model != "cnn" { throw UsageError("--depth applies to resnet20 and cnn") }
        if args.values["train-subset"] != nil {
            trainSubset = try args.value("train-subset", default: 1, where: { $0 > 0 }, expected: "a positive integer")
        }
        epochs = try args.value("epochs", default: 10, where: { $0 > 0 }, expected: "a positive integer")
        batchSize = try args.value("batch-size", default: 128, where: { $0 > 0 }, expected: "a positive integer")
        if args.values["lr"] != nil {
            learningRate = try args.value("lr", default: 0.1, where: { $0 > 0 && $0.isFinite }, expected: "a positive number")
        }
        optimizer = args.values["optimizer"] ?? optimizer
        guard ["sgd", "adam", "adamw"].contains(optimizer) else {
            throw UsageError("unknown optimizer '\(optimizer)'; expected sgd, adam or adamw")
        }
        if let text = args.values["hidden"] {
            let sizes = text.split(separator: ",").map { Int($0) }
            guard !sizes.isEmpty, sizes.allSatisfy({ ($0 ?? 0) > 0 }) else {
                throw UsageError("invalid value '\(text)' for --hidden; expected positive integers like 512,256")
            }
            hidden = sizes.map { $0! }
        }
        schedule = args.values["schedule"] ?? schedule
        guard ["cosine", "constant"].contains(schedule) else {
            throw UsageError("unknown schedule '\(schedule)'; expected cosine or constant")
        }
        weightDecay = try args.value("weight-decay", default: 0.0, where: { $0 >= 0 }, expected: "a non-negative number")
        seed = try args.value("seed", default: UInt64(0))
        outDirectory = args.values["out"]
        dataRoot = args.values["data"]
        checkpointDirectory = args.values["checkpoint-dir"]
        if args.values["threads"] != nil {
            threads = try args.value("threads", default: 1, where: { $0 > 0 }, expected: "a positive integer")
        }
        resume = args.flag("resume")
        if resume && checkpointDirectory == nil { throw UsageError("--resume needs --checkpoint-dir") }
        if args.values["stop-after-epoch"] != nil {
            stopAfterEpoch = try args.value("stop-after-epoch", default: 1, where: { $0 > 0 }, expected: "a positive integer")
        }
    }

    public struct EpochMetrics {
        public var trainLoss: Double, trainAccuracy: Double, testLoss: Double, testAccuracy: Double, seconds: Double

        static let header = "epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds"

        static func csv(_ history: [EpochMetrics]) -> String {
            var text = header + "\n"
            for (i, m) in history.enumerated() {
                text += "\(i + 1),\(m.trainLoss),\(m.trainAccuracy),\(m.testLoss),\(m.testAccuracy),\(m.seconds)\n"
            }
            return text
        }

        static func parse(_ csv: String) -> [EpochMetrics] {
            csv.split(separator: "\n").dropFirst().compactMap { line in
                let v = line.split(separator: ",").compactMap { Double($0) }
                return v.count == 6 ? EpochMetrics(trainLoss: v[1], trainAccuracy: v[2], testLoss: v[3], testAccuracy: v[4], seconds: v[5]) : nil
            }
        }
    }

    func loadData() throws -> (train: TensorDataset, test: TensorDataset) {
        let root = dataRoot ?? DatasetLocation.defaultRoot()
        switch dataset {
        case "fashion-mnist", "mnist":
            return (try ImageDatasets.mnistLike(dataset, split: .train, root: root),
                    try ImageDatasets.mnistLike(dataset, split: .test, root: root))
        default:
            // No official split: hold out a fifth, chosen by a fixed seed (not --seed) so runs compare.
            let all = try ImageDatasets.csvDigits(dataset, root: root)
            let order = permutation(all.count, seed: 2024)
            let testCount = all.count / 5
            let pick = { (indices: ArraySlice<Int>) in all.batch(Array(indices)) }
            let test = pick(order[0..<testCount]), train = pick(order[testCount...])
            return (TensorDataset(inputs: train.input, targets: train.target), TensorDataset(inputs: test.input, targets: test.target))
        }
    }

    /// Trains and returns the per-epoch metrics; prints progress, epoch lines and the final accuracy.
    @discardableResult
    public func run(print output: (String) -> Void = { Swift.print($0) }) throws -> [EpochMetrics] {
        if let threads { CPUThreads.count = threads }
        var (train, test) = try loadData()
        if let n = trainSubset, n < train.count {
            train = TensorDataset(inputs: train.inputs[0..<n], targets: train.targets[0..<n])
        }
        let features = train.inputs.shape[1]
        let generator = RandomGenerator(seed: seed)
        let network: Module
        let description: String
        if self.model == "lenet" {
            network = LeNet5(generator: generator)
            description = "LeNet-5"
        } else if self.model == "resnet20" || self.model == "cnn" {
            let residual = self.model == "resnet20"
            // Flat 784-pixel rows to [N, 1, 28, 28] images first.
            network = Sequential(Unflatten(axis: 1, sizes: [1, 28, 28]),
                                 ResNet.cifar(depth: depth, inputChannels: 1, classCount: 10, residual: residual, generator: generator))
            description = residual ? "ResNet-\(depth)" : "plain CNN of depth \(depth)"
        } else {
            var layers: [Module] = []
            var width = features
            for h in hidden {
                layers += [Linear(inputSize: width, outputSize: h, generator: generator), ReLU()]
                width = h
            }
            layers.append(Linear(inputSize: width, outputSize: 10, generator: generator))
            network = Sequential(layers)
            description = "MLP \(features)-\(hidden.map(String.init).joined(separator: "-"))-10"
        }
        let model = network
        let lr = learningRate ?? (optimizer == "sgd" ? 0.05 : 0.001)
        let opt: Optimizer
        switch optimizer {
        case "adam": opt = Adam(parameters: model.parameters(), learningRate: lr, weightDecay: weightDecay)
        case "adamw": opt = AdamW(parameters: model.parameters(), learningRate: lr, weightDecay: weightDecay)
        default: opt = SGD(parameters: model.parameters(), learningRate: lr, momentum: 0.9, weightDecay: weightDecay)
        }
        let loader = DataLoader(train, batchSize: batchSize, sampler: RandomSampler(seed: seed))
        let scheduler: LearningRateSchedule? = schedule == "cosine"
            ? CosineAnnealingSchedule(opt, maxSteps: epochs * loader.batchCount) : nil
        output("training \(description) on \(dataset) "
               + "(\(train.count) train, \(test.count) test), \(optimizer) lr \(lr) (\(schedule)), batch \(batchSize), \(model.parameterCount) parameters")

        var history: [EpochMetrics] = []
        var step = 0
        var firstEpoch = 1
        if resume, let directory = checkpointDirectory, let latest = CheckpointFile.latest(inDirectory: directory) {
            let saved = try CheckpointFile.load(from: latest)
            try model.loadStateDict(saved.model)
            try opt.load(stateDict: OptimizerStateDict(tensors: saved.optimizerTensors, scalars: saved.optimizerScalars))
            step = saved.step ?? 0
            firstEpoch = (saved.epoch ?? 0) + 1
            (scheduler as? ClosedFormSchedule)?.restore(stepCount: step)
            if let random = saved.random {
                RandomGenerator.global.reseed(random.seed)
                RandomGenerator.global.offset = random.offset
            }
            if case .string(let csv)? = saved.metadata["history"] { history = EpochMetrics.parse(csv) }
            output("resumed from \(latest) after epoch \(firstEpoch - 1), step \(step)")
        }
        let lastEpoch = Swift.min(epochs, stopAfterEpoch ?? epochs)
        for epoch in firstEpoch...Swift.max(lastEpoch, firstEpoch) where epoch <= lastEpoch {
            let started = Date()
            model.train()
            let bar = ProgressBar(total: loader.batchCount, label: "epoch \(epoch)/\(epochs)")
            var lossSum = 0.0, correct = 0, seen = 0, batches = 0
            for batch in loader.batches(epoch: epoch - 1) {
                step += 1
                let logits = model(batch.input)
                let loss = crossEntropy(logits: logits, targets: batch.target)
                let value = loss.item(as: Double.self)
                guard value.isFinite else { throw TrainingError.nonFiniteLoss(step: step, epoch: epoch, value: value) }
                opt.zeroGradients()
                loss.backward()
                opt.step()
                scheduler?.step()
                let n = batch.target.elementCount
                lossSum += value * Double(n)
                correct += Int(withoutGradients { (logits.argmax(axis: 1) .== batch.target).cast(to: .int64).sum().item(as: Int64.self) })
                seen += n
                batches += 1
                bar.update(done: batches, work: seen, status: "loss \(String(format: "%.4f", lossSum / Double(seen)))")
            }
            bar.finish(done: batches, work: seen, status: "loss \(String(format: "%.4f", lossSum / Double(seen)))")
            let (testLoss, testAccuracy) = evaluate(model, test)
            let metrics = EpochMetrics(trainLoss: lossSum / Double(seen), trainAccuracy: Double(correct) / Double(seen),
                                       testLoss: testLoss, testAccuracy: testAccuracy, seconds: Date().timeIntervalSince(started))
            history.append(metrics)
            output(String(format: "epoch %d: train loss %.4f, train accuracy %.4f, test loss %.4f, test accuracy %.4f (%.1fs)",
                          epoch, metrics.trainLoss, metrics.trainAccuracy, metrics.testLoss, metrics.testAccuracy, metrics.seconds))
            if let directory = checkpointDirectory {
                let state = opt.stateDict()
                let checkpoint = Checkpoint(model: model.stateDict(), optimizerTensors: state.tensors, optimizerScalars: state.scalars,
                                            step: step, epoch: epoch,
                                            random: (RandomGenerator.global.seed, RandomGenerator.global.offset),
                                            metadata: ["dataset": .string(dataset), "optimizer": .string(optimizer),
                                                       "hidden": .string(hidden.map(String.init).joined(separator: ",")),
                                                       "history": .string(EpochMetrics.csv(history))])
                try CheckpointFile.save(checkpoint, inDirectory: directory, keepLast: 3)
            }
        }
        guard !history.isEmpty else {
            output("nothing to do: the checkpoint already covers \(epochs) epochs")
            return history
        }
        let out = outDirectory ?? "runs/\(self.model)-\(dataset)"
        try writeOutputs(history, to: out)
        output("metrics: \(out)/metrics.csv, curves: \(out)/curves.svg")
        output(String(format: "test accuracy: %.4f", history.last!.testAccuracy))
        return history
    }

    func evaluate(_ model: Module, _ data: TensorDataset) -> (loss: Double, accuracy: Double) {
        model.eval()
        defer { model.train() }
        return withoutGradients {
            var lossSum = 0.0, correct = 0
            for batch in DataLoader(data, batchSize: 1000).batches() {
                let logits = model(batch.input)
                lossSum += crossEntropy(logits: logits, targets: batch.target, reduction: .sum).item(as: Double.self)
                correct += Int((logits.argmax(axis: 1) .== batch.target).cast(to: .int64).sum().item(as: Int64.self))
            }
            return (lossSum / Double(data.count), Double(correct) / Double(data.count))
        }
    }

    func writeOutputs(_ history: [EpochMetrics], to directory: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try EpochMetrics.csv(history).write(toFile: "\(directory)/metrics.csv", atomically: true, encoding: .utf8)
            let charts = [
                LineChart(title: "loss", xLabel: "epoch", series: [
                    .init(name: "train", values: history.map(\.trainLoss), color: "#1f77b4"),
                    .init(name: "test", values: history.map(\.testLoss), color: "#d62728")]),
                LineChart(title: "accuracy", xLabel: "epoch", series: [
                    .init(name: "train", values: history.map(\.trainAccuracy), color: "#1f77b4"),
                    .init(name: "test", values: history.map(\.testAccuracy), color: "#d62728")]),
            ]
            try svgDocument(charts).write(toFile: "\(directory)/curves.svg", atomically: true, encoding: .utf8)
        } catch {
            throw TrainingError.cannotWrite(path: directory, reason: "\(error.localizedDescription)")
        }
    }
}
