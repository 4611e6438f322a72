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
    public static let usage = """
    usage: tessera train sentiment [options]

    Trains a Transformer encoder (word embeddings, learned positions, pre-norm layers, mean
    pooling) on Pang & Lee movie-review polarity: 80% of the texts train, 20% are held out.
    Writes metrics.csv and curves.svg to --out.

    options:
      --collection NAME    sentences (4,000 single sentences, default) or reviews (1,500 reviews)
      --overfit N          train on only N training texts (a memorisation check)
      --epochs N           passes over the training texts (default 10; 60 with --overfit)
      --batch-size B       texts per step (default 32)
      --lr X               AdamW learning rate (default 5e-4)
      --width W --heads H --layers L   model size (default 64, 4, 2)
      --max-length T       words kept per text (default 64)
      --dropout P          (default 0.1; 0 with --overfit)
      --seed S             initialisation, split and shuffling seed (default 0)
      --out DIR            output directory (default runs/sentiment)
      --data DIR           dataset root (default Datasets/data, or $TESSERA_DATA)
      --help               show this help
    Missing data: run Datasets/fetch sentiment first.
    """

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

    public init(arguments: [String]) throws {
        let args = try Arguments(Array(arguments.dropFirst()), valueOptions: [
            "collection", "overfit", "epochs", "batch-size", "lr", "width", "heads", "layers", "max-length", "dropout", "seed",
            "out", "data"])
        if args.flag("help") { throw HelpRequested(text: Self.usage) }
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
        dropout = try args.value("dropout", default: overfit == nil ? 0.1 : 0, where: { $0 >= 0 && $0 < 1 }, expected: "a number in [0, 1)")
        seed = try args.value("seed", default: UInt64(0))
        outDirectory = args.values["out"]
        dataRoot = args.values["data"]
    }

    public struct Result {
        public var trainAccuracy: Double
        public var heldOutAccuracy: Double
    }

    @discardableResult
    public func run(print output: (String) -> Void = { Swift.print($0) }) throws -> Result {
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
        let generator = RandomGenerator(seed: seed)
        let model = TransformerClassifier(vocabularySize: vocabulary.vocabularySize, classes: 2, width: width, heads: heads,
                                          layers: layers, feedForwardWidth: 2 * width, maxLength: maxLength, dropout: dropout,
                                          generator: generator)
        let optimizer = AdamW(parameters: model.parameters(), learningRate: learningRate, weightDecay: 0.01)
        output("training a sentiment Transformer (\(layers) layers, width \(width), \(heads) heads) on \(trainRows.count) "
               + "\(collection == .reviews ? "reviews" : "sentences"), \(heldOutRows.count) held out; vocabulary "
               + "\(vocabulary.vocabularySize) words, \(model.parameterCount) parameters")
        func batch(_ rows: ArraySlice<(ids: [Int], label: Int)>) -> (PaddedBatch, Tensor) {
            (PaddedBatch(rows.map(\.ids), paddingID: vocabulary.paddingID, maximumLength: maxLength),
             Tensor(rows.map { Int64($0.label) }))
        }
        func accuracy(_ rows: [(ids: [Int], label: Int)]) -> Double {
            _ = model.eval()
            defer { _ = model.train() }
            var correct = 0
            withoutGradients {
                for start in stride(from: 0, to: rows.count, by: 256) {
                    let (b, y) = batch(rows[start..<Swift.min(start + 256, rows.count)])
                    let predicted = model(b.tokens, mask: b.mask).argmax(axis: 1)
                    correct += Int((predicted .== y).cast(to: .int64).sum().item(as: Int64.self))
                }
            }
            return Double(correct) / Double(rows.count)
        }
        var history = TrainingHistory()
        for epoch in 1...epochs {
            let started = Date()
            let shuffled = permutation(trainRows.count, seed: seed &+ UInt64(epoch)).map { trainRows[$0] }
            var lossSum = 0.0, seen = 0
            let bar = ProgressBar(total: (shuffled.count + batchSize - 1) / batchSize, label: "epoch \(epoch)/\(epochs)",
                                  unit: "texts")
            for (k, start) in stride(from: 0, to: shuffled.count, by: batchSize).enumerated() {
                let (b, y) = batch(shuffled[start..<Swift.min(start + batchSize, shuffled.count)])
                let loss = crossEntropy(logits: model(b.tokens, mask: b.mask), targets: y)
                let value = loss.item(as: Double.self)
                guard value.isFinite else { throw TrainingError.nonFiniteLoss(step: k + 1, epoch: epoch, value: value) }
                optimizer.zeroGradients()
                loss.backward()
                _ = clipGradientNorm(model.parameters(), maxNorm: 1)
                optimizer.step()
                lossSum += value * Double(y.elementCount)
                seen += y.elementCount
                bar.update(done: k + 1, work: seen, status: String(format: "loss %.4f", lossSum / Double(seen)))
            }
            bar.finish(done: bar.total, work: seen, status: String(format: "loss %.4f", lossSum / Double(seen)))
            let trainAccuracy = accuracy(trainRows), heldOutAccuracy = accuracy(heldOutRows)
            history.epochs.append(EpochRecord(epoch: epoch, metrics: [
                "train_loss": lossSum / Double(seen), "train_accuracy": trainAccuracy,
                "validation_accuracy": heldOutAccuracy, "seconds": Date().timeIntervalSince(started)]))
            output(String(format: "epoch %d: train loss %.4f, train accuracy %.4f, held-out accuracy %.4f", epoch,
                          lossSum / Double(seen), trainAccuracy, heldOutAccuracy))
        }
        let out = outDirectory ?? "runs/sentiment"
        let last = history.epochs.last!
        var final = last.metrics
        final["seconds"] = history.values(of: "seconds").reduce(0, +)
        try Trainer.writeResults(history: history, configuration: [
            "command": "tessera train sentiment", "epochs": .number(Double(epochs)), "batch_size": .number(Double(batchSize)),
            "learning_rate": .number(learningRate), "seed": .number(Double(seed)), "layers": .number(Double(layers)),
            "width": .number(Double(width)), "heads": .number(Double(heads)),
        ], final: final, to: out)
        try writeCurvesPNG(history, to: out)
        output(String(format: "train accuracy: %.4f", last["train_accuracy"]!))
        output(String(format: "held-out accuracy: %.4f (chance 0.5)", last["validation_accuracy"]!))
        return Result(trainAccuracy: last["train_accuracy"]!, heldOutAccuracy: last["validation_accuracy"]!)
    }
}
