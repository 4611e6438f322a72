import CheckpointHDF5
import Datasets
import Foundation
import Generative
import NN
import TensorCore
import Training
import Vision

/// `tessera train gan|dcgan|wgan-gp`: adversarial networks on images (MNIST, Fashion-MNIST) or
/// 2-D toys through the Generative package's `GANTraining`.
public struct GANCommand {
    static let spec = CommandSpec(
        usage: "tessera train gan|dcgan|wgan-gp [options]",
        summary: """
        Trains a generative adversarial network, alternating discriminator and generator updates
        (each with its own Adam). gan: MLPs with the non-saturating loss; dcgan: convolutional
        networks (Radford et al.) with Mescheder et al.'s R1 penalty on the real images; wgan-gp: a critic with the gradient penalty
        (λ 10, 0.1 on the toys; 5 critic updates per generator update; Adam β 0.5, 0.9; both
        learning rates decaying linearly to 0). After every epoch the
        losses, mean scores and samples-epoch-NNN.png from fixed noise (a grid, or a scatter plot
        over the data for the 2-D toys, with mmd, mode_coverage and within_3_sigma). At the end on
        images a LeNet-5 trained on the real ones labels --samples generated images
        (classifier_confident_fraction, class_fraction_K). Writes results.json, metrics.csv,
        curves and model.h5 to --out.
        """,
        options: [
            OptionSpec("dataset", "NAME", "mnist (dcgan's default), fashion-mnist, or a 2-D toy: 8gaussians (gan's and wgan-gp's default), moons, swiss-roll, checkerboard, circles"),
            OptionSpec("conditional", nil, "condition both networks on the class (images)"),
            OptionSpec("loss", "KIND", "non-saturating, hinge or wasserstein (default: the model's)"),
            OptionSpec("spectral-norm", nil, "spectrally normalise every discriminator layer (no batch norm)"),
            OptionSpec("penalty", "L", "gradient-penalty weight λ (wgan-gp 10 on images, 0.1 on the toys as in Gulrajani et al.'s toy code; otherwise 0)"),
            OptionSpec("r1", "G", "weight γ of the R1 penalty on real samples (Mescheder et al.; dcgan 10, which drops the discriminator's batch norm; otherwise 0)"),
            OptionSpec("critic-steps", "K", "discriminator updates per generator update (wgan-gp 5, otherwise 1)"),
            OptionSpec("latent", "L", "noise dimensions (images 64, toys 8)"),
            OptionSpec("width", "W", "MLP width or DCGAN base channels (toys 256, dcgan 32, gan on images 512)"),
            OptionSpec("d-width", "W", "the discriminator's width or base channels (default: --width)"),
            OptionSpec("epochs", "N", "passes over the training data (dcgan 10, toys 40, wgan-gp on toys 80: 16,400 generator updates)"),
            OptionSpec("train-size", "N", "points drawn for a toy's training set (default 32768; wgan-gp 262144, five critic batches per generator update)"),
            OptionSpec("batch-size", "B", "real samples per discriminator update (images 64, toys 256)"),
            OptionSpec("lr", "X", "generator Adam learning rate (default 2e-4; wgan-gp on images 1e-4)"),
            OptionSpec("d-lr", "X", "discriminator Adam learning rate (default: --lr)"),
            OptionSpec("schedule", "NAME", "both learning rates' schedule over the generator updates: \(ScheduleChoice.choices) (wgan-gp linear to 0, otherwise constant)"),
            OptionSpec("average", "DECAY", "decay of the generator weights' moving average that samples come from; 0 for none (default 0)"),
            OptionSpec("samples", "N", "generated samples the final figures are measured on (default 1000; toys 2000)"),
            OptionSpec("classifier", "FILE", "a LeNet-5 checkpoint (tessera train lenet) to label generated images; default: train one for 3 epochs"),
        ] + OptionSpec.runOptions(out: "runs/MODEL-DATASET"),
        footer: "Missing data: run Datasets/fetch mnist (or fashion-mnist) first; the toys need nothing.")
    public static var usage: String { spec.help }

    public var model = "dcgan"
    public var dataset = "mnist"
    public var configuration = GANConfiguration()
    public var toy: ToyDistribution?
    public var epochs = 10
    public var trainSize = 32768
    public var batchSize = 64
    public var criticSteps = 1
    public var penalty = 0.0
    public var realPenalty = 0.0
    public var learningRate = 2e-4
    public var discriminatorLearningRate = 2e-4
    public var betas = (0.5, 0.999)
    public var schedule = ScheduleChoice.constant
    public var samples = 1000
    var judge: SampleJudge
    public var options: RunOptions
    /// The command line, recorded in results.json.
    var arguments: [String] = []

    public init(arguments: [String]) throws {
        self.arguments = arguments
        let args = try Self.spec.parse(arguments)
        // Stored first: the checks below use closures, which need an initialised self.
        judge = try SampleJudge(args)
        options = try RunOptions(args)
        guard let first = args.positional.first, ["gan", "dcgan", "wgan-gp"].contains(first) else {
            throw UsageError("expected a model: tessera train gan|dcgan|wgan-gp [options]")
        }
        guard args.positional.count == 1 else { throw UsageError("unexpected argument '\(args.positional[1])'") }
        model = first
        dataset = args.values["dataset"] ?? (model == "dcgan" ? "mnist" : "8gaussians")
        toy = ToyDistribution(rawValue: dataset)
        guard toy != nil || ["mnist", "fashion-mnist"].contains(dataset) else {
            throw UsageError("invalid value '\(dataset)' for --dataset; expected mnist, fashion-mnist, "
                             + ToyDistribution.allCases.map(\.rawValue).joined(separator: ", "))
        }
        let isToy = toy != nil
        if model == "dcgan" && isToy { throw UsageError("--dataset \(dataset): dcgan is convolutional; use gan or wgan-gp for the 2-D toys") }
        if args.flag("conditional") && isToy { throw UsageError("--conditional needs an image dataset (mnist or fashion-mnist), not \(dataset)") }
        let wgan = model == "wgan-gp", positive = { (v: Int) in v > 0 }
        configuration.architecture = model == "dcgan" ? .dcgan : (wgan && !isToy ? .dcgan : .mlp)
        configuration.dataShape = isToy ? [2] : [1, 28, 28]
        configuration.classCount = args.flag("conditional") ? 10 : nil
        let defaultLoss: GANLoss = wgan ? .wasserstein : .nonSaturating
        if let text = args.values["loss"] {
            guard let loss = GANLoss(rawValue: text) else {
                throw UsageError("invalid value '\(text)' for --loss; expected non-saturating, hinge or wasserstein")
            }
            configuration.loss = loss
        } else {
            configuration.loss = defaultLoss
        }
        configuration.spectralNorm = args.flag("spectral-norm")
        // Gulrajani et al.'s toy code uses λ 0.1 ("smaller lambda seems to help for toy tasks"): at 10
        // the critic stays so smooth that samples blur between the 8 Gaussians' modes.
        penalty = try args.value("penalty", default: wgan ? (isToy ? 0.1 : 10.0) : 0, where: { $0 >= 0 && $0.isFinite }, expected: "a non-negative number")
        // R1 keeps the DCGAN's classes balanced: 10 epochs on MNIST (seed 0) gave every digit
        // 6–12 % of the samples with it and 3.5–16 % without, at the same confident fraction.
        realPenalty = try args.value("r1", default: model == "dcgan" ? 10 : 0, where: { $0 >= 0 && $0.isFinite }, expected: "a non-negative number")
        // The penalties are per sample: batch norm would couple them (Gulrajani et al. drop it).
        configuration.discriminatorBatchNorm = penalty == 0 && realPenalty == 0 && !configuration.spectralNorm
        if configuration.loss == .wasserstein && penalty == 0 && !configuration.spectralNorm {
            throw UsageError("--loss wasserstein needs a Lipschitz critic: give --penalty (10 is WGAN-GP's) or --spectral-norm")
        }
        criticSteps = try args.value("critic-steps", default: wgan ? 5 : 1, where: { $0 > 0 && $0 <= 100 }, expected: "an integer in 1...100")
        configuration.latentSize = try args.value("latent", default: isToy ? 8 : 64, where: positive, expected: "a positive integer")
        let defaultWidth = isToy ? 256 : (configuration.architecture == .dcgan ? 32 : 512)
        configuration.width = try args.value("width", default: defaultWidth, where: positive, expected: "a positive integer")
        let criticWidth = try args.value("d-width", default: configuration.width, where: positive, expected: "a positive integer")
        configuration.discriminatorWidth = criticWidth == configuration.width ? nil : criticWidth
        let l: CommandChecks.Factor = (configuration.latentSize, "latent")
        for w: CommandChecks.Factor in [(configuration.width, "width"), (criticWidth, "d-width")] {
            if configuration.architecture == .dcgan {
                try CommandChecks.fitsInMemory([[w, w, (16 * 3, nil)], [w, l, (49 * 2, nil)], [w, (49 * 2, nil)]], bytesPerElement: 16)
            } else {
                try CommandChecks.fitsInMemory([[w, w, (6, nil)], [w, l], [w, (784 * 2, nil)]], bytesPerElement: 16)
            }
        }
        epochs = try args.value("epochs", default: isToy ? (wgan ? 80 : 40) : 10, where: positive, expected: "a positive integer")
        trainSize = try args.value("train-size", default: wgan ? 262_144 : 32768, where: { $0 > 1 && $0 <= 10_000_000 }, expected: "an integer in 2...10000000")
        batchSize = try args.value("batch-size", default: isToy ? 256 : 64, where: positive, expected: "a positive integer")
        learningRate = try args.value("lr", default: wgan && !isToy ? 1e-4 : 2e-4, where: { $0 > 0 && $0.isFinite }, expected: "a positive number")
        discriminatorLearningRate = try args.value("d-lr", default: learningRate, where: { $0 > 0 && $0.isFinite }, expected: "a positive number")
        betas = wgan ? (0.5, 0.9) : (0.5, 0.999)
        let scheduleName = args.values["schedule"] ?? (wgan ? "linear" : "constant")
        guard let schedule = ScheduleChoice(rawValue: scheduleName) else {
            throw UsageError("invalid value '\(scheduleName)' for --schedule; expected \(ScheduleChoice.choices)")
        }
        self.schedule = schedule
        let averageDecay = try args.value("average", default: 0.0, where: { $0 >= 0 && $0 < 1 }, expected: "a number in [0, 1)")
        configuration.averageDecay = averageDecay > 0 ? averageDecay : nil
        samples = try args.value("samples", default: isToy ? 2000 : 1000, where: { $0 > 1 && $0 <= 1_000_000 }, expected: "an integer in 2...1000000")
        if isToy && args.values["classifier"] != nil { throw UsageError("--classifier labels generated images; \(dataset) is a 2-D toy") }
    }

    /// Trains and returns the history (the final figures are in results.json).
    @discardableResult
    public func run(print output: (String) -> Void = { Swift.print($0) }) throws -> TrainingHistory {
        try withoutActuallyEscaping(output) { output in
            let out = try options.prepare(defaultOut: "runs/\(model)-\(dataset)")
            let seed = options.seed
            let gan = GAN(configuration, generator: RandomGenerator(seed: seed))
            var run = GANTraining(model: gan, outputDirectory: out)
            let train: TensorDataset
            var recorded: [String: JSONValue] = ["command": .string((["tessera", "train"] + arguments).joined(separator: " ")),
                                                 "dataset": .string(dataset)]
            if let toy {
                train = toy.dataset(trainSize, seed: seed &+ 100)
                run.referencePoints = toy.sample(samples, generator: RandomGenerator(seed: seed &+ 101)).points
                run.modes = toy.modes
                recorded["train_size"] = .number(Double(trainSize))
            } else {
                train = try ImageDatasets.mnistLike(dataset, split: .train, root: options.root)
                let test = try ImageDatasets.mnistLike(dataset, split: .test, root: options.root)
                let verdict = try judge.judge(dataset: dataset, train: train, test: test, seed: seed, output: output)
                run.sampleClassifier = verdict.classifier
                recorded["classifier"] = .string(verdict.description)
                recorded["classifier_test_accuracy"] = .number(verdict.accuracy)
            }
            output("training \(model) (\(configuration.architecture.rawValue), \(configuration.loss.rawValue) loss, "
                   + "\(gan.generator.parameterCount) generator and \(gan.discriminator.parameterCount) discriminator parameters) "
                   + "on \(dataset): \(train.count) samples, \(epochs) epochs")
            run.epochs = epochs
            run.batchSize = batchSize
            run.discriminatorSteps = criticSteps
            run.penaltyWeight = penalty
            run.realPenaltyWeight = realPenalty
            run.generatorLearningRate = learningRate
            run.discriminatorLearningRate = discriminatorLearningRate
            run.betas = betas
            run.schedule = schedule
            run.seed = seed
            run.evaluationSamples = samples
            run.checkpointDirectory = options.checkpointDirectory
            run.resume = options.resume
            run.log = output
            run.modelMetadata = ["dataset": dataset]
            return try run.run(train: train, recorded: recorded)
        }
    }
}
