import CheckpointHDF5
import Datasets
import Foundation
import NN
import Optim
import SequenceModels
import TensorCore
import Training

/// `tessera train sentiment`: a small Transformer encoder classifies Pang & Lee movie-review
/// sentences as positive or negative; or, with `--overfit N`, memorises N of them.
public struct SentimentCommand {
    static let spec = CommandSpec(
        usage: "tessera train sentiment [options]",
        summary: """
        Trains a Transformer encoder (word embeddings, learned positions, pre-norm layers, mean
        pooling) on Pang & Lee movie-review polarity through the Trainer: 80% of the texts train,
        20% are held out. Writes results.json, metrics.csv and curves.svg and .png to --out.
        """,
        options: [
            OptionSpec("collection", "NAME", "sentences (4,000 single sentences, default) or reviews (1,500 reviews)"),
            OptionSpec("overfit", "N", "train on only N training texts (a memorisation check)"),
            OptionSpec("epochs", "N", "passes over the training texts (default 10; 60 with --overfit)"),
            OptionSpec("batch-size", "B", "texts per step (default 32)"),
            OptionSpec("lr", "X", "AdamW learning rate (default 5e-4)"),
            OptionSpec("width", "W", "model width (default 64)"),
            OptionSpec("heads", "H", "attention heads (default 4)"),
            OptionSpec("layers", "L", "encoder layers (default 2)"),
            OptionSpec("max-length", "T", "words kept per text (default 64)"),
            OptionSpec("dropout", "P", "dropout (default 0.1; 0 with --overfit)"),
            OptionSpec("seed", "S", "initialisation and shuffling seed (default 0; the split is fixed)"),
            .threads,
            OptionSpec("out", "DIR", "output directory (default runs/sentiment)"),
            OptionSpec("checkpoint-dir", "D", "save model, optimizer and position every epoch (keeps 3)"),
            .resume,
            .data,
            .device,
        ],
        footer: "Missing data: run Datasets/fetch sentiment first.")
    public static var usage: String { spec.help }

    public var collection = TextDatasets.SentimentCollection.sentences
    public var overfit: Int?
    public var epochs = 10
    public var batchSize = 32
    public var learningRate = 5e-4
    public var width = 64, heads = 4, layers = 2
    public var maxLength = 64
    public var dropout = 0.1
    public var seed: UInt64 = 0
    public var outDirectory: String?
    public var dataRoot: String?
    public var threads: Int?
    public var checkpointDirectory: String?
    public var resume = false
    public var device = "cpu"
    /// The command line, recorded in results.json.
    var arguments: [String] = []

    public init(arguments: [String]) throws {
        self.arguments = arguments
        let args = try Self.spec.parse(Array(arguments.dropFirst()))
        guard args.positional.isEmpty else { throw UsageError("unexpected argument '\(args.positional[0])'") }
        if let c = args.values["collection"] {
            guard let value = c == "reviews" ? TextDatasets.SentimentCollection.reviews : c == "sentences" ? .sentences : nil else {
                throw UsageError("unknown collection '\(c)'; expected sentences or reviews")
            }
            collection = value
        }
        let positive = { (v: Int) in v > 0 }
        if args.values["overfit"] != nil { overfit = try args.value("overfit", default: 40, where: positive, expected: "a positive integer") }
        epochs = try args.value("epochs", default: overfit == nil ? 10 : 60, where: positive, expected: "a positive integer")
        batchSize = try args.value("batch-size", default: 32, where: positive, expected: "a positive integer")
        learningRate = try args.value("lr", default: 5e-4, where: { $0 > 0 && $0.isFinite }, expected: "a positive number")
        width = try args.value("width", default: 64, where: positive, expected: "a positive integer")
        heads = try args.value("heads", default: 4, where: positive, expected: "a positive integer")
        guard width % heads == 0 else { throw UsageError("--width \(width) must be a multiple of --heads \(heads)") }
        layers = try args.value("layers", default: 2, where: positive, expected: "a positive integer")
        maxLength = try args.value("max-length", default: 64, where: positive, expected: "a positive integer")
        let w: CommandChecks.Factor = (width, "width")
        try CommandChecks.fitsInMemory([[(layers, "layers"), (8, nil), w, w], [(20_000, nil), w], [(maxLength, "max-length"), w]],
                                       bytesPerElement: 16)
        dropout = try args.value("dropout", default: overfit == nil ? 0.1 : 0, where: { $0 >= 0 && $0 < 1 }, expected: "a number in [0, 1)")
        seed = try args.value("seed", default: UInt64(0))
        outDirectory = args.values["out"]
        dataRoot = args.values["data"]
        threads = try CommandChecks.threads(args)
        checkpointDirectory = args.values["checkpoint-dir"]
        resume = try CommandChecks.resume(args, checkpointDirectory: checkpointDirectory)
        device = args.values["device"] ?? device
        _ = try DeviceOption.parse(device)
    }

    public struct Result {
        public var trainAccuracy: Double
        public var heldOutAccuracy: Double
    }

    @discardableResult
    public func run(print output: (String) -> Void = { Swift.print($0) }) throws -> Result {
        try withoutActuallyEscaping(output) { try train(print: $0) }
    }

    private func train(print output: @escaping (String) -> Void) throws -> Result {
        if let threads { CPUThreads.count = threads }
        try CommandChecks.prepareDirectory(outDirectory ?? "runs/sentiment", option: "out")
        if let checkpointDirectory { try CommandChecks.prepareDirectory(checkpointDirectory, option: "checkpoint-dir") }
        let all = try TextDatasets.sentiment(collection, root: dataRoot ?? DatasetLocation.defaultRoot())
            .filter { !$0.text.isEmpty }
        let order = permutation(all.count, seed: 7)   // a fixed split, whatever --seed is
        let cut = all.count * 4 / 5
        var train = order[..<cut].map { all[$0] }
        let heldOut = order[cut...].map { all[$0] }
        if let overfit { train = Array(train.prefix(overfit)) }
        let vocabulary = WordVocabulary(texts: train.map(\.text), minimumCount: overfit == nil ? 2 : 1, maximumSize: 20_000)
        func encode(_ rows: [TextDatasets.LabelledText]) -> [(ids: [Int], label: Int)] {
            rows.map { r in
                let ids = vocabulary.encode(r.text)
                return (ids.isEmpty ? [vocabulary.unknownID] : ids, r.label)
            }
        }
        let trainRows = encode(train), heldOutRows = encode(heldOut)
        let target = try DeviceOption.resolve(device)
        let model = TransformerClassifier(vocabularySize: vocabulary.vocabularySize, classes: 2, width: width, heads: heads,
                                          layers: layers, feedForwardWidth: 2 * width, maxLength: maxLength, dropout: dropout,
                                          generator: RandomGenerator(seed: seed))
        model.move(to: target)
        let optimizer = AdamW(parameters: model.parameters(), learningRate: learningRate, weightDecay: 0.01)
        output("training a sentiment Transformer (\(layers) layers, width \(width), \(heads) heads) on \(trainRows.count) "
               + "\(collection == .reviews ? "reviews" : "sentences"), \(heldOutRows.count) held out; vocabulary "
               + "\(vocabulary.vocabularySize) words, \(model.parameterCount) parameters")
        /// Token ids, padding mask and labels of `rows`, on the model's device.
        func batch(_ rows: ArraySlice<(ids: [Int], label: Int)>) -> (tokens: Tensor, mask: Tensor, labels: Tensor) {
            let padded = PaddedBatch(rows.map(\.ids), paddingID: vocabulary.paddingID, maximumLength: maxLength)
            return (padded.tokens.moved(to: target), padded.mask.moved(to: target), Tensor(rows.map { Int64($0.label) }).moved(to: target))
        }
        /// Loss and accuracy in eval mode (the trainer returns the model to train mode).
        func score(_ rows: [(ids: [Int], label: Int)]) -> (loss: Double, accuracy: Double) {
            model.eval()
            var correct = 0, lossSum = 0.0
            withoutGradients {
                for start in stride(from: 0, to: rows.count, by: 256) {
                    let (tokens, mask, labels) = batch(rows[start..<Swift.min(start + 256, rows.count)])
                    let logits = model(tokens, mask: mask)
                    lossSum += crossEntropy(logits: logits, targets: labels, reduction: .sum).item(as: Double.self)
                    correct += Trainer.correctCount(logits, labels) ?? 0
                }
            }
            return (lossSum / Double(rows.count), Double(correct) / Double(rows.count))
        }
        let out = outDirectory ?? "runs/sentiment"
        let trainer = Trainer(model: model, optimizer: optimizer, configuration: TrainerConfiguration(
            epochs: epochs, gradientClipNorm: 1, outputDirectory: out, checkpointDirectory: checkpointDirectory, resume: resume))
        trainer.log = output
        defer { trainer.log = { _ in } }   // `output` does not escape `run`
        trainer.progressUnit = "texts"
        trainer.recordedConfiguration = [
            "command": .string((["tessera", "train"] + arguments).joined(separator: " ")),
            "collection": .string(collection == .reviews ? "reviews" : "sentences"), "epochs": .number(Double(epochs)),
            "batch_size": .number(Double(batchSize)), "learning_rate": .number(learningRate), "seed": .number(Double(seed)),
            "layers": .number(Double(layers)), "width": .number(Double(width)), "heads": .number(Double(heads)),
            "max_length": .number(Double(maxLength)), "dropout": .number(dropout), "device": .string(device),
            "train_texts": .number(Double(trainRows.count)), "validation_texts": .number(Double(heldOutRows.count)),
        ]
        let history = try trainer.fit(batchesPerEpoch: (trainRows.count + batchSize - 1) / batchSize, batches: { epoch in
            let shuffled = permutation(trainRows.count, seed: seed &+ UInt64(epoch)).map { trainRows[$0] }
            return stride(from: 0, to: shuffled.count, by: batchSize).lazy.map { shuffled[$0..<Swift.min($0 + batchSize, shuffled.count)] }
        }, step: { rows in
            let (tokens, mask, labels) = batch(rows)
            return TrainingStepOutput(loss: crossEntropy(logits: model(tokens, mask: mask), targets: labels), count: rows.count)
        }, evaluate: {
            // Train accuracy as it stands after the epoch (eval mode), not the running figure.
            let trained = score(trainRows), held = score(heldOutRows)
            return ["train_accuracy": trained.accuracy, "validation_loss": held.loss, "validation_accuracy": held.accuracy]
        })
        guard let last = history.epochs.last else { throw UsageError("nothing to do: the checkpoint already covers \(epochs) epochs") }
        output(String(format: "train accuracy: %.4f", last["train_accuracy"]!))
        output(String(format: "held-out accuracy: %.4f (chance 0.5)", last["validation_accuracy"]!))
        return Result(trainAccuracy: last["train_accuracy"]!, heldOutAccuracy: last["validation_accuracy"]!)
    }
}
