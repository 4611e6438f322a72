import CheckpointHDF5
import Datasets
import Foundation
import NN
import Optim
import SequenceModels
import TensorCore
import Training

/// `tessera train gpt` and `tessera train char-rnn`: character-level language models on
/// Shakespeare trained by the `Trainer` (steps of random batches for GPT; streams with carried
/// state for char-rnn), with validation loss and perplexity at every evaluation, loss curves,
/// a checkpoint that `tessera sample` reads, and a sample at the end.
public struct LanguageModelCommand {
    static let spec = CommandSpec(
        usage: "tessera train gpt|char-rnn [options]",
        summary: """
        Trains a character-level language model on the complete works of Shakespeare (90% train,
        10% validation) and prints validation loss (nats per character) and a sample. Writes
        results.json, metrics.csv, curves.svg and .png and model.h5 to --out; `tessera sample`
        continues text from model.h5.
        """,
        options: [
            OptionSpec("dataset", "NAME", "shakespeare (default)"),
            OptionSpec("slice", "N", "use only the first N characters (train and evaluate on them)"),
            OptionSpec("batch-size", "B", "sequences (gpt) or parallel streams (char-rnn) per step (default 16)"),
            OptionSpec("block-size", "T", "characters per sequence or chunk (default 128 gpt, 64 char-rnn)"),
            OptionSpec("lr", "X", "peak learning rate (default 1e-3 gpt, 2e-3 char-rnn)"),
            OptionSpec("steps", "N", "gpt: optimisation steps (default 3000)"),
            OptionSpec("epochs", "N", "char-rnn: passes over the text, carrying state between chunks (default 1)"),
            OptionSpec("time-budget", "S", "stop after S seconds of training (the last interval is evaluated)"),
            OptionSpec("eval-every", "N", "steps between validation passes (default 250; char-rnn: rounded to whole epochs)"),
            OptionSpec("layers", "L", "transformer blocks (gpt, default 6) or recurrent layers (char-rnn, default 2)"),
            OptionSpec("heads", "H", "gpt: attention heads (default 6)"),
            OptionSpec("width", "W", "gpt: embedding width (default 192)"),
            OptionSpec("dropout", "P", "gpt: dropout (default 0: the corpus is large next to the model)"),
            OptionSpec("cell", "KIND", "char-rnn: \(RecurrentCellKind.allCases.map(\.rawValue).joined(separator: ", ")) (default lstm)"),
            OptionSpec("hidden", "H", "char-rnn: state width (default 256)"),
            OptionSpec("embedding", "E", "char-rnn: embedding width (default 64)"),
            OptionSpec("seed", "S", "initialisation and batching seed (default 0)"),
            .threads,
            OptionSpec("out", "DIR", "output directory (default runs/MODEL-shakespeare)"),
            OptionSpec("checkpoint-dir", "D", "save model, optimizer, schedule and batch position at every evaluation (keeps 3)"),
            .resume,
            .data,
            .device,
        ],
        footer: "Missing data: run Datasets/fetch shakespeare first.")
    public static var usage: String { spec.help }

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
    public var checkpointDirectory: String?
    public var resume = false
    public var dataRoot: String?
    public var device = "cpu"
    public var layers = 6
    public var heads = 6
    public var width = 192
    public var dropout = 0.0
    public var cell = RecurrentCellKind.lstm
    public var hidden = 256
    public var embedding = 64
    /// The command line, recorded in results.json.
    var arguments: [String] = []

    public init(arguments: [String]) throws {
        guard let model = arguments.first, ["gpt", "char-rnn"].contains(model) else {
            if arguments.contains("--help") { throw HelpRequested(text: Self.usage) }
            throw UsageError("expected gpt or char-rnn")
        }
        self.model = model
        self.arguments = arguments
        let args = try Self.spec.parse(Array(arguments.dropFirst()))
        guard args.positional.isEmpty else { throw UsageError("unexpected argument '\(args.positional[0])'") }
        let dataset = args.values["dataset"] ?? "shakespeare"
        guard dataset == "shakespeare" else { throw UsageError("unknown dataset '\(dataset)'; expected shakespeare") }
        let isGPT = model == "gpt"
        let positive = { (v: Int) in v > 0 }
        if args.values["slice"] != nil { slice = try args.value("slice", default: 1, where: { $0 > 1 }, expected: "an integer above 1") }
        batchSize = try args.value("batch-size", default: 16, where: positive, expected: "a positive integer")
        blockSize = try args.value("block-size", default: isGPT ? 128 : 64, where: positive, expected: "a positive integer")
        learningRate = try args.value("lr", default: isGPT ? 1e-3 : 2e-3, where: { $0 > 0 && $0.isFinite },
                                      expected: "a positive number")
        steps = try args.value("steps", default: 3000, where: positive, expected: "a positive integer")
        epochs = try args.value("epochs", default: 1, where: positive, expected: "a positive integer")
        if args.values["steps"] != nil && !isGPT { throw UsageError("--steps applies to gpt; char-rnn runs --epochs") }
        if args.values["epochs"] != nil && isGPT { throw UsageError("--epochs applies to char-rnn; gpt runs --steps") }
        if args.values["time-budget"] != nil {
            timeBudget = try args.value("time-budget", default: 1.0, where: { $0 > 0 }, expected: "seconds")
        }
        evalEvery = try args.value("eval-every", default: 250, where: positive, expected: "a positive integer")
        seed = try args.value("seed", default: UInt64(0))
        threads = try CommandChecks.threads(args)
        outDirectory = args.values["out"]
        checkpointDirectory = args.values["checkpoint-dir"]
        resume = try CommandChecks.resume(args, checkpointDirectory: checkpointDirectory)
        dataRoot = args.values["data"]
        device = args.values["device"] ?? device
        _ = try DeviceOption.parse(device)
        for name in ["heads", "width", "dropout"] where args.values[name] != nil && !isGPT {
            throw UsageError("--\(name) applies to gpt")
        }
        for name in ["cell", "hidden", "embedding"] where args.values[name] != nil && isGPT {
            throw UsageError("--\(name) applies to char-rnn")
        }
        layers = try args.value("layers", default: isGPT ? 6 : 2, where: positive, expected: "a positive integer")
        heads = try args.value("heads", default: 6, where: positive, expected: "a positive integer")
        width = try args.value("width", default: 192, where: positive, expected: "a positive integer")
        guard width % heads == 0 else { throw UsageError("--width \(width) must be a multiple of --heads \(heads)") }
        dropout = try args.value("dropout", default: 0.0, where: { $0 >= 0 && $0 < 1 }, expected: "a number in [0, 1)")
        if let c = args.values["cell"] {
            guard let kind = RecurrentCellKind(rawValue: c) else { throw UsageError("invalid value '\(c)' for --cell; expected lstm, gru or rnn") }
            cell = kind
        }
        hidden = try args.value("hidden", default: 256, where: positive, expected: "a positive integer")
        embedding = try args.value("embedding", default: 64, where: positive, expected: "a positive integer")
        // Weights, gradients and two Adam moments in float32 (16 bytes a parameter); the
        // vocabulary is at most a few hundred characters.
        // Activations in float32 kept for the backward pass: per layer about 16 values a position
        // (residual stream, attention projections, the 4x MLP) and the attention scores of every head.
        let l: CommandChecks.Factor = (layers, "layers"), b: CommandChecks.Factor = (batchSize, "batch-size"),
            t: CommandChecks.Factor = (blockSize, "block-size")
        if isGPT {
            let w: CommandChecks.Factor = (width, "width")
            try CommandChecks.fitsInMemory([[l, (12, nil), w, w], [t, w], [(256, nil), w]], bytesPerElement: 16)
            try CommandChecks.fitsInMemory([[b, t, w, l, (16, nil)], [b, (heads, "heads"), t, t, l, (2, nil)]], bytesPerElement: 4,
                                           counting: .activations)
        } else {
            let h: CommandChecks.Factor = (hidden, "hidden"), e: CommandChecks.Factor = (embedding, "embedding")
            try CommandChecks.fitsInMemory([[l, (8, nil), h, (hidden + Swift.max(embedding, hidden), h.option)], [(256, nil), e]],
                                           bytesPerElement: 16)
            try CommandChecks.fitsInMemory([[b, t, h, l, (10, nil)], [b, t, e]], bytesPerElement: 4, counting: .activations)
        }
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
        try withoutActuallyEscaping(output) { output in
            if let threads { CPUThreads.count = threads }
            try CommandChecks.prepareDirectory(out, option: "out")
            if let checkpointDirectory { try CommandChecks.prepareDirectory(checkpointDirectory, option: "checkpoint-dir") }
            let (tokenizer, train, validation) = try loadText()
            let target = try DeviceOption.resolve(device)
            return model == "gpt"
                ? try trainGPT(tokenizer, train, validation, on: target, print: output)
                : try trainCharRNN(tokenizer, train, validation, on: target, print: output)
        }
    }

    /// A trainer writing to --out and --checkpoint-dir, with perplexities, logging to `output`.
    func trainer(_ network: Module, _ optimizer: Optimizer, _ schedule: LearningRateSchedule, clip: Double,
                 configuration modelConfiguration: JSONValue, print output: @escaping (String) -> Void) -> Trainer {
        let trainer = Trainer(model: network, optimizer: optimizer, schedule: schedule, configuration: TrainerConfiguration(
            gradientClipNorm: clip, outputDirectory: out, checkpointDirectory: checkpointDirectory, resume: resume,
            timeBudget: timeBudget), callbacks: [PerplexityReport()])
        trainer.log = output
        trainer.progressUnit = "tokens"
        trainer.recordedConfiguration = [
            "command": .string((["tessera", "train"] + arguments).joined(separator: " ")), "model": modelConfiguration,
            "batch_size": .number(Double(batchSize)), "block_size": .number(Double(blockSize)),
            "learning_rate": .number(learningRate), "seed": .number(Double(seed)), "device": .string(device),
            "train_characters": .number(Double(slice ?? 0)),
        ]
        return trainer
    }

    var out: String { outDirectory ?? "runs/\(model)-shakespeare" }

    /// nanoGPT's recipe: AdamW (β2 0.99, weight decay 0.1 on matrices only), linear warm-up
    /// then cosine decay to a tenth, gradient clipping at 1; random batches, evaluated on the
    /// same 20 validation batches every time.
    func trainGPT(_ tokenizer: CharacterTokenizer, _ train: [Int], _ validation: [Int], on target: Device,
                  print output: @escaping (String) -> Void) throws -> Result {
        let generator = RandomGenerator(seed: seed)
        let config = GPTConfiguration(vocabularySize: tokenizer.vocabularySize, blockSize: blockSize, layers: layers,
                                      heads: heads, width: width, dropout: dropout)
        let gpt = GPT(config, generator: generator)
        gpt.move(to: target)
        let parameters = gpt.parameters()
        let decayed = parameters.filter { $0.shape.count >= 2 }, plain = parameters.filter { $0.shape.count < 2 }
        let optimizer = AdamW(groups: [
            ParameterGroup(parameters: decayed, options: .init(learningRate: learningRate, beta2: 0.99, weightDecay: 0.1)),
            ParameterGroup(parameters: plain, options: .init(learningRate: learningRate, beta2: 0.99, weightDecay: 0)),
        ])
        // Linear warm-up to the peak over `warmup` steps ((t + 1) / warmup of it at step t), then
        // cosine decay to a tenth at the last step.
        let warmup = Swift.min(100, steps / 10)
        let schedule: ClosedFormSchedule = warmup < 2
            ? CosineAnnealingSchedule(optimizer, maxSteps: Swift.max(1, steps - warmup), minimumRate: 0.1 * learningRate)
            : SequentialSchedule(optimizer, [
                LinearSchedule(optimizer, startFactor: 1 / Double(warmup), endFactor: 1, totalSteps: warmup - 1),
                CosineAnnealingSchedule(optimizer, maxSteps: steps - warmup, minimumRate: 0.1 * learningRate),
            ], milestones: [warmup])
        let trainBatches = LanguageModelBatches(tokens: train, blockSize: blockSize, batchSize: batchSize)
        let validationBatches = LanguageModelBatches(tokens: validation, blockSize: blockSize, batchSize: batchSize)
        output("training GPT (\(layers) layers, \(heads) heads, width \(width), block \(blockSize)) on shakespeare: "
               + "\(train.count) train / \(validation.count) validation characters, vocabulary \(tokenizer.vocabularySize), "
               + "\(gpt.parameterCount) parameters, batch \(batchSize), AdamW lr \(learningRate), \(steps) steps")
        let trainer = trainer(gpt, optimizer, schedule, clip: 1, configuration: try JSONValue(encoding: config), print: output)
        defer { trainer.log = { _ in } }   // `output` does not escape `run`
        trainer.randomGenerators["batches"] = generator
        let history = try trainer.fit(steps: steps, evaluatingEvery: evalEvery, step: { _ in
            let (x, y) = trainBatches.randomBatch(generator: generator)
            return TrainingStepOutput(loss: gpt.loss(x.moved(to: target), targets: y.moved(to: target)), count: y.elementCount)
        }, evaluate: {
            // The same 20 batches every time (a fixed generator), so the numbers compare.
            let evalGenerator = RandomGenerator(seed: 12345)
            return NextTokenScore.evaluate(gpt) { score in
                for _ in 0..<20 {
                    let (x, y) = validationBatches.randomBatch(generator: evalGenerator)
                    score.add(logits: gpt(x.moved(to: target)), targets: y.moved(to: target))
                }
            }
        })
        try saveModel(gpt, kind: "gpt", config: try jsonString(config), tokenizer: tokenizer, history: history, step: trainer.step)
        let prompt = try tokenizer.encode("\n")
        let sample = try tokenizer.decode(gpt.generate(prompt: prompt, count: 300, sampling: Sampling(temperature: 0.8, topK: 40),
                                                       generator: RandomGenerator(seed: seed)))
        return finish(history, trainer: trainer, sample: sample, print: output)
    }

    /// char-rnn's recipe: parallel streams read in chunks with the state carried (truncated
    /// BPTT; the state starts afresh every epoch), Adam with cosine decay to a tenth, clipping
    /// at 5. Evaluation runs the evaluation text as one stream.
    func trainCharRNN(_ tokenizer: CharacterTokenizer, _ train: [Int], _ validation: [Int], on target: Device,
                      print output: @escaping (String) -> Void) throws -> Result {
        let configuration = CharRNNConfiguration(vocabularySize: tokenizer.vocabularySize, embeddingSize: embedding,
                                                 hiddenSize: hidden, layers: layers, cell: cell)
        let network = CharRNN(configuration, generator: RandomGenerator(seed: seed))
        network.move(to: target)
        let optimizer = Adam(parameters: network.parameters(), learningRate: learningRate)
        let batches = TruncatedBPTTBatches(tokens: train, batchSize: batchSize, steps: blockSize)
        let totalSteps = epochs * batches.count
        // A constant rate left Adam oscillating once the slice was memorised.
        let schedule = CosineAnnealingSchedule(optimizer, maxSteps: Swift.max(1, totalSteps), minimumRate: 0.1 * learningRate)
        output("training char-rnn (\(cell.rawValue), \(layers)×\(hidden), embedding \(embedding)) on shakespeare: "
               + "\(train.count) train / \(validation.count) evaluation characters, vocabulary \(tokenizer.vocabularySize), "
               + "\(network.parameterCount) parameters, \(batchSize) streams × \(blockSize) steps, Adam lr \(learningRate)")
        let trainer = trainer(network, optimizer, schedule, clip: 5, configuration: try JSONValue(encoding: configuration),
                              print: output)
        defer { trainer.log = { _ in } }
        // Evaluations fall on whole epochs, so every interval (and any resume) starts a fresh stream.
        let epochsPerEvaluation = Swift.max(1, evalEvery / Swift.max(1, batches.count))
        var state: RecurrentState? = nil
        let history = try trainer.fit(steps: totalSteps, evaluatingEvery: epochsPerEvaluation * batches.count, step: { step in
            let k = step % batches.count
            if k == 0 { state = nil }
            let (x, y) = batches.chunk(k)
            let r = network(x.moved(to: target), state: state?.detached())
            state = r.state
            let loss = crossEntropy(logits: r.logits.reshaped(to: [-1, tokenizer.vocabularySize]),
                                    targets: y.moved(to: target).reshaped(to: [-1]))
            return TrainingStepOutput(loss: loss, count: y.elementCount)
        }, evaluate: {
            let chunks = TruncatedBPTTBatches(tokens: Array(validation.prefix(50_001)), batchSize: 1, steps: 500)
            return NextTokenScore.evaluate(network) { score in
                var carried: RecurrentState? = nil
                for k in 0..<chunks.count {
                    let (x, y) = chunks.chunk(k)
                    let r = network(x.moved(to: target), state: carried)
                    carried = r.state
                    score.add(logits: r.logits, targets: y.moved(to: target))
                }
            }
        })
        try saveModel(network, kind: "char-rnn", config: try jsonString(configuration), tokenizer: tokenizer, history: history,
                      step: trainer.step)
        let sample = try tokenizer.decode(network.generate(prompt: [train[0]], count: 300, sampling: Sampling(temperature: 0.8),
                                                           generator: RandomGenerator(seed: seed)))
        return finish(history, trainer: trainer, sample: sample, print: output)
    }

    /// `model.h5` for `tessera sample`: the weights, the model's kind and configuration, the
    /// tokenizer and the history.
    func saveModel(_ network: Module, kind: String, config: String, tokenizer: CharacterTokenizer, history: TrainingHistory,
                   step: Int) throws {
        let metadata: [String: MetadataValue] = [
            "kind": .string(kind), "config": .string(config), "tokenizer": .string(try jsonString(tokenizer)),
            "history": .string(history.csv),
        ]
        do {
            try CheckpointFile.save(Checkpoint(model: network.stateDict(), step: step, metadata: metadata), to: "\(out)/model.h5")
        } catch {
            throw TrainingError.cannotWrite(path: "\(out)/model.h5", reason: "\(error)")
        }
    }

    func finish(_ history: TrainingHistory, trainer: Trainer, sample: String, print output: (String) -> Void) -> Result {
        let final = trainer.finalFigures()
        let loss = final["validation_loss"] ?? .nan, accuracy = final["validation_accuracy"] ?? .nan
        let seconds = final["seconds"] ?? 0
        output("sample:\n\(sample)\n")
        output("results: \(out)/results.json, metrics: \(out)/metrics.csv, curves: \(out)/curves.svg and .png, checkpoint: \(out)/model.h5")
        output(String(format: "validation loss: %.4f nats/char (accuracy %.4f, perplexity %.2f) after %d steps in %.0f s (%.0f tokens/s)",
                      loss, accuracy, exp(loss), trainer.step, seconds, final["tokens_per_second"] ?? 0))
        return Result(validationLoss: loss, validationAccuracy: accuracy, steps: trainer.step, seconds: seconds, sample: sample)
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

    /// `validation_loss` and `validation_accuracy` of what `score` adds, in eval mode without
    /// gradients (the model returns to train mode).
    static func evaluate(_ model: Module, _ score: (inout NextTokenScore) -> Void) -> [String: Double] {
        model.eval()
        defer { model.train() }
        var total = NextTokenScore()
        withoutGradients { score(&total) }
        return ["validation_loss": total.loss / total.count, "validation_accuracy": total.correct / total.count]
    }
}

func jsonString<T: Encodable>(_ value: T) throws -> String {
    String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
}
