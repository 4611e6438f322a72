import NN
import TensorCore

/// LeNet-5 (LeCun et al. 1998) for 28×28 gray images, with ReLU and max pooling:
/// conv 6@5×5 (padding 2) → pool → conv 16@5×5 → pool → 120 → 84 → classes.
///
/// Shape: `[N, 1, 28, 28]` (or `[N, 784]`) `-> [N, classes]`.
public final class LeNet5: Module {
    /// Convolutions and pools.
    public let features: Sequential
    /// The three linear layers.
    public let classifier: Sequential

    /// LeNet-5 for `classCount` classes, initialised from `generator` (the global stream when nil).
    public init(classCount: Int = 10, generator: RandomGenerator? = nil) {
        features = Sequential(
            Conv2d(inputChannels: 1, outputChannels: 6, kernelSize: 5, padding: 2, generator: generator), ReLU(),
            MaxPool2d(kernelSize: 2),
            Conv2d(inputChannels: 6, outputChannels: 16, kernelSize: 5, generator: generator), ReLU(),
            MaxPool2d(kernelSize: 2))
        classifier = Sequential(
            Flatten(),
            Linear(inputSize: 16 * 5 * 5, outputSize: 120, generator: generator), ReLU(),
            Linear(inputSize: 120, outputSize: 84, generator: generator), ReLU(),
            Linear(inputSize: 84, outputSize: classCount, generator: generator))
    }

    public override func forward(_ x: Tensor) -> Tensor {
        let images = x.rank == 2 ? x.reshaped(to: [x.shape[0], 1, 28, 28]) : x
        tensorCheck(images.rank == 4 && Array(images.shape.dropFirst()) == [1, 28, 28],
                    "[LeNet5] input \(shapeText(x.shape)) should be [N, 1, 28, 28] or [N, 784]")
        return classifier(features(images))
    }
}
