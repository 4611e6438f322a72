import Foundation
import NN
import Optim
import TensorCore
import Training
import Vision

/// Trains a `GAN` through the `Trainer`'s manual optimisation, alternating the updates: on
/// every step `discriminatorSteps` discriminator (critic) updates, each on its own chunk of
/// `batchSize` real samples against as many generated ones (with the gradient penalty when
/// `penaltyWeight` > 0, WGAN-GP; R1 on the real samples when `realPenaltyWeight` > 0), then
/// one generator update on the last chunk's generated samples. Each network has its own Adam
/// (β₁, β₂ as DCGAN's 0.5, 0.999 or WGAN-GP's 0.5, 0.9), together a `CombinedOptimizer` so
/// checkpoints resume both.
///
/// Per epoch: `train_discriminator_loss`, `train_generator_loss`, `train_real_score`,
/// `train_fake_score` (mean raw scores), `train_gradient_penalty` and `train_r1_penalty`; a sample grid (images) or
/// a scatter plot over the data (points) from fixed noise in `samples-epoch-NNN.png`; for
/// points `mmd` against held-out data and, where the data has known modes, `mode_coverage` and
/// `within_3_sigma`; for images with a `sampleClassifier`, what it says of `evaluationSamples`
/// generated images (the same draws every epoch, the last epoch's again from fresh noise at the end): `classifier_confident_fraction` (max probability ≥ 0.9),
/// `class_fraction_<k>` with their min and max, and for a conditional GAN
/// `conditioned_class_accuracy`; and `model.h5` with the configuration.
public struct GANTraining {
    /// The model to train.
    public let model: GAN
    /// Passes over the training data.
    public var epochs = 10
    /// Real samples per discriminator update.
    public var batchSize = 64
    /// Discriminator (critic) updates per generator update.
    public var discriminatorSteps = 1
    /// λ of the gradient penalty (0: none; WGAN-GP uses 10).
    public var penaltyWeight = 0.0
    /// γ of Mescheder et al.'s R1 penalty on the real samples (the loss adds γ/2 · R1; 0: none).
    public var realPenaltyWeight = 0.0
    /// Adam's learning rate for the generator.
    public var generatorLearningRate = 2e-4
    /// Adam's learning rate for the discriminator.
    public var discriminatorLearningRate = 2e-4
    /// Adam's β₁ and β₂ (both networks).
    public var betas = (0.5, 0.999)
    /// Both learning rates' schedule over the run's generator updates. `.linear` is Gulrajani
    /// et al.'s WGAN-GP schedule: the late small steps let the generator settle on sharp modes
    /// instead of circling them.
    public var schedule = ScheduleChoice.constant
    /// Shuffling and noise seed.
    public var seed: UInt64 = 0
    /// Samples the final (and, for points, per-epoch) measures are computed on.
    public var evaluationSamples = 1000
    /// A classifier of real images (logits) that labels generated ones at the end.
    public var sampleClassifier: Module? = nil
    /// Held-out real points for `mmd` (points only).
    public var referencePoints: Tensor? = nil
    /// The data's modes and their standard deviation, for `mode_coverage` and `within_3_sigma`.
    public var modes: (centers: Tensor, standardDeviation: Double)? = nil
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
    public init(model: GAN, outputDirectory: String) {
        self.model = model
        self.outputDirectory = outputDirectory
    }

    /// Samples of a dataset in the model's shape and range.
    func modelData(_ inputs: Tensor) -> Tensor {
        model.toModel(inputs.reshaped(to: [inputs.shape[0]] + model.configuration.dataShape))
    }

    /// Trains on `train` (images in [0, 1], flattened or `[N, C, H, W]`, or points `[N, D]`;
    /// targets are class labels, used when the model is conditional). `recorded` joins the
    /// configuration in results.json.
    @discardableResult
    public func run(train: TensorDataset, recorded: [String: JSONValue] = [:]) throws -> TrainingHistory {
        tensorCheck(epochs > 0 && batchSize > 0 && discriminatorSteps > 0 && evaluationSamples > 1,
                    "[GANTraining] epochs \(epochs), batch size \(batchSize), discriminator steps \(discriminatorSteps) and "
                    + "evaluation samples \(evaluationSamples) must be positive (samples at least 2)")
        tensorCheck(realPenaltyWeight >= 0 && realPenaltyWeight.isFinite,
                    "[GANTraining] R1 weight \(realPenaltyWeight) must be a non-negative number")
        tensorCheck(penaltyWeight >= 0 && generatorLearningRate > 0 && discriminatorLearningRate > 0,
                    "[GANTraining] penalty weight \(penaltyWeight) must be non-negative and learning rates "
                    + "(\(generatorLearningRate), \(discriminatorLearningRate)) positive")
        try createOutputDirectory(outputDirectory)
        let configuration = model.configuration, conditional = configuration.classCount != nil
        let noise = RandomGenerator(seed: seed &+ 1)
        // Fixed noise (and labels 0, 1, 2, ... by column for a conditional model): the pictures
        // of successive epochs show the same draws improving.
        let columns = configuration.classCount ?? 8, fixedCount = configuration.isImage ? columns * (conditional ? 10 : 8) : evaluationSamples
        let fixedZ = model.noise(fixedCount, generator: RandomGenerator(seed: seed &+ 3))
        let fixedLabels = configuration.classCount.map { k in Tensor((0..<fixedCount).map { Int64($0 % k) }) }
        let judgedZ = model.noise(evaluationSamples, generator: RandomGenerator(seed: seed &+ 5))
        let judgedLabels = configuration.classCount.map { k in Tensor((0..<evaluationSamples).map { Int64($0 % k) }) }
        let discriminatorOptimizer = Adam(parameters: model.discriminator.parameters(), learningRate: discriminatorLearningRate,
                                          beta1: betas.0, beta2: betas.1)
        let generatorOptimizer = Adam(parameters: model.generator.parameters(), learningRate: generatorLearningRate,
                                      beta1: betas.0, beta2: betas.1)
        let optimizer = CombinedOptimizer([("discriminator", discriminatorOptimizer), ("generator", generatorOptimizer)])
        // Each step takes discriminatorSteps chunks of batchSize (the last chunk may be short).
        let loader = DataLoader(train, batchSize: batchSize * discriminatorSteps, sampler: RandomSampler(seed: seed))
        let trainer = Trainer(model: model, optimizer: optimizer, schedule: schedule.make(optimizer, totalSteps: epochs * loader.batchCount),
                              configuration: TrainerConfiguration(epochs: epochs, outputDirectory: outputDirectory,
                                                                  checkpointDirectory: checkpointDirectory, resume: resume))
        trainer.log = log
        trainer.progressUnit = configuration.isImage ? "images" : "points"
        trainer.randomGenerators = ["gan_noise": noise]
        var recordedConfiguration = recorded
        recordedConfiguration["model"] = try JSONValue(encoding: configuration)
        recordedConfiguration["epochs"] = .number(Double(epochs))
        recordedConfiguration["batch_size"] = .number(Double(batchSize))
        recordedConfiguration["discriminator_steps"] = .number(Double(discriminatorSteps))
        recordedConfiguration["penalty_weight"] = .number(penaltyWeight)
        recordedConfiguration["r1_weight"] = .number(realPenaltyWeight)
        recordedConfiguration["generator_learning_rate"] = .number(generatorLearningRate)
        recordedConfiguration["discriminator_learning_rate"] = .number(discriminatorLearningRate)
        recordedConfiguration["betas"] = .array([.number(betas.0), .number(betas.1)])
        recordedConfiguration["schedule"] = .string(schedule.rawValue)
        recordedConfiguration["seed"] = .number(Double(seed))
        trainer.recordedConfiguration = recordedConfiguration
        trainer.callbacks.append(GANFinalFigures(training: self, generator: RandomGenerator(seed: seed &+ 4)))
        if configuration.averageDecay != nil { trainer.callbacks.append(AverageUpdate(model.updateAverage(step:))) }
        let history = try trainer.fit(batchesPerEpoch: loader.batchCount, batches: { loader.batches(epoch: $0) }, manualStep: { batch in
            let real = modelData(batch.input), labels = conditional ? batch.target : nil
            var figures = ["discriminator_loss": 0.0, "real_score": 0, "fake_score": 0]
            if penaltyWeight > 0 { figures["gradient_penalty"] = 0 }
            if realPenaltyWeight > 0 { figures["r1_penalty"] = 0 }
            let n = real.shape[0], chunk = (n + discriminatorSteps - 1) / discriminatorSteps
            var chunks = 0
            // The last chunk's samples are generated with recording and serve the generator's
            // update too (as PyTorch's DCGAN example): one generator forward pass fewer a step.
            var generated: (samples: Tensor, labels: Tensor?)? = nil
            for start in stride(from: 0, to: n, by: chunk) {
                let length = Swift.min(chunk, n - start)
                let x = real.narrowed(axis: 0, start: start, length: length)
                let y = labels?.narrowed(axis: 0, start: start, length: length)
                discriminatorOptimizer.zeroGradients()
                let z = model.noise(length, generator: noise)
                let fake: Tensor
                if start + length >= n {
                    let live = model.generator(z, labels: y)
                    generated = (live, y)
                    fake = live.detached()
                } else {
                    fake = withoutGradients { model.generator(z, labels: y) }
                }
                let realScores: Tensor, r1: Tensor?
                if realPenaltyWeight > 0 {
                    (r1, realScores) = realGradientPenalty(critic: { model.discriminator($0, labels: y) }, real: x)
                } else {
                    (r1, realScores) = (nil, model.discriminator(x, labels: y))
                }
                let fakeScores = model.discriminator(fake, labels: y)
                let adversarial = configuration.loss.discriminatorLoss(real: realScores, fake: fakeScores)
                var loss = adversarial
                if let r1 {
                    loss = loss + r1 * (realPenaltyWeight / 2)
                    figures["r1_penalty"]! += r1.item(as: Double.self)
                }
                if penaltyWeight > 0 {
                    let penalty = gradientPenalty(critic: { model.discriminator($0, labels: y) }, real: x, fake: fake, generator: noise)
                    loss = loss + penalty * penaltyWeight
                    figures["gradient_penalty"]! += penalty.item(as: Double.self)
                }
                loss.backward()
                discriminatorOptimizer.step()
                figures["discriminator_loss"]! += adversarial.item(as: Double.self)
                figures["real_score"]! += realScores.mean().item(as: Double.self)
                figures["fake_score"]! += fakeScores.mean().item(as: Double.self)
                chunks += 1
            }
            for key in Array(figures.keys) { figures[key]! /= Double(chunks) }
            generatorOptimizer.zeroGradients()
            let (fake, y) = generated!
            let generatorLoss = configuration.loss.generatorLoss(fake: model.discriminator(fake, labels: y))
            generatorLoss.backward()
            generatorOptimizer.step()
            figures["generator_loss"] = generatorLoss.item(as: Double.self)
            return ManualStepOutput(figures: figures, count: n)
        }, evaluate: {
            let samples = model.sample(noise: fixedZ, labels: fixedLabels)
            let name = "samples-epoch-\(String(format: "%03d", trainer.epoch)).png"
            if configuration.isImage {
                try saveImageGrid(samples, to: "\(outputDirectory)/\(name)", columns: columns)
                try saveImageGrid(samples, to: "\(outputDirectory)/samples.png", columns: columns)
                // The classifier's verdict every epoch, on the same draws each time.
                guard let sampleClassifier else { return [:] }
                let judged = model.sample(noise: judgedZ, labels: judgedLabels)
                return SampleClassification(classifier: sampleClassifier, images: judged, conditionedOn: judgedLabels).figures
                    .filter { !$0.key.hasPrefix("class_fraction_") || $0.key == "class_fraction_min" || $0.key == "class_fraction_max" }
            }
            try savePoints(samples, name: name)
            return pointFigures(samples)
        })
        var metadata = modelMetadata
        metadata["kind"] = "gan"
        metadata["config"] = String(decoding: try JSONEncoder().encode(configuration), as: UTF8.self)
        try trainer.saveModel(to: "\(outputDirectory)/model.h5", metadata: metadata)
        return history
    }

    /// The scatter plot of 2-D samples over the held-out points (first two dimensions).
    func savePoints(_ samples: Tensor, name: String) throws {
        guard samples.shape[1] == 2 else { return }
        let reference = referencePoints ?? samples
        try saveScatterPlot(samples: samples, over: reference, to: "\(outputDirectory)/\(name)")
        try saveScatterPlot(samples: samples, over: reference, to: "\(outputDirectory)/samples.png")
    }

    /// `mmd` against the held-out points, and the mode measures where modes are known.
    func pointFigures(_ samples: Tensor) -> [String: Double] {
        var figures: [String: Double] = [:]
        if let referencePoints { figures["mmd"] = maximumMeanDiscrepancy(samples, referencePoints) }
        if let modes {
            let coverage = ModeCoverage(samples: samples, centers: modes.centers, standardDeviation: modes.standardDeviation)
            figures["mode_coverage"] = coverage.fraction
            figures["within_3_sigma"] = coverage.withinThreeSigma
        }
        return figures
    }
}

/// The end-of-run figures: the classifier's verdict on generated images.
final class GANFinalFigures: TrainingCallback {
    let training: GANTraining
    let generator: RandomGenerator

    init(training: GANTraining, generator: RandomGenerator) {
        self.training = training
        self.generator = generator
    }

    func finalFiguresWillBeWritten(_ trainer: Trainer, final: inout [String: Double]) {
        let model = training.model, count = training.evaluationSamples
        let labels = model.configuration.classCount.map { k in Tensor((0..<count).map { Int64($0 % k) }) }
        let samples = model.sample(count: count, labels: labels, generator: generator)
        guard model.configuration.isImage, let classifier = training.sampleClassifier else { return }
        let verdict = SampleClassification(classifier: classifier, images: samples, conditionedOn: labels)
        final.merge(verdict.figures) { _, new in new }
        training.log(verdict.summary)
    }
}
