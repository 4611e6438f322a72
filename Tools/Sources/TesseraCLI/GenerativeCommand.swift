import Datasets
import Foundation
import Generative
import NN
import TensorCore
import Training

/// `tessera train vae`: a variational autoencoder on MNIST or Fashion-MNIST through the Generative
/// package's `VAETraining`.
public struct GenerativeCommand {
    static let spec = CommandSpec(
        usage: "tessera train vae [options]",
        summary: """
        Trains a variational autoencoder (convolutional or MLP encoder and decoder, Bernoulli
        likelihood on pixel intensities) with Adam on the negative ELBO. After every epoch: the
        test set's negative ELBO, reconstruction and KL in nats per image, and samples-epoch-NNN.png
        from fixed latents; at the end the IWAE bound, reconstructions.png, interpolation.png and
        model.h5. Writes results.json (final: test_negative_elbo, test_iwae_nll), metrics.csv and
        curves to --out.
        """,
        options: [
            OptionSpec("dataset", "NAME", "mnist (default) or fashion-mnist"),
            OptionSpec("architecture", "KIND", "convolutional (default) or mlp"),
            OptionSpec("latent", "L", "latent dimensions (default 32)"),
            OptionSpec("hidden", "H", "width of the dense layers (default 512)"),
            OptionSpec("likelihood", "KIND", "bernoulli (default) or gaussian (one learned scale)"),
            OptionSpec("beta", "B", "weight of the KL term (default 1: the ELBO)"),
            OptionSpec("conditional", nil, "condition encoder and decoder on the class (a CVAE)"),
            OptionSpec("epochs", "N", "passes over the 60,000 training images (default 20)"),
            OptionSpec("batch-size", "B", "images per step (default 128)"),
            OptionSpec("lr", "X", "Adam learning rate (default 1e-3)"),
            OptionSpec("iwae-samples", "K", "importance samples per image of the final bound (default 100)"),
            OptionSpec("iwae-images", "N", "test images the bound is computed on (default 1000)"),
        ] + OptionSpec.runOptions(out: "runs/vae-DATASET"),
        footer: "Missing data: run Datasets/fetch mnist (or fashion-mnist) first.")
    public static var usage: String { spec.help }

    public var dataset = "mnist"
    public var configuration = VAEConfiguration()
    public var epochs = 20
    public var batchSize = 128
    public var learningRate = 1e-3
    public var iwaeSamples = 100
    public var iwaeImages = 1000
    public var options: RunOptions
    /// The command line, recorded in results.json.
    var arguments: [String] = []

    public init(arguments: [String]) throws {
        self.arguments = arguments
        let args = try Self.spec.parse(arguments)
        guard args.positional.first == "vae" else { throw UsageError("expected a model: tessera train vae [options]") }
        guard args.positional.count == 1 else { throw UsageError("unexpected argument '\(args.positional[1])'") }
        dataset = args.values["dataset"] ?? dataset
        guard ["mnist", "fashion-mnist"].contains(dataset) else {
            throw UsageError("invalid value '\(dataset)' for --dataset; expected mnist or fashion-mnist")
        }
        if let text = args.values["architecture"] {
            guard let a = VAEConfiguration.Architecture(rawValue: text) else {
                throw UsageError("invalid value '\(text)' for --architecture; expected convolutional or mlp")
            }
            configuration.architecture = a
        }
        if let text = args.values["likelihood"] {
            guard let l = VAEConfiguration.Likelihood(rawValue: text) else {
                throw UsageError("invalid value '\(text)' for --likelihood; expected bernoulli or gaussian")
            }
            configuration.likelihood = l
        }
        let positive = { (v: Int) in v > 0 }
        configuration.latentSize = try args.value("latent", default: 32, where: positive, expected: "a positive integer")
        configuration.hiddenSize = try args.value("hidden", default: 512, where: positive, expected: "a positive integer")
        configuration.beta = try args.value("beta", default: 1.0, where: { $0 >= 0 && $0.isFinite }, expected: "a non-negative number")
        configuration.classCount = args.flag("conditional") ? 10 : nil
        let features = configuration.architecture == .mlp ? 784 : 64 * 7 * 7
        let h: CommandChecks.Factor = (configuration.hiddenSize, "hidden"), l: CommandChecks.Factor = (configuration.latentSize, "latent")
        try CommandChecks.fitsInMemory([[(2 * features + 20, nil), h], [h, l, (3, nil)], [h, h, (2, nil)]], bytesPerElement: 16)
        epochs = try args.value("epochs", default: 20, where: positive, expected: "a positive integer")
        batchSize = try args.value("batch-size", default: 128, where: positive, expected: "a positive integer")
        learningRate = try args.value("lr", default: 1e-3, where: { $0 > 0 && $0.isFinite }, expected: "a positive number")
        iwaeSamples = try args.value("iwae-samples", default: 100, where: { $0 > 0 && $0 <= 100_000 }, expected: "an integer in 1...100000")
        iwaeImages = try args.value("iwae-images", default: 1000, where: positive, expected: "a positive integer")
        options = try RunOptions(args)
    }

    /// Trains and returns the history (the final figures are in results.json).
    @discardableResult
    public func run(print output: (String) -> Void = { Swift.print($0) }) throws -> TrainingHistory {
        try withoutActuallyEscaping(output) { output in
            let out = try options.prepare(defaultOut: "runs/vae-\(dataset)")
            let seed = options.seed
            let train = try ImageDatasets.mnistLike(dataset, split: .train, root: options.root)
            let test = try ImageDatasets.mnistLike(dataset, split: .test, root: options.root)
            let model = VAE(configuration, generator: RandomGenerator(seed: seed))
            output("training a \(configuration.architecture.rawValue) VAE (latent \(configuration.latentSize), \(model.parameterCount) "
                   + "parameters) on \(dataset): \(train.count) images, \(epochs) epochs")
            var run = VAETraining(model: model, outputDirectory: out)
            run.epochs = epochs
            run.batchSize = batchSize
            run.learningRate = learningRate
            run.seed = seed
            run.iwaeSamples = iwaeSamples
            run.iwaeImages = iwaeImages
            run.checkpointDirectory = options.checkpointDirectory
            run.resume = options.resume
            run.log = output
            run.modelMetadata = ["dataset": dataset]
            let history = try run.run(train: train, test: test, recorded: [
                "command": .string((["tessera", "train"] + arguments).joined(separator: " ")), "dataset": .string(dataset),
            ])
            if let last = history.epochs.last {
                output(String(format: "test negative ELBO: %.2f nats per image (reconstruction %.2f, KL %.2f)",
                              last["test_negative_elbo"]!, last["test_reconstruction"]!, last["test_kl"]!))
            }
            return history
        }
    }
}
