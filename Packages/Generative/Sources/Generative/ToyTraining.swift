import Foundation
import NN
import Optim
import TensorCore
import Training

/// Trains a model of 2-D points (a score model, a flow) on a toy distribution through the
/// `Trainer` (Adam on `loss`, its rate annealed on a cosine) and measures its samples every epoch the way the GAN papers
/// measure toys: `mmd` against held-out points and, where the toy has known modes,
/// `mode_coverage` and `within_3_sigma`; a scatter plot over the data in
/// `samples-epoch-NNN.png`; `evaluate` adds figures of its own (a flow's test log-likelihood).
/// The final model is `model.h5` with `kind` and `config`.
public struct ToyTraining {
    /// The model to train.
    public let model: Module
    /// The mean loss of a batch of points.
    public let loss: (_ points: Tensor, _ generator: RandomGenerator) -> Tensor
    /// `count` samples of the model.
    public let sampler: (_ count: Int, _ generator: RandomGenerator) -> Tensor
    /// The data.
    public var toy: ToyDistribution
    /// Points drawn for training.
    public var trainSize = 32768
    /// Held-out points the measures compare samples with.
    public var testSize = 2000
    /// Passes over the training points.
    public var epochs = 40
    /// Points per step.
    public var batchSize = 256
    /// Adam's learning rate.
    public var learningRate = 1e-3
    /// Anneal the learning rate to 0 over the run on a cosine, step by step (what sharpens a
    /// score model's modes at the end); false keeps it constant.
    public var cosineSchedule = true
    /// Data, shuffling and sampling seed.
    public var seed: UInt64 = 0
    /// Samples the per-epoch measures use.
    public var evaluationSamples = 2000
    /// Called after every optimizer step (a moving average's update).
    public var afterStep: (() -> Void)? = nil
    /// The parameters Adam updates (default: all of the model's).
    public var parameters: [Parameter]? = nil
    /// Figures of the model's own on the held-out points, every epoch.
    public var evaluate: ((_ test: Tensor) -> [String: Double])? = nil
    /// Figures added to results.json's `final` as they are (a baseline to compare with).
    public var extraFinalFigures: [String: Double] = [:]
    /// Where results, pictures and model.h5 go.
    public var outputDirectory: String
    /// Checkpoints every epoch (keeps 3), for `resume`.
    public var checkpointDirectory: String? = nil
    /// Continue from the newest checkpoint.
    public var resume = false
    /// Attributes of model.h5 (`kind`, `config`, the dataset).
    public var modelMetadata: [String: String] = [:]
    /// Progress and per-epoch lines.
    public var log: (String) -> Void = { print($0) }

    /// A run of `model` on `toy` writing into `outputDirectory`.
    public init(model: Module, toy: ToyDistribution, outputDirectory: String, loss: @escaping (Tensor, RandomGenerator) -> Tensor,
                sampler: @escaping (Int, RandomGenerator) -> Tensor) {
        self.model = model
        self.toy = toy
        self.outputDirectory = outputDirectory
        self.loss = loss
        self.sampler = sampler
    }

    /// The measures of `samples` against held-out `test` points.
    public func figures(_ samples: Tensor, test: Tensor) -> [String: Double] {
        var figures = ["mmd": maximumMeanDiscrepancy(samples, test)]
        if let modes = toy.modes {
            let coverage = ModeCoverage(samples: samples, centers: modes.centers, standardDeviation: modes.standardDeviation)
            figures["mode_coverage"] = coverage.fraction
            figures["within_3_sigma"] = coverage.withinThreeSigma
        }
        return figures
    }

    /// Trains, measuring every epoch, and writes results.json and model.h5; `recorded` joins
    /// the configuration in results.json.
    @discardableResult
    public func run(recorded: [String: JSONValue] = [:]) throws -> TrainingHistory {
        tensorCheck(epochs > 0 && batchSize > 0 && learningRate > 0 && trainSize > 1 && testSize > 1 && evaluationSamples > 1,
                    "[ToyTraining] epochs \(epochs), batch size \(batchSize), learning rate \(learningRate), train size \(trainSize), "
                    + "test size \(testSize) and evaluation samples \(evaluationSamples) must be positive (sizes at least 2)")
        try createOutputDirectory(outputDirectory)
        let train = toy.dataset(trainSize, seed: seed &+ 100)
        let test = toy.sample(testSize, generator: RandomGenerator(seed: seed &+ 101)).points
        let noise = RandomGenerator(seed: seed &+ 1)
        let optimizer = Adam(parameters: parameters ?? model.parameters(), learningRate: learningRate)
        let steps = epochs * ((trainSize + batchSize - 1) / batchSize)
        let trainer = Trainer(model: model, optimizer: optimizer,
                              schedule: cosineSchedule ? CosineAnnealingSchedule(optimizer, maxSteps: steps) : nil,
                              configuration: TrainerConfiguration(epochs: epochs, outputDirectory: outputDirectory,
                                                                  checkpointDirectory: checkpointDirectory, resume: resume))
        trainer.log = log
        trainer.progressUnit = "points"
        trainer.randomGenerators = ["toy_noise": noise]
        var configuration = recorded
        configuration["dataset"] = .string(toy.rawValue)
        configuration["train_size"] = .number(Double(trainSize))
        configuration["test_size"] = .number(Double(testSize))
        configuration["epochs"] = .number(Double(epochs))
        configuration["batch_size"] = .number(Double(batchSize))
        configuration["learning_rate"] = .number(learningRate)
        configuration["schedule"] = .string(cosineSchedule ? "cosine" : "constant")
        configuration["seed"] = .number(Double(seed))
        trainer.recordedConfiguration = configuration
        let loader = DataLoader(train, batchSize: batchSize, sampler: RandomSampler(seed: seed))
        trainer.callbacks.append(ExtraFinalFigures(extraFinalFigures))
        if let afterStep { trainer.callbacks.append(AfterStep(afterStep)) }
        let history = try trainer.fit(batchesPerEpoch: loader.batchCount, batches: { loader.batches(epoch: $0) }, step: { batch in
            TrainingStepOutput(loss: loss(batch.input, noise), count: batch.input.shape[0])
        }, evaluate: {
            // The same draws every epoch.
            let samples = sampler(evaluationSamples, RandomGenerator(seed: seed &+ 3))
            let name = "samples-epoch-\(String(format: "%03d", trainer.epoch)).png"
            try saveScatterPlot(samples: samples, over: test, to: "\(outputDirectory)/\(name)")
            try saveScatterPlot(samples: samples, over: test, to: "\(outputDirectory)/samples.png")
            var result = figures(samples, test: test)
            if let evaluate { result.merge(evaluate(test)) { _, new in new } }
            return result
        })
        var metadata = modelMetadata
        metadata["dataset"] = toy.rawValue
        try trainer.saveModel(to: "\(outputDirectory)/model.h5", metadata: metadata)
        return history
    }
}

/// Adds fixed figures to `final`.
final class ExtraFinalFigures: TrainingCallback {
    let figures: [String: Double]
    init(_ figures: [String: Double]) { self.figures = figures }
    func finalFiguresWillBeWritten(_ trainer: Trainer, final: inout [String: Double]) { final.merge(figures) { _, new in new } }
}

/// Runs a closure after every optimizer step.
final class AfterStep: TrainingCallback {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
    func batchDidEnd(_ trainer: Trainer, step: Int, loss: Double) { body() }
}
