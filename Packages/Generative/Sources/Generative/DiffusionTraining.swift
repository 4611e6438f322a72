import Foundation
import NN
import Optim
import TensorCore
import Training
import Vision

/// Trains a `Diffusion` model on images through the `Trainer` (Adam on the denoising loss, the
/// weights' moving average updated after every step) and shows it working: after every epoch
/// a grid of DDIM samples from fixed noise (`samples-epoch-NNN.png`; one column per class for
/// a conditional model, up to 10 rows and at most `evaluationSamples`); at the end, with a `sampleClassifier`, what it says of
/// `evaluationSamples` DDIM samples (`conditioned_class_accuracy` for a conditional model,
/// `classifier_confident_fraction`, `class_fraction_<k>`), `samples.png` and `model.h5` with
/// the configuration. `results.json`'s `final` also names `sampling_steps`, `guidance` and
/// `sampling_seconds`.
public struct DiffusionTraining {
    /// The model to train.
    public let model: Diffusion
    /// Passes over the training images.
    public var epochs = 3
    /// Images per step.
    public var batchSize = 64
    /// Adam's learning rate.
    public var learningRate = 1e-3
    /// Shuffling, timestep and noise seed.
    public var seed: UInt64 = 0
    /// DDIM steps of every sample drawn for pictures and figures.
    public var samplingSteps = 25
    /// Classifier-free guidance weight of those samples (1: none).
    public var guidance = 2.0
    /// Samples the final figures are measured on (spread evenly over the classes).
    public var evaluationSamples = 1000
    /// A classifier of real images (logits) that labels the samples at the end.
    public var sampleClassifier: Module? = nil
    /// Where results, pictures and model.h5 go.
    public var outputDirectory: String
    /// Checkpoints every epoch (keeps 3), for `resume`.
    public var checkpointDirectory: String? = nil
    /// Continue from the newest checkpoint.
    public var resume = false
    /// Stop after this many seconds of training (the epoch in progress ends early, then the
    /// final figures are measured).
    public var timeBudget: Double? = nil
    /// Attributes recorded in model.h5 beside the kind and configuration (the dataset's name).
    public var modelMetadata: [String: String] = [:]
    /// Progress and per-epoch lines.
    public var log: (String) -> Void = { print($0) }

    /// A run of `model` writing into `outputDirectory`.
    public init(model: Diffusion, outputDirectory: String) {
        self.model = model
        self.outputDirectory = outputDirectory
    }

    /// Labels 0, 1, 2, … in turn (nil for an unconditional model).
    func cyclingLabels(_ count: Int) -> Tensor? {
        model.configuration.classCount.map { k in Tensor((0..<count).map { Int64($0 % k) }) }
    }

    /// Trains on `train` (images in [0, 1], flattened or `[N, C, H, W]`; targets are class
    /// labels). `recorded` joins the configuration in results.json.
    @discardableResult
    public func run(train: TensorDataset, recorded: [String: JSONValue] = [:]) throws -> TrainingHistory {
        tensorCheck(epochs > 0 && batchSize > 0 && learningRate > 0 && evaluationSamples > 0,
                    "[DiffusionTraining] epochs \(epochs), batch size \(batchSize), learning rate \(learningRate) and evaluation samples "
                    + "\(evaluationSamples) must be positive")
        _ = model.samplingTimesteps(samplingSteps)
        _ = model.samplingLabels(count: 1, labels: cyclingLabels(1), guidance: model.configuration.classCount == nil ? 1 : guidance,
                                 "DiffusionTraining")
        try createOutputDirectory(outputDirectory)
        let configuration = model.configuration, conditional = configuration.classCount != nil
        let noise = RandomGenerator(seed: seed &+ 1)
        // A grid of up to 10 rows, no more samples than the final figures use.
        let columns = configuration.classCount ?? 8, gridCount = Swift.max(1, Swift.min(columns * (conditional ? 10 : 8), evaluationSamples))
        let trainer = Trainer(model: model, optimizer: Adam(parameters: model.trainableParameters, learningRate: learningRate),
                              configuration: TrainerConfiguration(epochs: epochs, outputDirectory: outputDirectory,
                                                                  checkpointDirectory: checkpointDirectory, resume: resume,
                                                                  timeBudget: timeBudget))
        trainer.log = log
        trainer.progressUnit = "images"
        trainer.randomGenerators = ["diffusion_noise": noise]
        trainer.callbacks.append(AverageUpdate(model.updateAverage(step:)))
        var recordedConfiguration = recorded
        recordedConfiguration["model"] = try JSONValue(encoding: configuration)
        recordedConfiguration["epochs"] = .number(Double(epochs))
        recordedConfiguration["batch_size"] = .number(Double(batchSize))
        recordedConfiguration["learning_rate"] = .number(learningRate)
        recordedConfiguration["sampling_steps"] = .number(Double(samplingSteps))
        recordedConfiguration["guidance"] = .number(guidance)
        recordedConfiguration["seed"] = .number(Double(seed))
        trainer.recordedConfiguration = recordedConfiguration
        let loader = DataLoader(train, batchSize: batchSize, sampler: RandomSampler(seed: seed))
        trainer.callbacks.append(DiffusionFinalFigures(training: self, generator: RandomGenerator(seed: seed &+ 4)))
        let images = { (x: Tensor) in x.reshaped(to: [x.shape[0]] + configuration.imageShape) }
        let history = try trainer.fit(batchesPerEpoch: loader.batchCount, batches: { loader.batches(epoch: $0) }, step: { batch in
            TrainingStepOutput(loss: model.loss(images(batch.input), labels: conditional ? batch.target : nil, generator: noise),
                               count: batch.input.shape[0])
        }, evaluate: {
            // The same noise every epoch: the grids show the same draws improving.
            let grid = model.sampleDDIM(count: gridCount, steps: samplingSteps, labels: cyclingLabels(gridCount),
                                        guidance: conditional ? guidance : 1, generator: RandomGenerator(seed: seed &+ 3))
            try saveImageGrid(grid, to: "\(outputDirectory)/samples-epoch-\(String(format: "%03d", trainer.epoch)).png", columns: columns)
            try saveImageGrid(grid, to: "\(outputDirectory)/samples.png", columns: columns)
            return [:]
        })
        var metadata = modelMetadata
        metadata["kind"] = "diffusion"
        metadata["config"] = String(decoding: try JSONEncoder().encode(configuration), as: UTF8.self)
        try trainer.saveModel(to: "\(outputDirectory)/model.h5", metadata: metadata)
        return history
    }
}

/// Updates a model's moving average of weights after every optimizer step (the diffusion
/// network's, a GAN generator's), given the steps taken.
final class AverageUpdate: TrainingCallback {
    let update: (Int?) -> Void
    init(_ update: @escaping (Int?) -> Void) { self.update = update }
    func batchDidEnd(_ trainer: Trainer, step: Int, loss: Double) { update(step) }
}

/// The classifier's verdict on the final samples.
final class DiffusionFinalFigures: TrainingCallback {
    let training: DiffusionTraining
    let generator: RandomGenerator

    init(training: DiffusionTraining, generator: RandomGenerator) {
        self.training = training
        self.generator = generator
    }

    func finalFiguresWillBeWritten(_ trainer: Trainer, final: inout [String: Double]) {
        let model = training.model, count = training.evaluationSamples
        let conditional = model.configuration.classCount != nil, guidance = conditional ? training.guidance : 1
        final["sampling_steps"] = Double(training.samplingSteps)
        final["guidance"] = guidance
        guard let classifier = training.sampleClassifier else { return }
        let started = Date()
        // Batches of 100 keep the sampler's activations small.
        var batches: [Tensor] = []
        for start in stride(from: 0, to: count, by: 100) {
            let n = Swift.min(100, count - start)
            let labels = training.cyclingLabels(count)?.narrowed(axis: 0, start: start, length: n)
            batches.append(model.sampleDDIM(count: n, steps: training.samplingSteps, labels: labels, guidance: guidance, generator: generator))
        }
        let samples = Tensor.concatenated(batches, axis: 0)
        final["sampling_seconds"] = Date().timeIntervalSince(started)
        let verdict = SampleClassification(classifier: classifier, images: samples, conditionedOn: training.cyclingLabels(count))
        final.merge(verdict.figures) { _, new in new }
        training.log(verdict.summary)
        try? saveImageGrid(samples.narrowed(axis: 0, start: 0, length: Swift.min(100, count)),
                           to: "\(training.outputDirectory)/final-samples.png", columns: model.configuration.classCount ?? 10)
    }
}

extension Diffusion {
    /// The diffusion model saved at `path` by `DiffusionTraining`; typed errors name what does not fit.
    public static func load(from path: String) throws -> Diffusion {
        try loadGenerativeModel(from: path, kind: "diffusion") { Diffusion($0) }
    }
}
