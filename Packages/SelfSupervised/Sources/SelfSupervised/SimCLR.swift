import NN
import TensorCore
import Vision

/// How to build a `SimCLR` model: `Codable` for results and checkpoints.
public struct SimCLRConfiguration: Codable, Equatable, Sendable {
    /// Image channels.
    public var channels: Int
    /// Channels of the encoder's convolution blocks (each block halves the size but the last).
    public var widths: [Int]
    /// Hidden width of the projection head.
    public var projectionHidden: Int
    /// Width of the projection the loss compares.
    public var projectionSize: Int
    /// The NT-Xent temperature.
    public var temperature: Double

    /// A small encoder for 28×28 gray images, the paper's head shape and temperature 0.5.
    public init(channels: Int = 1, widths: [Int] = [32, 64, 128], projectionHidden: Int = 128, projectionSize: Int = 64,
                temperature: Double = 0.5) {
        self.channels = channels
        self.widths = widths
        self.projectionHidden = projectionHidden
        self.projectionSize = projectionSize
        self.temperature = temperature
    }
}

/// SimCLR (Chen et al. 2020): an encoder `f` (convolution, batch-norm and ReLU blocks with 2×
/// max pooling between them, then a global average: the representation `h`), and a projection
/// head `g` (linear, batch norm, ReLU, linear) whose outputs `z` of two augmented views of a
/// batch are pulled together by the NT-Xent loss. The probe reads `h`, not `z`.
public final class SimCLR: Module {
    /// The shape it was built from.
    public let configuration: SimCLRConfiguration
    /// `[N, C, H, W] -> [N, widths.last, h, w]`.
    public let encoder: Sequential
    /// `[N, widths.last] -> [N, projectionSize]`.
    public let projection: Sequential

    /// A SimCLR model of `configuration`'s shape, initialised from `generator`.
    public init(_ configuration: SimCLRConfiguration, generator: RandomGenerator? = nil) {
        let c = configuration
        tensorCheck(c.channels > 0 && !c.widths.isEmpty && c.widths.allSatisfy({ $0 > 0 }) && c.projectionHidden > 0
                    && c.projectionSize > 0 && c.temperature > 0,
                    "[SimCLR] channels \(c.channels), widths \(c.widths), head \(c.projectionHidden)→\(c.projectionSize) and "
                    + "temperature \(c.temperature) must be positive")
        self.configuration = c
        var modules: [Module] = [], channels = c.channels
        for (k, width) in c.widths.enumerated() {
            modules += [Conv2d(inputChannels: channels, outputChannels: width, kernelSize: 3, padding: 1, bias: false, generator: generator),
                        BatchNorm2d(featureCount: width), ReLU()]
            if k < c.widths.count - 1 { modules.append(MaxPool2d(kernelSize: 2)) }
            channels = width
        }
        encoder = Sequential(modules)
        projection = Sequential(Linear(inputSize: channels, outputSize: c.projectionHidden, generator: generator),
                                BatchNorm1d(featureCount: c.projectionHidden), ReLU(),
                                Linear(inputSize: c.projectionHidden, outputSize: c.projectionSize, generator: generator))
        super.init()
    }

    /// The representation `h` `[N, widths.last]` of images `[N, C, H, W]`.
    public func represent(_ x: Tensor) -> Tensor { encoder(x).mean(axes: [2, 3]) }

    /// The projection `z` of images.
    public override func forward(_ x: Tensor) -> Tensor { projection(represent(x)) }

    /// NT-Xent between the projections of two views of one batch.
    public func loss(_ view1: Tensor, _ view2: Tensor) -> Tensor {
        tensorCheck(view1.shape == view2.shape, "[SimCLR.loss] views \(shapeText(view1.shape)) and \(shapeText(view2.shape)) differ")
        // One pass over both views: batch-norm statistics over the 2N images, as the paper.
        let z = self(Tensor.concatenated([view1, view2], axis: 0))
        let n = view1.shape[0]
        return ntXentLoss(z.narrowed(axis: 0, start: 0, length: n), z.narrowed(axis: 0, start: n, length: n),
                          temperature: configuration.temperature)
    }

    /// Representations of `images` in eval mode without gradients, `batchSize` at a time.
    public func representations(_ images: Tensor, batchSize: Int = 500) -> Tensor {
        let wasTraining = isTraining
        eval()
        defer { train(wasTraining) }
        return withoutGradients {
            Tensor.concatenated(stride(from: 0, to: images.shape[0], by: batchSize).map {
                represent(images.narrowed(axis: 0, start: $0, length: Swift.min(batchSize, images.shape[0] - $0)))
            }, axis: 0)
        }
    }
}

/// SimCLR's augmentation for gray images: a random resized crop (area 20–100 %), a horizontal
/// flip half the time, and a random brightness and contrast change (its colour jitter without
/// colour), each view drawn independently.
public final class SimCLRAugmentation {
    let crop: RandomResizedCrop, flip: RandomHorizontalFlip
    let generator: RandomGenerator
    /// Largest brightness shift and contrast change, as fractions.
    public let jitter: Double

    /// Views of `size`² pixels drawn from `seed`.
    public init(size: Int, scale: ClosedRange<Double> = 0.2...1, jitter: Double = 0.4, seed: UInt64) {
        crop = RandomResizedCrop(size: size, scale: scale, seed: seed)
        flip = RandomHorizontalFlip(seed: seed &+ 1)
        generator = RandomGenerator(seed: seed &+ 2)
        self.jitter = jitter
    }

    /// One augmented view of every image of `[N, C, H, W]` in [0, 1].
    public func callAsFunction(_ images: Tensor) -> Tensor {
        tensorCheck(images.rank == 4, "[SimCLRAugmentation] images \(shapeText(images.shape)) should be [N, C, H, W]")
        let n = images.shape[0]
        let views = Tensor.stacked((0..<n).map { flip(crop(images[$0])) }, axis: 0)
        // Contrast scales around the image's mean, brightness shifts it; values stay in [0, 1].
        let draws = Tensor.rand([n, 2, 1, 1, 1], low: -jitter, high: jitter, generator: generator)
        let contrast = draws.narrowed(axis: 1, start: 0, length: 1).squeezed(axis: 1) + 1
        let brightness = draws.narrowed(axis: 1, start: 1, length: 1).squeezed(axis: 1)
        let mean = views.mean(axes: [1, 2, 3], keepDims: true)
        return ((views - mean) * contrast + mean + brightness).clamped(min: 0, max: 1)
    }
}
