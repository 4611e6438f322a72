import Foundation
import NN
import Optim
import TensorCore
import Training
import Vision

/// The fully convolutional network of Wang, Yan and Oates (2017), the strong baseline of the
/// UCR archive: three blocks of 1-D convolution, batch normalisation and ReLU, a global
/// average over time, and a linear classifier. Any series length.
///
/// Shape: `[N, channels, length] -> [N, classes]` (logits).
public final class FullyConvolutionalClassifier: Module {
    /// Convolution, batch norm and ReLU blocks, in order.
    public let blocks: Sequential
    /// `[N, widths.last] -> [N, classes]`.
    public let classifier: Linear

    /// Blocks of `widths` channels with `kernelSizes` (the paper: 128, 256, 128 with 8, 5, 3),
    /// padded to keep the length; PyTorch's initialisation from `generator`.
    public init(inputChannels: Int, classes: Int, widths: [Int] = [128, 256, 128], kernelSizes: [Int] = [8, 5, 3],
                generator: RandomGenerator? = nil) {
        tensorCheck(inputChannels > 0 && classes > 1 && !widths.isEmpty && widths.count == kernelSizes.count
                    && widths.allSatisfy({ $0 > 0 }) && kernelSizes.allSatisfy({ $0 > 0 }),
                    "[FullyConvolutionalClassifier] inputChannels \(inputChannels), classes \(classes), widths \(widths) and "
                    + "kernelSizes \(kernelSizes) should be positive, one kernel size per width, two or more classes")
        var modules: [Module] = [], channels = inputChannels
        for (width, k) in zip(widths, kernelSizes) {
            // An even kernel with k/2 padding adds one step; the global average does not care.
            modules += [Conv1d(inputChannels: channels, outputChannels: width, kernelSize: k, padding: k / 2, generator: generator),
                        BatchNorm1d(featureCount: width), ReLU()]
            channels = width
        }
        blocks = Sequential(modules)
        classifier = Linear(inputSize: channels, outputSize: classes, generator: generator)
        super.init()
    }

    public override func forward(_ x: Tensor) -> Tensor {
        tensorCheck(x.rank == 3, "[FullyConvolutionalClassifier] input \(shapeText(x.shape)) should be [batch, channels, length]")
        return classifier(blocks(x).mean(axes: [2]))
    }
}

/// Trains a series classifier on a labelled train split and reports its test accuracy.
public enum SeriesClassification {
    /// How a run trains; `Codable` for results.json.
    public struct Configuration: Codable, Equatable, Sendable {
        /// Channel widths of the network's blocks.
        public var widths = [64, 128, 64]
        /// Kernel sizes of the blocks.
        public var kernelSizes = [8, 5, 3]
        /// Passes over the training split.
        public var epochs = 300
        /// Series per step.
        public var batchSize = 16
        /// Adam's peak rate, cosine-annealed to 0.
        public var learningRate = 1e-3
        /// Initialisation and shuffling seed.
        public var seed: UInt64 = 0
        /// The defaults.
        public init() {}
    }

    /// Trains a `FullyConvolutionalClassifier` on `train` (inputs `[N, C, L]`, int64 class
    /// targets) for `classes` classes, evaluating on `test` after every epoch (`test_loss`,
    /// `test_accuracy`).
    public static func fit(train: TensorDataset, test: TensorDataset, classes: Int, configuration c: Configuration,
                           log: @escaping (String) -> Void = { print($0) }) throws -> (model: FullyConvolutionalClassifier, trainer: Trainer) {
        tensorCheck(train.inputs.rank == 3 && test.inputs.rank == 3 && train.inputs.shape[1] == test.inputs.shape[1],
                    "[SeriesClassification] train \(shapeText(train.inputs.shape)) and test \(shapeText(test.inputs.shape)) "
                    + "should be [N, channels, length] with the same channels")
        let model = FullyConvolutionalClassifier(inputChannels: train.inputs.shape[1], classes: classes, widths: c.widths,
                                                 kernelSizes: c.kernelSizes, generator: RandomGenerator(seed: c.seed))
        let loader = DataLoader(train, batchSize: c.batchSize, sampler: RandomSampler(seed: c.seed), prefetch: false)
        let optimizer = Adam(parameters: model.parameters(), learningRate: c.learningRate)
        let trainer = Trainer(model: model, optimizer: optimizer,
                              schedule: CosineAnnealingSchedule(optimizer, maxSteps: c.epochs * loader.batchCount),
                              configuration: TrainerConfiguration(epochs: c.epochs, showsProgress: false))
        trainer.log = thinnedEpochLog(every: 25, epochs: c.epochs, log)
        try trainer.fit(loader, evaluating: DataLoader(test, batchSize: 256, prefetch: false), as: "test")
        return (model, trainer)
    }
}
