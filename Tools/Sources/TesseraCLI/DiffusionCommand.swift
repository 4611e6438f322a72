import CheckpointHDF5
import Datasets
import Foundation
import Generative
import NN
import TensorCore
import Training
import Vision

/// `tessera train ddpm`: a denoising diffusion model on MNIST or Fashion-MNIST through the
/// Generative package's `DiffusionTraining`.
public struct DiffusionCommand {
    static let spec = CommandSpec(
        usage: "tessera train ddpm [options]",
        summary: """
        Trains a denoising diffusion model (a U-Net with timestep embedding, residual blocks and
        self-attention at 7×7; cosine schedule, 1000 steps, ε-prediction) with Adam, keeping a
        moving average of the weights for sampling. With --conditional the class conditions the
        U-Net and is dropped 10% of the time, for classifier-free guidance. After every epoch
        samples-epoch-NNN.png (DDIM from fixed noise, a column per class); at the end a LeNet-5
        trained on the real images labels --samples DDIM samples (conditioned_class_accuracy,
        classifier_confident_fraction). Writes results.json, metrics.csv, curves and model.h5 to --out.
        """,
        options: [
            OptionSpec("dataset", "NAME", "mnist (default) or fashion-mnist"),
            OptionSpec("conditional", nil, "condition on the class (classifier-free guidance)"),
            OptionSpec("prediction", "KIND", "epsilon (default), x0 or v"),
            OptionSpec("schedule", "KIND", "cosine (default) or linear"),
            OptionSpec("timesteps", "T", "steps of the noising process (default 1000)"),
            OptionSpec("channels", "C", "the U-Net's first width (default 16: 280,881 parameters for the conditional model)"),
            OptionSpec("multipliers", "LIST", "widths of the levels as multiples of --channels (default 1,2,2)"),
            OptionSpec("attention-levels", "LIST", "levels with self-attention, 0 = full size (default: the last)"),
            OptionSpec("blocks", "N", "residual blocks per level (default 1)"),
            OptionSpec("condition-dropout", "P", "probability the class is dropped in training (default 0.1)"),
            OptionSpec("ema", "D", "decay of the weights' moving average (default 0.999)"),
            OptionSpec("epochs", "N", "passes over the 60,000 training images (default 3)"),
            OptionSpec("batch-size", "B", "images per step (default 64)"),
            OptionSpec("lr", "X", "Adam learning rate (default 1e-3)"),
            OptionSpec("time-budget", "S", "stop training after S seconds, then measure (default: none)"),
            OptionSpec("sampling-steps", "S", "DDIM steps of the samples drawn (default 25)"),
            OptionSpec("guidance", "W", "classifier-free guidance weight of those samples (default 2; 1: none)"),
            OptionSpec("samples", "N", "samples the classifier labels at the end (default 1000)"),
            OptionSpec("classifier", "FILE", "a LeNet-5 checkpoint (tessera train lenet) to label samples; default: train one for 3 epochs"),
        ] + OptionSpec.runOptions(out: "runs/ddpm-DATASET"),
        footer: "Missing data: run Datasets/fetch mnist (or fashion-mnist) first.")
    public static var usage: String { spec.help }

    public var dataset = "mnist"
    public var configuration = DiffusionConfiguration(classCount: nil, conditionDropout: 0)
    public var epochs = 3
    public var batchSize = 64
    public var learningRate = 1e-3
    public var timeBudget: Double?
    public var samplingSteps = 25
    public var guidance = 2.0
    public var samples = 1000
    var judge: SampleJudge
    public var options: RunOptions
    /// The command line, recorded in results.json.
    var arguments: [String] = []

    /// `--NAME a,b,c` as positive integers (at most `count` of them).
    static func integers(_ args: Arguments, _ name: String, default fallback: [Int], allowZero: Bool = false) throws -> [Int] {
        guard let text = args.values[name] else { return fallback }
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0) }
        guard !parts.isEmpty, parts.allSatisfy({ $0 != nil && ($0! > 0 || (allowZero && $0! == 0)) }), parts.count <= 6 else {
            throw UsageError("invalid value '\(text)' for --\(name); expected up to 6 comma-separated \(allowZero ? "non-negative" : "positive") integers")
        }
        return parts.map { $0! }
    }

    public init(arguments: [String]) throws {
        self.arguments = arguments
        let args = try Self.spec.parse(arguments)
        // Stored first: the checks below use closures, which need an initialised self.
        judge = try SampleJudge(args)
        options = try RunOptions(args)
        guard args.positional.first == "ddpm" else { throw UsageError("expected a model: tessera train ddpm [options]") }
        guard args.positional.count == 1 else { throw UsageError("unexpected argument '\(args.positional[1])'") }
        dataset = args.values["dataset"] ?? dataset
        guard ["mnist", "fashion-mnist"].contains(dataset) else {
            throw UsageError("invalid value '\(dataset)' for --dataset; expected mnist or fashion-mnist")
        }
        let conditional = args.flag("conditional")
        configuration.classCount = conditional ? 10 : nil
        if let text = args.values["prediction"] {
            guard let p = DiffusionConfiguration.Prediction(rawValue: text) else {
                throw UsageError("invalid value '\(text)' for --prediction; expected epsilon, x0 or v")
            }
            configuration.prediction = p
        }
        if let text = args.values["schedule"] {
            guard let s = NoiseSchedule.Kind(rawValue: text) else { throw UsageError("invalid value '\(text)' for --schedule; expected cosine or linear") }
            configuration.schedule = s
        }
        configuration.timesteps = try args.value("timesteps", default: 1000, where: { $0 >= 2 && $0 <= 100_000 }, expected: "an integer in 2...100000")
        // 16 channels: an epoch takes about 16 minutes at one thread, and after 3 the samples
        // are 99 % the conditioned class; 32 has about four times the weights and multiply-adds.
        configuration.baseChannels = try args.value("channels", default: 16, where: { $0 > 0 && $0 % 4 == 0 && $0 <= 4096 },
                                                    expected: "a positive multiple of 4 up to 4096")
        configuration.channelMultipliers = try Self.integers(args, "multipliers", default: [1, 2, 2])
        let factor = 1 << (configuration.channelMultipliers.count - 1)
        guard 28 % factor == 0 else {
            throw UsageError("--multipliers: \(configuration.channelMultipliers.count) levels halve 28×28 images \(configuration.channelMultipliers.count - 1) times; use at most 3")
        }
        configuration.attentionLevels = try Self.integers(args, "attention-levels", default: [configuration.channelMultipliers.count - 1],
                                                          allowZero: true)
        guard configuration.attentionLevels.allSatisfy({ $0 < configuration.channelMultipliers.count }) else {
            throw UsageError("--attention-levels \(configuration.attentionLevels): levels are 0..<\(configuration.channelMultipliers.count)")
        }
        configuration.blocksPerLevel = try args.value("blocks", default: 1, where: { $0 > 0 && $0 <= 8 }, expected: "an integer in 1...8")
        configuration.conditionDropout = try args.value("condition-dropout", default: conditional ? 0.1 : 0, where: { (0...1).contains($0) },
                                                        expected: "a probability in [0, 1]")
        if configuration.conditionDropout > 0 && !conditional { throw UsageError("--condition-dropout needs --conditional") }
        configuration.emaDecay = try args.value("ema", default: 0.999, where: { $0 >= 0 && $0 < 1 }, expected: "a number in [0, 1)")
        let widest = configuration.channelMultipliers.max()! * configuration.baseChannels
        let c: CommandChecks.Factor = (widest, "channels")
        try CommandChecks.fitsInMemory([[c, c, (9 * 8 * configuration.channelMultipliers.count * configuration.blocksPerLevel, nil)]],
                                       bytesPerElement: 16)
        epochs = try args.value("epochs", default: 3, where: { $0 > 0 }, expected: "a positive integer")
        batchSize = try args.value("batch-size", default: 64, where: { $0 > 0 && $0 <= 60_000 }, expected: "an integer in 1...60000")
        try CommandChecks.fitsInMemory([[(batchSize, "batch-size"), c, (28 * 28 * 12, nil)]], bytesPerElement: 4, counting: .activations)
        learningRate = try args.value("lr", default: 1e-3, where: { $0 > 0 && $0.isFinite }, expected: "a positive number")
        if args.values["time-budget"] != nil {
            timeBudget = try args.value("time-budget", default: 1.0, where: { $0 > 0 && $0.isFinite }, expected: "a positive number of seconds")
        }
        samplingSteps = try args.value("sampling-steps", default: 25, where: { $0 >= 1 && $0 <= configuration.timesteps },
                                       expected: "an integer in 1...\(configuration.timesteps) (--timesteps)")
        guidance = try args.value("guidance", default: conditional ? 2.0 : 1.0, where: { $0 >= 0 && $0 <= 100 }, expected: "a number in 0...100")
        if guidance != 1 && !conditional { throw UsageError("--guidance \(guidance) needs --conditional (guidance steers towards a class)") }
        if guidance != 1 && configuration.conditionDropout == 0 {
            throw UsageError("--guidance \(guidance) needs --condition-dropout > 0 (an unconditional model to guide away from)")
        }
        samples = try args.value("samples", default: 1000, where: { $0 > 0 && $0 <= 100_000 }, expected: "an integer in 1...100000")
    }

    /// Trains and returns the history (the final figures are in results.json).
    @discardableResult
    public func run(print output: (String) -> Void = { Swift.print($0) }) throws -> TrainingHistory {
        try withoutActuallyEscaping(output) { output in
            let out = try options.prepare(defaultOut: "runs/ddpm-\(dataset)")
            let seed = options.seed
            let train = try ImageDatasets.mnistLike(dataset, split: .train, root: options.root)
            let test = try ImageDatasets.mnistLike(dataset, split: .test, root: options.root)
            let verdict = try judge.judge(dataset: dataset, train: train, test: test, seed: seed, output: output)
            let model = Diffusion(configuration, generator: RandomGenerator(seed: seed))
            output("training a \(configuration.classCount == nil ? "" : "class-conditional ")diffusion model (\(model.network.parameterCount) "
                   + "parameters, \(configuration.schedule.rawValue) schedule, \(configuration.timesteps) steps) on \(dataset): "
                   + "\(train.count) images, \(epochs) epochs")
            var run = DiffusionTraining(model: model, outputDirectory: out)
            run.epochs = epochs
            run.batchSize = batchSize
            run.learningRate = learningRate
            run.seed = seed
            run.samplingSteps = samplingSteps
            run.guidance = guidance
            run.evaluationSamples = samples
            run.sampleClassifier = verdict.classifier
            run.timeBudget = timeBudget
            run.checkpointDirectory = options.checkpointDirectory
            run.resume = options.resume
            run.log = output
            run.modelMetadata = ["dataset": dataset]
            return try run.run(train: train, recorded: [
                "command": .string((["tessera", "train"] + arguments).joined(separator: " ")), "dataset": .string(dataset),
                "classifier": .string(verdict.description), "classifier_test_accuracy": .number(verdict.accuracy),
            ])
        }
    }
}
