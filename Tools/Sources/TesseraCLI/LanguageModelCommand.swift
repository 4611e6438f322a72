import CheckpointHDF5
import Datasets
import Foundation
import NN
import Optim
import SequenceModels
import TensorCore
import Training
import Vision

/// `tessera train gpt` and `tessera train char-rnn`: character-level language models on
/// Shakespeare, with tokens/s progress, validation loss, loss curves, a checkpoint that
/// `tessera sample` reads, and a sample at the end.
public struct LanguageModelCommand {
    public static let usage = """
    usage: tessera train gpt|char-rnn [options]

    Trains a character-level language model on the complete works of Shakespeare (90% train,
    10% validation) and prints validation loss (nats per character) and a sample. Writes
    metrics.csv, curves.svg and model.h5 to --out; `tessera sample` continues text from model.h5.

    common options:
      --dataset NAME       shakespeare (default)
      --slice N            use only the first N characters (train and evaluate on them)
      --batch-size B       sequences per step (default 16)
      --block-size T       characters per sequence (default 128 for gpt, 64 for char-rnn)
      --lr X               peak learning rate (default 1e-3 gpt, 2e-3 char-rnn)
      --steps N            optimisation steps (default 3000 gpt; char-rnn: --epochs)
      --time-budget S      stop after S seconds of training
      --eval-every N       steps between validation passes (default 250)
      --seed S             initialisation and batching seed (default 0)
      --threads N          CPU threads for kernels and OpenBLAS (default: all cores)
      --out DIR            output directory (default runs/MODEL-shakespeare)
      --data DIR           dataset root (default Datasets/data, or $TESSERA_DATA)
    gpt:
      --layers L --heads H --width W   (default 6, 6, 192)
      --dropout P          (default 0: the corpus is large next to the model)
    char-rnn:
      --cell lstm|gru|rnn  (default lstm)
      --hidden H           (default 256)   --layers L (default 2)   --embedding E (default 64)
      --epochs N           passes over the text, carrying state between chunks (default 1)
      --help               show this help
    Missing data: run Datasets/fetch shakespeare first.
    """

    public var model = "gpt"
    public var slice: Int?
    public var batchSize = 16
    public var blockSize = 128
    public var learningRate = 1e-3
    public var steps = 3000
    public var epochs = 1
    public var timeBudget: Double?
    public var evalEvery = 250
    public var seed: UInt64 = 0
    public var threads: Int?
    public var outDirectory: String?
    public var dataRoot: String?
    public var layers = 6
    public var heads = 6
    public var width = 192
    public var dropout = 0.0
    public var cell = RecurrentCellKind.lstm
    public var hidden = 256
    public var embedding = 64

    public init(arguments: [String]) throws {
        guard let model = arguments.first, ["gpt", "char-rnn"].contains(model) else {
            throw UsageError("expected gpt or char-rnn")
        }
        self.model = model
        let args = try Arguments(Array(arguments.dropFirst()), valueOptions: [
            "dataset", "slice", "batch-size", "block-size", "lr", "steps", "epochs", "time-budget", "eval-every", "seed",
            "threads", "out", "data", "layers", "heads", "width", "dropout", "cell", "hidden", "embedding"])
        if args.flag("help") { throw HelpRequested(text: Self.usage) }
        guard args.positional.isEmpty else { throw UsageError("unexpected argument '\(args.positional[0])'") }
        let dataset = args.values["dataset"] ?? "shakespeare"
        guard dataset == "shakespeare" else { throw UsageError("unknown dataset '\(dataset)'; expected shakespeare") }
        let positive = { (v: Int) in v > 0 }
        if args.values["slice"] != nil { slice = try args.value("slice", default: 1, where: { $0 > 1 }, expected: "an integer above 1") }
        batchSize = try args.value("batch-size", default: 16, where: positive, expected: "a positive integer")
        blockSize = try args.value("block-size", default: model == "gpt" ? 128 : 64, where: positive, expected: "a positive integer")
        learningRate = try args.value("lr", default: model == "gpt" ? 1e-3 : 2e-3, where: { $0 > 0 && $0.isFinite },
                                      expected: "a positive number")
        steps = try args.value("steps", default: 3000, where: positive, expected: "a positive integer")
        epochs = try args.value("epochs", default: 1, where: positive, expected: "a positive integer")
        if args.values["time-budget"] != nil {
            timeBudget = try args.value("time-budget", default: 1.0, where: { $0 > 0 }, expected: "seconds")
        }
        evalEvery = try args.value("eval-every", default: 250, where: positive, expected: "a positive integer")
        seed = try args.value("seed", default: UInt64(0))
        if args.values["threads"] != nil { threads = try args.value("threads", default: 1, where: positive, expected: "a positive integer") }
        outDirectory = args.values["out"]
        dataRoot = args.values["data"]
        layers = try args.value("layers", default: model == "gpt" ? 6 : 2, where: positive, expected: "a positive integer")
        heads = try args.value("heads", default: 6, where: positive, expected: "a positive integer")
        width = try args.value("width", default: 192, where: positive, expected: "a positive integer")
        guard width % heads == 0 else { throw UsageError("--width \(width) must be a multiple of --heads \(heads)") }
        dropout = try args.value("dropout", default: 0.0, where: { $0 >= 0 && $0 < 1 }, expected: "a number in [0, 1)")
        if let c = args.values["cell"] {
            guard let kind = RecurrentCellKind(rawValue: c) else { throw UsageError("unknown cell '\(c)'; expected lstm, gru or rnn") }
            cell = kind
        }
        hidden = try args.value("hidden", default: 256, where: positive, expected: "a positive integer")
        embedding = try args.value("embedding", default: 64, where: positive, expected: "a positive integer")
    }

    /// Final figures of a run.
    public struct Result {
        public var validationLoss: Double
        public var validationAccuracy: Double
        public var steps: Int
        public var seconds: Double
        public var sample: String
    }

    /// Loads the text and splits it: the slice is both train and evaluation text.
    func loadText() throws -> (tokenizer: CharacterTokenizer, train: [Int], validation: [Int]) {
        var text = try TextDatasets.shakespeare(root: dataRoot ?? DatasetLocation.defaultRoot())
        if let slice { text = String(text.prefix(slice)) }
        let tokenizer = CharacterTokenizer(text: text)
        let ids = try tokenizer.encode(text)
        if slice != nil { return (tokenizer, ids, ids) }
        let cut = ids.count * 9 / 10
        return (tokenizer, Array(ids[..<cut]), Array(ids[cut...]))
    }

    @discardableResult
    public func run(print output: (String) -> Void = { Swift.print($0) }) throws -> Result {
        if let threads { CPUThreads.count = threads }
        let (tokenizer, train, validation) = try loadText()
        let out = outDirectory ?? "runs/\(model)-shakespeare"
        return model == "gpt"
            ? try trainGPT(tokenizer, train, validation, out: out, print: output)
            : try trainCharRNN(tokenizer, train, validation, out: out, print: output)
    }

    /// nanoGPT's recipe: AdamW (β2 0.99, weight decay 0.1 on matrices only), linear warm-up
    /// then cosine decay to a tenth, gradient clipping at 1.
    func trainGPT(_ tokenizer: CharacterTokenizer, _ train: [Int], _ validation: [Int], out: String,
                  print output: (String) -> Void) throws -> Result {
        let generator = RandomGenerator(seed: seed)
        let config = GPTConfiguration(vocabularySize: tokenizer.vocabularySize, blockSize: blockSize, layers: layers,
                                      heads: heads, width: width, dropout: dropout)
        let gpt = GPT(config, generator: generator)
        let parameters = gpt.parameters()
        let decayed = parameters.filter { $0.shape.count >= 2 }, plain = parameters.filter { $0.shape.count < 2 }
        let optimizer = AdamW(groups: [
            ParameterGroup(parameters: decayed, options: .init(learningRate: learningRate, beta2: 0.99, weightDecay: 0.1)),
            ParameterGroup(parameters: plain, options: .init(learningRate: learningRate, beta2: 0.99, weightDecay: 0)),
        ])
        // Linear warm-up to the peak over `warmup` steps ((t + 1) / warmup of it at step t), then
        // cosine decay to a tenth at the last step.
        let warmup = Swift.min(100, steps / 10)
        let schedule: ClosedFormSchedule
        if warmup < 2 {
            schedule = CosineAnnealingSchedule(optimizer, maxSteps: Swift.max(1, steps - warmup), minimumRate: 0.1 * learningRate)
        } else {
            schedule = SequentialSchedule(optimizer, [
                LinearSchedule(optimizer, startFactor: 1 / Double(warmup), endFactor: 1, totalSteps: warmup - 1),
                CosineAnnealingSchedule(optimizer, maxSteps: steps - warmup, minimumRate: 0.1 * learningRate),
            ], milestones: [warmup])
        }
        let trainBatches = LanguageModelBatches(tokens: train, blockSize: blockSize, batchSize: batchSize)
        let validationBatches = LanguageModelBatches(tokens: validation, blockSize: blockSize, batchSize: batchSize)
        output("training GPT (\(layers) layers, \(heads) heads, width \(width), block \(blockSize)) on shakespeare: "
               + "\(train.count) train / \(validation.count) validation characters, vocabulary \(tokenizer.vocabularySize), "
               + "\(gpt.parameterCount) parameters, batch \(batchSize), AdamW lr \(learningRate), \(steps) steps")
        func evaluate() -> (loss: Double, accuracy: Double) {
            _ = gpt.eval()
            defer { _ = gpt.train() }
            // The same 20 batches every time (a fixed generator), so the numbers compare.
            let evalGenerator = RandomGenerator(seed: 12345)
            var score = NextTokenScore()
            withoutGradients {
                for _ in 0..<20 {
                    let (x, y) = validationBatches.randomBatch(generator: evalGenerator)
                    score.add(logits: gpt(x), targets: y)
                }
            }
            return score.mean
        }
        var history = LanguageModelHistory()
        let started = Date()
        var step = 0, windowLoss = 0.0, windowSteps = 0
        let bar = ProgressBar(total: steps, label: "gpt", unit: "tokens")
        var last = (loss: Double.nan, accuracy: Double.nan)
        while step < steps {
            let (x, y) = trainBatches.randomBatch(generator: generator)
            let loss = gpt.loss(x, targets: y)
            let value = loss.item(as: Double.self)
            guard value.isFinite else { throw TrainingError.nonFiniteLoss(step: step + 1, epoch: 1, value: value) }
            optimizer.zeroGradients()
            loss.backward()
            _ = clipGradientNorm(parameters, maxNorm: 1)
            optimizer.step()
            schedule.step()
            step += 1
            windowLoss += value
            windowSteps += 1
            let elapsed = Date().timeIntervalSince(started)
            let outOfTime = timeBudget.map { elapsed >= $0 } ?? false
            bar.update(done: step, work: step * batchSize * blockSize, status: String(format: "loss %.4f", value))
            if step % evalEvery == 0 || step == steps || outOfTime {
                last = evaluate()
                history.append(step: step, trainLoss: windowLoss / Double(windowSteps), validationLoss: last.loss,
                               validationAccuracy: last.accuracy, seconds: Date().timeIntervalSince(started))
                windowLoss = 0
                windowSteps = 0
                bar.finish(done: step, work: step * batchSize * blockSize, status: String(format: "loss %.4f", value))
                output(String(format: "step %d: train loss %.4f, validation loss %.4f, validation accuracy %.4f (%.0fs)",
                              step, history.trainLoss.last!, last.loss, last.accuracy, history.seconds.last!))
            }
            if outOfTime { break }
        }
        let seconds = Date().timeIntervalSince(started)
        let metadata: [String: MetadataValue] = [
            "kind": .string("gpt"), "config": .string(try jsonString(config)), "tokenizer": .string(try jsonString(tokenizer)),
            "history": .string(history.csv),
        ]
        try history.write(to: out, checkpoint: Checkpoint(model: gpt.stateDict(), step: step, metadata: metadata),
                          configuration: ["command": "tessera train gpt", "model": try JSONValue(encoding: config),
                                          "batch_size": .number(Double(batchSize)), "learning_rate": .number(learningRate),
                                          "steps": .number(Double(steps)), "seed": .number(Double(seed))],
                          tokensPerSecond: Double(step * batchSize * blockSize) / Date().timeIntervalSince(started))
        let prompt = try tokenizer.encode("\n")
        let sample = try tokenizer.decode(gpt.generate(prompt: prompt, count: 300, sampling: Sampling(temperature: 0.8, topK: 40),
                                                       generator: RandomGenerator(seed: seed)))
        output("sample:\n\(sample)\n")
        output("results: \(out)/results.json, metrics: \(out)/metrics.csv, curves: \(out)/curves.svg, checkpoint: \(out)/model.h5")
        output(String(format: "validation loss: %.4f nats/char after %d steps in %.0f s (%.0f tokens/s)", last.loss, step, seconds,
                      Double(step * batchSize * blockSize) / seconds))
        return Result(validationLoss: last.loss, validationAccuracy: last.accuracy, steps: step, seconds: seconds, sample: sample)
    }

    /// char-rnn's recipe: parallel streams read in chunks with the state carried (truncated
    /// BPTT), Adam with cosine decay, clipping at 5. Evaluation runs the whole evaluation text as one stream.
    func trainCharRNN(_ tokenizer: CharacterTokenizer, _ train: [Int], _ validation: [Int], out: String,
                      print output: (String) -> Void) throws -> Result {
        let generator = RandomGenerator(seed: seed)
        let network = CharRNN(vocabularySize: tokenizer.vocabularySize, embeddingSize: embedding, hiddenSize: hidden,
                              layers: layers, cell: cell, generator: generator)
        let optimizer = Adam(parameters: network.parameters(), learningRate: learningRate)
        let batches = TruncatedBPTTBatches(tokens: train, batchSize: batchSize, steps: blockSize)
        output("training char-rnn (\(cell.rawValue), \(layers)×\(hidden), embedding \(embedding)) on shakespeare: "
               + "\(train.count) train / \(validation.count) evaluation characters, vocabulary \(tokenizer.vocabularySize), "
               + "\(network.parameterCount) parameters, \(batchSize) streams × \(blockSize) steps, Adam lr \(learningRate)")
        func evaluate() -> (loss: Double, accuracy: Double) {
            _ = network.eval()
            defer { _ = network.train() }
            let stream = Array(validation.prefix(50_001))
            let chunks = TruncatedBPTTBatches(tokens: stream, batchSize: 1, steps: 500)
            var state: RecurrentState? = nil, score = NextTokenScore()
            withoutGradients {
                for k in 0..<chunks.count {
                    let (x, y) = chunks.chunk(k)
                    let r = network(x, state: state)
                    state = r.state
                    score.add(logits: r.logits, targets: y)
                }
            }
            return score.mean
        }
        var history = LanguageModelHistory()
        let started = Date()
        var step = 0, last = (loss: Double.nan, accuracy: Double.nan)
        var stopped = false
        // Cosine decay to a tenth over the run: a constant rate left Adam oscillating once the
        // slice was memorised.
        let schedule = CosineAnnealingSchedule(optimizer, maxSteps: Swift.max(1, epochs * batches.count),
                                               minimumRate: 0.1 * learningRate)
        for epoch in 1...epochs where !stopped {
            let bar = ProgressBar(total: batches.count, label: "epoch \(epoch)/\(epochs)", unit: "tokens")
            var state: RecurrentState? = nil, epochLoss = 0.0, tokens = 0
            for k in 0..<batches.count {
                let (x, y) = batches.chunk(k)
                let r = network(x, state: state?.detached())
                state = r.state
                let loss = crossEntropy(logits: r.logits.reshaped(to: [-1, tokenizer.vocabularySize]), targets: y.reshaped(to: [-1]))
                let value = loss.item(as: Double.self)
                guard value.isFinite else { throw TrainingError.nonFiniteLoss(step: step + 1, epoch: epoch, value: value) }
                optimizer.zeroGradients()
                loss.backward()
                _ = clipGradientNorm(network.parameters(), maxNorm: 5)
                optimizer.step()
                schedule.step()
                step += 1
                epochLoss += value * Double(y.elementCount)
                tokens += y.elementCount
                bar.update(done: k + 1, work: tokens, status: String(format: "loss %.4f", epochLoss / Double(tokens)))
                if let budget = timeBudget, Date().timeIntervalSince(started) >= budget { stopped = true; break }
            }
            bar.finish(done: batches.count, work: tokens, status: String(format: "loss %.4f", epochLoss / Double(tokens)))
            if epoch % Swift.max(1, evalEvery / Swift.max(1, batches.count)) == 0 || epoch == epochs || stopped {
                last = evaluate()
                history.append(step: step, trainLoss: epochLoss / Double(tokens), validationLoss: last.loss,
                               validationAccuracy: last.accuracy, seconds: Date().timeIntervalSince(started))
                output(String(format: "epoch %d (step %d): train loss %.4f, evaluation loss %.4f, evaluation accuracy %.4f (%.0fs)",
                              epoch, step, epochLoss / Double(tokens), last.loss, last.accuracy, history.seconds.last!))
            }
        }
        let seconds = Date().timeIntervalSince(started)
        let metadata: [String: MetadataValue] = [
            "kind": .string("char-rnn"), "cell": .string(cell.rawValue), "hidden": .number(Double(hidden)),
            "layers": .number(Double(layers)), "embedding": .number(Double(embedding)),
            "tokenizer": .string(try jsonString(tokenizer)), "history": .string(history.csv),
        ]
        try history.write(to: out, checkpoint: Checkpoint(model: network.stateDict(), step: step, metadata: metadata),
                          configuration: ["command": "tessera train char-rnn", "cell": .string(cell.rawValue),
                                          "hidden": .number(Double(hidden)), "layers": .number(Double(layers)),
                                          "embedding": .number(Double(embedding)), "batch_size": .number(Double(batchSize)),
                                          "block_size": .number(Double(blockSize)), "learning_rate": .number(learningRate),
                                          "epochs": .number(Double(epochs)), "seed": .number(Double(seed))],
                          tokensPerSecond: Double(step * batchSize * blockSize) / Date().timeIntervalSince(started))
        let sample = try tokenizer.decode(network.generate(prompt: [train[0]], count: 300,
                                                           sampling: Sampling(temperature: 0.8), generator: RandomGenerator(seed: seed)))
        output("sample:\n\(sample)\n")
        output("results: \(out)/results.json, metrics: \(out)/metrics.csv, curves: \(out)/curves.svg, checkpoint: \(out)/model.h5")
        output(String(format: "evaluation accuracy: %.4f (loss %.4f nats/char) after %d steps in %.0f s", last.accuracy, last.loss,
                      step, seconds))
        return Result(validationLoss: last.loss, validationAccuracy: last.accuracy, steps: step, seconds: seconds, sample: sample)
    }
}

/// Summed next-token cross-entropy and hits over evaluation batches.
struct NextTokenScore {
    var loss = 0.0, correct = 0.0, count = 0.0

    /// `logits [B, T, V]` against `targets [B, T]`.
    mutating func add(logits: Tensor, targets: Tensor) {
        let flat = logits.reshaped(to: [-1, logits.shape[logits.rank - 1]]), t = targets.reshaped(to: [-1])
        loss += crossEntropy(logits: flat, targets: t, reduction: .sum).item(as: Double.self)
        correct += (flat.argmax(axis: 1) .== t).cast(to: .float64).sum().item(as: Double.self)
        count += Double(t.elementCount)
    }

    var mean: (loss: Double, accuracy: Double) { (loss / count, correct / count) }
}

func jsonString<T: Encodable>(_ value: T) throws -> String {
    String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
}

/// Loss at each evaluation, written as results.json, CSV and an SVG chart (through Training's
/// writer), and with the model as a checkpoint.
struct LanguageModelHistory {
    var history = TrainingHistory()
    var trainLoss: [Double] { history.values(of: "train_loss") }
    var seconds: [Double] { history.values(of: "seconds") }
    var csv: String { history.csv }

    mutating func append(step: Int, trainLoss t: Double, validationLoss v: Double, validationAccuracy a: Double, seconds s: Double) {
        history.epochs.append(EpochRecord(epoch: history.epochs.count + 1, metrics: [
            "step": Double(step), "train_loss": t, "validation_loss": v, "validation_accuracy": a, "seconds": s]))
    }

    /// `final` holds the last evaluation's figures, its perplexity, the run's time and rate.
    func write(to directory: String, checkpoint: Checkpoint, configuration: [String: JSONValue], tokensPerSecond: Double) throws {
        var final = history.epochs.last?.metrics ?? [:]
        if let loss = final["validation_loss"] { final["perplexity"] = Metrics.perplexity(meanLoss: loss) }
        final["tokens_per_second"] = tokensPerSecond
        try Trainer.writeResults(history: history, configuration: configuration, final: final, to: directory)
        try writeCurvesPNG(history, to: directory, xLabel: "evaluation")
        try CheckpointFile.save(checkpoint, to: "\(directory)/model.h5")
    }
}
