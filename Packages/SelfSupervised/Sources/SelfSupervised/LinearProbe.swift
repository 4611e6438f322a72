import NN
import Optim
import TensorCore
import Training

/// The linear evaluation protocol of self-supervised learning: a linear classifier (softmax
/// regression) trained on frozen features, standardised with the training features'
/// statistics, and scored on the test features. The same procedure on raw pixels is the
/// baseline a representation must beat.
public enum LinearProbe {
    /// How the probe trains.
    public struct Configuration: Codable, Equatable, Sendable {
        /// Passes over the training features.
        public var epochs = 20
        /// Examples per step.
        public var batchSize = 256
        /// Adam's rate, cosine-annealed to 0.
        public var learningRate = 1e-3
        /// Adam's L2 weight decay.
        public var weightDecay = 1e-5
        /// Initialisation and shuffling seed.
        public var seed: UInt64 = 0
        /// The defaults.
        public init() {}
    }

    /// Train and test accuracy of a linear classifier of `classes` on features `[N, d]`.
    public static func fit(train: TensorDataset, test: TensorDataset, classes: Int, configuration c: Configuration = Configuration(),
                           log: @escaping (String) -> Void = { _ in }) throws -> (trainAccuracy: Double, testAccuracy: Double) {
        tensorCheck(train.inputs.rank == 2 && test.inputs.rank == 2 && train.inputs.shape[1] == test.inputs.shape[1],
                    "[LinearProbe] train \(shapeText(train.inputs.shape)) and test \(shapeText(test.inputs.shape)) features should be [N, d] alike")
        let x = train.inputs.cast(to: .float32)
        // A constant feature (MNIST's corner pixels) keeps scale 1, as scikit-learn's scaler.
        let mean = x.mean(axes: [0], keepDims: true), spread = x.variance(axes: [0], correction: 0, keepDims: true).sqrt()
        let std = Tensor.where(spread .< 1e-7, Tensor.ones(spread.shape), spread)
        func standardised(_ data: TensorDataset) -> TensorDataset {
            TensorDataset(inputs: ((data.inputs.cast(to: .float32) - mean) / std).detached(), targets: data.targets)
        }
        let classifier = Linear(inputSize: x.shape[1], outputSize: classes, generator: RandomGenerator(seed: c.seed))
        let loader = DataLoader(standardised(train), batchSize: c.batchSize, sampler: RandomSampler(seed: c.seed))
        let optimizer = Adam(parameters: classifier.parameters(), learningRate: c.learningRate, weightDecay: c.weightDecay)
        let trainer = Trainer(model: classifier, optimizer: optimizer,
                              schedule: CosineAnnealingSchedule(optimizer, maxSteps: c.epochs * loader.batchCount),
                              configuration: TrainerConfiguration(epochs: c.epochs, showsProgress: false))
        trainer.log = log
        try trainer.fit(loader)
        let trainAccuracy = trainer.evaluate(DataLoader(standardised(train), batchSize: 2000, prefetch: false)).accuracy ?? 0
        let testAccuracy = trainer.evaluate(DataLoader(standardised(test), batchSize: 2000, prefetch: false)).accuracy ?? 0
        return (trainAccuracy, testAccuracy)
    }
}
