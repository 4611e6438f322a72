import Foundation
import NN
import Optim
import TensorCore
import Training

/// SimCLR on an image classification set: pretraining on the training images without their
/// labels, then the linear probe on the frozen representation against the same probe on the
/// raw pixels.
public enum SimCLRExperiment {
    /// How the experiment runs; `Codable` for results.json.
    public struct Configuration: Codable, Equatable, Sendable {
        /// The model.
        public var model = SimCLRConfiguration()
        /// Pretraining epochs (at 4 the Fashion-MNIST probe fell just short of the pixels':
        /// 0.841 against 0.844; at 10 it passes them).
        public var epochs = 10
        /// Images per step (each gives two views: 2N − 2 negatives per positive pair).
        public var batchSize = 256
        /// Adam's peak rate, cosine-annealed to 0.
        public var learningRate = 2e-3
        /// Adam's L2 weight decay.
        public var weightDecay = 1e-6
        /// The smallest crop, as a fraction of the image's area.
        public var minimumCropArea = 0.2
        /// The probe's training.
        public var probe = LinearProbe.Configuration()
        /// Initialisation, augmentation and shuffling seed.
        public var seed: UInt64 = 0
        /// The defaults.
        public init() {}
    }

    /// What a run produced.
    public struct Result {
        /// The pretrained model.
        public var model: SimCLR
        /// Per-epoch `train_loss` (NT-Xent).
        public var history: TrainingHistory
        /// `probe_test_accuracy`, `probe_train_accuracy`, `pixel_probe_test_accuracy`,
        /// `pixel_probe_train_accuracy`, `beats_pixels` (1 or 0), `seconds`.
        public var final: [String: Double]
    }

    /// Pretrains on `train`'s images (`[N, C, H, W]`; labels unused until the probe) and
    /// probes on `train` and `test`.
    public static func run(train: TensorDataset, test: TensorDataset, classes: Int, configuration c: Configuration,
                           log: @escaping (String) -> Void = { print($0) }) throws -> Result {
        tensorCheck(train.inputs.rank == 4 && test.inputs.rank == 4, "[SimCLRExperiment] images should be [N, C, H, W]; got "
                    + "\(shapeText(train.inputs.shape)) and \(shapeText(test.inputs.shape))")
        tensorCheck(c.epochs > 0 && c.batchSize >= 2, "[SimCLRExperiment] epochs \(c.epochs) must be positive and the batch (\(c.batchSize)) at least 2")
        let started = Date()
        let model = SimCLR(c.model, generator: RandomGenerator(seed: c.seed))
        let augment = SimCLRAugmentation(size: train.inputs.shape[2], scale: c.minimumCropArea...1, seed: c.seed &+ 17)
        // Drop the last partial batch: NT-Xent's difficulty depends on the batch size.
        let loader = DataLoader(train, batchSize: c.batchSize, sampler: RandomSampler(seed: c.seed), dropLast: true)
        let optimizer = Adam(parameters: model.parameters(), learningRate: c.learningRate, weightDecay: c.weightDecay)
        let trainer = Trainer(model: model, optimizer: optimizer,
                              schedule: CosineAnnealingSchedule(optimizer, maxSteps: c.epochs * loader.batchCount),
                              configuration: TrainerConfiguration(epochs: c.epochs, showsProgress: false))
        trainer.log = log
        try trainer.fit(batchesPerEpoch: loader.batchCount, batches: { loader.batches(epoch: $0 - 1) }, step: { batch in
            TrainingStepOutput(loss: model.loss(augment(batch.input), augment(batch.input)), count: batch.input.shape[0])
        })
        func features(_ data: TensorDataset) -> TensorDataset {
            TensorDataset(inputs: model.representations(data.inputs), targets: data.targets)
        }
        func pixels(_ data: TensorDataset) -> TensorDataset {
            TensorDataset(inputs: data.inputs.reshaped(to: [data.count, -1]), targets: data.targets)
        }
        log("linear probe on the frozen representation")
        let probe = try LinearProbe.fit(train: features(train), test: features(test), classes: classes, configuration: c.probe)
        log("linear probe on the raw pixels")
        let raw = try LinearProbe.fit(train: pixels(train), test: pixels(test), classes: classes, configuration: c.probe)
        let final: [String: Double] = [
            "probe_test_accuracy": probe.testAccuracy, "probe_train_accuracy": probe.trainAccuracy,
            "pixel_probe_test_accuracy": raw.testAccuracy, "pixel_probe_train_accuracy": raw.trainAccuracy,
            "beats_pixels": probe.testAccuracy > raw.testAccuracy ? 1 : 0, "train_loss": trainer.history.epochs.last?["train_loss"] ?? .nan,
            "parameters": Double(model.parameterCount), "seconds": Date().timeIntervalSince(started),
        ]
        return Result(model: model, history: trainer.history, final: final)
    }
}
