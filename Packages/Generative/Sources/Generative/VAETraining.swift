import Foundation
import NN
import Optim
import TensorCore
import Training
import Vision

/// Trains a `VAE` on images through the `Trainer` (Adam on the β-weighted negative ELBO) and
/// evaluates it the way papers report it: after every epoch the test set's negative ELBO with its
/// reconstruction and KL terms (nats per image) and a grid of samples from fixed latents
/// (`samples-epoch-NNN.png`, so training can be watched); at the end the IWAE bound on the
/// first `iwaeImages` test images, reconstructions, an interpolation and `model.h5` with the
/// configuration. `results.json`'s `final` names `test_negative_elbo`, `test_reconstruction`,
/// `test_kl` and `test_iwae_nll` (with `iwae_samples`, `iwae_images` and the same images'
/// negative ELBO as `iwae_images_negative_elbo`, so the two bounds compare like for like).
public struct VAETraining {
    /// The model to train.
    public let model: VAE
    /// Passes over the training images.
    public var epochs = 20
    /// Images per step.
    public var batchSize = 128
    /// Adam's learning rate.
    public var learningRate = 1e-3
    /// Shuffling and sampling seed.
    public var seed: UInt64 = 0
    /// Importance samples per image of the final IWAE bound.
    public var iwaeSamples = 100
    /// Test images the IWAE bound is computed on (all of them when larger than the test set).
    public var iwaeImages = 1000
    /// Where results, pictures and model.h5 go.
    public var outputDirectory: String
    /// Checkpoints every epoch (keeps 3), for `resume`.
    public var checkpointDirectory: String? = nil
    /// Continue from the newest checkpoint.
    public var resume = false
    /// Attributes recorded in model.h5 beside the kind and configuration (the dataset's name).
    public var modelMetadata: [String: String] = [:]
    /// Progress and per-epoch lines.
    public var log: (String) -> Void = { print($0) }

    /// A run of `model` writing into `outputDirectory`.
    public init(model: VAE, outputDirectory: String) {
        self.model = model
        self.outputDirectory = outputDirectory
    }

    /// Images `[N, C, H, W]` of a dataset whose inputs are flattened or already images.
    func images(_ inputs: Tensor) -> Tensor { inputs.reshaped(to: [inputs.shape[0]] + model.configuration.imageShape) }

    /// The test set's negative ELBO and its terms (means over images, one posterior sample each).
    func evaluate(_ test: TensorDataset, generator: RandomGenerator) -> (negativeELBO: Double, reconstruction: Double, kl: Double) {
        model.eval()
        defer { model.train() }
        var reconstruction = 0.0, kl = 0.0
        let conditional = model.configuration.classCount != nil
        withoutGradients {
            for batch in DataLoader(test, batchSize: 500, prefetch: false).batches() {
                let terms = model.elbo(images(batch.input), labels: conditional ? batch.target : nil, generator: generator)
                reconstruction += terms.reconstruction.sum().item(as: Double.self)
                kl += terms.kl.sum().item(as: Double.self)
            }
        }
        let n = Double(test.count)
        return ((reconstruction + kl) / n, reconstruction / n, kl / n)
    }

    /// Trains on `train`, evaluates on `test` (inputs in [0, 1], flattened or `[N, C, H, W]`;
    /// targets are class labels, used when the model is conditional). `recorded` joins the
    /// configuration in results.json.
    @discardableResult
    public func run(train: TensorDataset, test: TensorDataset, recorded: [String: JSONValue] = [:]) throws -> TrainingHistory {
        tensorCheck(epochs > 0 && batchSize > 0 && learningRate > 0 && iwaeSamples > 0 && iwaeImages > 0,
                    "[VAETraining] epochs \(epochs), batch size \(batchSize), learning rate \(learningRate), IWAE samples "
                    + "\(iwaeSamples) and images \(iwaeImages) must be positive")
        try createOutputDirectory(outputDirectory)
        let conditional = model.configuration.classCount != nil
        let noise = RandomGenerator(seed: seed &+ 1), evaluationNoise = RandomGenerator(seed: seed &+ 2)
        // Fixed latents (and labels 0, 1, 2, ... for a conditional model): the grids of successive
        // epochs show the same draws improving.
        let fixedZ = Tensor.randn([64, model.configuration.latentSize], generator: RandomGenerator(seed: seed &+ 3))
        let fixedLabels = model.configuration.classCount.map { k in Tensor((0..<64).map { Int64($0 % k) }) }
        let trainer = Trainer(model: model, optimizer: Adam(parameters: model.parameters(), learningRate: learningRate),
                              configuration: TrainerConfiguration(epochs: epochs, outputDirectory: outputDirectory,
                                                                  checkpointDirectory: checkpointDirectory, resume: resume))
        trainer.log = log
        trainer.progressUnit = "images"
        trainer.randomGenerators = ["vae_noise": noise]
        var configuration = recorded
        configuration["model"] = try JSONValue(encoding: model.configuration)
        configuration["epochs"] = .number(Double(epochs))
        configuration["batch_size"] = .number(Double(batchSize))
        configuration["learning_rate"] = .number(learningRate)
        configuration["seed"] = .number(Double(seed))
        trainer.recordedConfiguration = configuration
        let loader = DataLoader(train, batchSize: batchSize, sampler: RandomSampler(seed: seed))
        let final = FinalFigures(training: self, test: test, generator: RandomGenerator(seed: seed &+ 4))
        trainer.callbacks.append(final)
        let history = try trainer.fit(batchesPerEpoch: loader.batchCount, batches: { loader.batches(epoch: $0) }, step: { batch in
            let terms = model.elbo(images(batch.input), labels: conditional ? batch.target : nil, generator: noise)
            return TrainingStepOutput(loss: terms.loss, count: batch.input.shape[0])
        }, evaluate: {
            let scores = evaluate(test, generator: evaluationNoise)
            let grid = withoutGradients { model.image(fromDecoded: model.decode(fixedZ, labels: fixedLabels)) }
            try saveImageGrid(grid, to: "\(outputDirectory)/samples-epoch-\(String(format: "%03d", trainer.epoch)).png")
            try saveImageGrid(grid, to: "\(outputDirectory)/samples.png")
            return ["test_negative_elbo": scores.negativeELBO, "test_reconstruction": scores.reconstruction, "test_kl": scores.kl]
        })
        var metadata = modelMetadata
        metadata["kind"] = "vae"
        metadata["config"] = String(decoding: try JSONEncoder().encode(model.configuration), as: UTF8.self)
        try trainer.saveModel(to: "\(outputDirectory)/model.h5", metadata: metadata)
        return history
    }
}

/// The end-of-run figures and pictures, added to `final` before results.json is written.
final class FinalFigures: TrainingCallback {
    let training: VAETraining
    let test: TensorDataset
    let generator: RandomGenerator

    init(training: VAETraining, test: TensorDataset, generator: RandomGenerator) {
        self.training = training
        self.test = test
        self.generator = generator
    }

    func finalFiguresWillBeWritten(_ trainer: Trainer, final: inout [String: Double]) {
        let model = training.model
        model.eval()
        defer { model.train() }
        let conditional = model.configuration.classCount != nil
        let count = Swift.min(training.iwaeImages, test.count), k = training.iwaeSamples
        // Chunks of images whose k draws decode together (about 2,000 images at a time).
        let chunk = Swift.max(1, 2000 / k)
        var iwae = 0.0, elbo = 0.0
        withoutGradients {
            for start in stride(from: 0, to: count, by: chunk) {
                let n = Swift.min(chunk, count - start)
                let x = training.images(test.inputs.narrowed(axis: 0, start: start, length: n))
                let labels = conditional ? test.targets.narrowed(axis: 0, start: start, length: n) : nil
                iwae += model.iwaeNegativeLogLikelihood(x, labels: labels, samples: k, generator: generator).sum().item(as: Double.self)
                elbo += (model.elbo(x, labels: labels, generator: generator).negativeELBO * Double(n)).item(as: Double.self)
            }
            let first = training.images(test.inputs.narrowed(axis: 0, start: 0, length: Swift.min(32, test.count)))
            let labels = conditional ? test.targets.narrowed(axis: 0, start: 0, length: first.shape[0]) : nil
            // Originals and reconstructions in alternating rows of 8.
            let reconstructions = model.reconstruct(first, labels: labels)
            var rows: [Tensor] = []
            for r in stride(from: 0, to: first.shape[0], by: 8) {
                let n = Swift.min(8, first.shape[0] - r)
                rows += [first.narrowed(axis: 0, start: r, length: n), reconstructions.narrowed(axis: 0, start: r, length: n)]
            }
            try? saveImageGrid(Tensor.concatenated(rows, axis: 0), to: "\(training.outputDirectory)/reconstructions.png")
            if first.shape[0] >= 16 && !conditional {
                let lines = (0..<8).map { i in
                    model.interpolate(first.narrowed(axis: 0, start: 2 * i, length: 1), first.narrowed(axis: 0, start: 2 * i + 1, length: 1), steps: 10)
                }
                try? saveImageGrid(Tensor.concatenated(lines, axis: 0), to: "\(training.outputDirectory)/interpolation.png", columns: 10)
            }
        }
        final["test_iwae_nll"] = iwae / Double(count)
        final["iwae_images_negative_elbo"] = elbo / Double(count)
        final["iwae_samples"] = Double(k)
        final["iwae_images"] = Double(count)
        training.log(String(format: "IWAE bound (k = %d) on %d test images: %.2f nats (their negative ELBO %.2f)", k, count,
                            iwae / Double(count), elbo / Double(count)))
    }
}
