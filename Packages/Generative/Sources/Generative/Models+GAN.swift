import NN
import Optim
import TensorCore
import Vision

/// How to build a `GAN` (Codable: recorded in checkpoints and `results.json`).
public struct GANConfiguration: Codable, Equatable, Sendable {
    /// Generator and discriminator networks.
    public enum Architecture: String, Codable, Sendable, CaseIterable {
        /// Fully connected networks of three hidden layers (ReLU in the generator, leaky ReLU
        /// 0.2 in the discriminator): points or small images.
        case mlp
        /// Radford et al. 2016 for 28×28-like images (sides divisible by 4): the generator a
        /// dense layer to `2·width` maps of a quarter side, then two stride-2 4×4 transposed
        /// convolutions with batch norm and ReLU, tanh out; the discriminator two stride-2 4×4
        /// convolutions (`width`, `2·width`) with leaky ReLU 0.2, then a dense score.
        case dcgan
    }

    /// Generator and discriminator networks.
    public var architecture: Architecture
    /// The shape of one sample: `[D]` for points, `[C, H, W]` for images (in [0, 1] outside
    /// the model, [−1, 1] inside).
    public var dataShape: [Int]
    /// Dimensions of the generator's noise z.
    public var latentSize: Int
    /// Hidden width of the MLPs, or the DCGAN's base channel count (the generator's, and the
    /// discriminator's unless `discriminatorWidth` is set).
    public var width: Int
    /// The discriminator's width when it differs from the generator's (nil: `width`; files
    /// written before it have none).
    public var discriminatorWidth: Int?
    /// Classes for a conditional GAN (the one-hot label joins the generator's noise and the
    /// discriminator's input, as maps for images); nil for an unconditional one.
    public var classCount: Int?
    /// The adversarial objective.
    public var loss: GANLoss
    /// Spectral normalisation of every discriminator layer (Miyato et al. 2018).
    public var spectralNorm: Bool
    /// Batch normalisation in the DCGAN discriminator (off for a gradient penalty, which is
    /// defined per sample, and with spectral normalisation).
    public var discriminatorBatchNorm: Bool
    /// Decay of an exponential moving average of the generator's weights (Yazıcı et al. 2019),
    /// which sampling then uses; nil for none (files written before it have none).
    public var averageDecay: Double?

    /// A configuration; the defaults are the DCGAN for MNIST.
    public init(architecture: Architecture = .dcgan, dataShape: [Int] = [1, 28, 28], latentSize: Int = 64, width: Int = 32,
                discriminatorWidth: Int? = nil, classCount: Int? = nil, loss: GANLoss = .nonSaturating, spectralNorm: Bool = false,
                discriminatorBatchNorm: Bool = true, averageDecay: Double? = nil) {
        self.architecture = architecture
        self.dataShape = dataShape
        self.latentSize = latentSize
        self.width = width
        self.discriminatorWidth = discriminatorWidth
        self.classCount = classCount
        self.loss = loss
        self.spectralNorm = spectralNorm
        self.discriminatorBatchNorm = discriminatorBatchNorm
        self.averageDecay = averageDecay
    }

    /// The discriminator's width.
    public var criticWidth: Int { discriminatorWidth ?? width }

    /// Whether samples are images (`[C, H, W]`).
    public var isImage: Bool { dataShape.count == 3 }

    /// Stops naming the values when the configuration cannot build a model.
    func validate() {
        tensorCheck((dataShape.count == 1 || dataShape.count == 3) && dataShape.allSatisfy { $0 > 0 },
                    "[GAN] dataShape \(dataShape) should be [D] or [C, H, W]")
        tensorCheck(averageDecay.map { $0 >= 0 && $0 < 1 } ?? true, "[GAN] averageDecay \(averageDecay ?? 0) must be in [0, 1)")
        tensorCheck(latentSize > 0 && width > 0 && criticWidth > 0,
                    "[GAN] latentSize \(latentSize), width \(width) and discriminatorWidth \(criticWidth) must be positive")
        tensorCheck(classCount.map { $0 > 1 } ?? true, "[GAN] classCount \(classCount ?? 0) must be at least 2")
        if architecture == .dcgan {
            tensorCheck(isImage && dataShape[1] % 4 == 0 && dataShape[2] % 4 == 0,
                        "[GAN] a DCGAN needs images with sides divisible by 4, got dataShape \(dataShape)")
        }
    }
}

/// The generator: noise z `[N, latentSize]` (and labels) to samples in the model's range
/// ([−1, 1] for images, the data's own for points).
public final class GANGenerator: Module {
    let configuration: GANConfiguration
    let network: Sequential

    init(_ configuration: GANConfiguration, generator: RandomGenerator?) {
        self.configuration = configuration
        let input = configuration.latentSize + (configuration.classCount ?? 0), width = configuration.width
        let shape = configuration.dataShape, size = shape.reduce(1, *)
        switch configuration.architecture {
        case .mlp:
            var layers: [Module] = [
                Linear(inputSize: input, outputSize: width, generator: generator), ReLU(),
                Linear(inputSize: width, outputSize: width, generator: generator), ReLU(),
                Linear(inputSize: width, outputSize: width, generator: generator), ReLU(),
                Linear(inputSize: width, outputSize: size, generator: generator),
            ]
            if configuration.isImage { layers += [Tanh(), Unflatten(axis: 1, sizes: shape)] }
            network = Sequential(layers)
        case .dcgan:
            let (c, h, w) = (shape[0], shape[1], shape[2])
            network = Sequential([
                Linear(inputSize: input, outputSize: 2 * width * (h / 4) * (w / 4), generator: generator),
                Unflatten(axis: 1, sizes: [2 * width, h / 4, w / 4]), BatchNorm2d(featureCount: 2 * width), ReLU(),
                ConvTranspose2d(inputChannels: 2 * width, outputChannels: width, kernelSize: 4, stride: 2, padding: 1, generator: generator),
                BatchNorm2d(featureCount: width), ReLU(),
                ConvTranspose2d(inputChannels: width, outputChannels: c, kernelSize: 4, stride: 2, padding: 1, generator: generator),
                Tanh(),
            ])
        }
    }

    /// Samples for noise `z` and `labels` (conditional).
    public func callAsFunction(_ z: Tensor, labels: Tensor?) -> Tensor {
        tensorCheck(z.rank == 2 && z.shape[1] == configuration.latentSize,
                    "[GAN.generate] z \(shapeText(z.shape)) should be [N, \(configuration.latentSize)]")
        return network(Conditioning.appendingOneHot(z, labels, classCount: configuration.classCount, model: "GAN.generate"))
    }
}

/// The discriminator (critic): samples in the model's range (and labels) to one raw score each, `[N]`.
public final class GANDiscriminator: Module {
    let configuration: GANConfiguration
    let network: Sequential

    init(_ configuration: GANConfiguration, generator: RandomGenerator?) {
        self.configuration = configuration
        let classes = configuration.classCount ?? 0, width = configuration.criticWidth, shape = configuration.dataShape
        let normalized: (Module) -> Module = { configuration.spectralNorm ? SpectralNorm($0, generator: generator) : $0 }
        switch configuration.architecture {
        case .mlp:
            network = Sequential([
                normalized(Linear(inputSize: shape.reduce(1, *) + classes, outputSize: width, generator: generator)), LeakyReLU(negativeSlope: 0.2),
                normalized(Linear(inputSize: width, outputSize: width, generator: generator)), LeakyReLU(negativeSlope: 0.2),
                normalized(Linear(inputSize: width, outputSize: width, generator: generator)), LeakyReLU(negativeSlope: 0.2),
                normalized(Linear(inputSize: width, outputSize: 1, generator: generator)),
            ])
        case .dcgan:
            let (c, h, w) = (shape[0], shape[1], shape[2])
            var layers: [Module] = [
                normalized(Conv2d(inputChannels: c + classes, outputChannels: width, kernelSize: 4, stride: 2, padding: 1, generator: generator)),
                LeakyReLU(negativeSlope: 0.2),
                normalized(Conv2d(inputChannels: width, outputChannels: 2 * width, kernelSize: 4, stride: 2, padding: 1, generator: generator)),
            ]
            if configuration.discriminatorBatchNorm && !configuration.spectralNorm { layers.append(BatchNorm2d(featureCount: 2 * width)) }
            layers += [LeakyReLU(negativeSlope: 0.2), Flatten(),
                       normalized(Linear(inputSize: 2 * width * (h / 4) * (w / 4), outputSize: 1, generator: generator))]
            network = Sequential(layers)
        }
    }

    /// One score per sample of `x` (`[N] + dataShape`).
    public func callAsFunction(_ x: Tensor, labels: Tensor?) -> Tensor {
        tensorCheck(x.rank == configuration.dataShape.count + 1 && Array(x.shape.dropFirst()) == configuration.dataShape,
                    "[GAN.discriminate] samples \(shapeText(x.shape)) should be [N, \(configuration.dataShape.map(String.init).joined(separator: ", "))]")
        let input: Tensor
        if configuration.architecture == .dcgan {
            input = Conditioning.appendingOneHotMaps(x, labels, classCount: configuration.classCount, model: "GAN.discriminate")
        } else {
            input = Conditioning.appendingOneHot(x.reshaped(to: [x.shape[0], -1]), labels, classCount: configuration.classCount,
                                                 model: "GAN.discriminate")
        }
        return network(input).reshaped(to: [x.shape[0]])
    }
}

/// A generative adversarial network (Goodfellow et al. 2014): a generator and a discriminator
/// trained against each other under `configuration.loss` — the non-saturating GAN, DCGAN,
/// conditional GAN, WGAN-GP (with `gradientPenalty`) or hinge loss with a spectrally
/// normalised discriminator. `GANTraining` alternates their updates.
///
/// Images are in [0, 1] outside the model (`sample`, `toModel`) and [−1, 1] inside.
public final class GAN: Module {
    /// How it was built.
    public let configuration: GANConfiguration
    /// z (and labels) to samples.
    public let generator: GANGenerator
    /// Samples (and labels) to scores.
    public let discriminator: GANDiscriminator
    /// The moving average of the generator's weights (frozen), what sampling uses, when
    /// `configuration.averageDecay` is set.
    public let averageGenerator: GANGenerator?
    let average: ExponentialMovingAverage?

    /// A GAN initialised from `generator` (the global stream when nil).
    public init(_ configuration: GANConfiguration, generator: RandomGenerator? = nil) {
        configuration.validate()
        self.configuration = configuration
        self.generator = GANGenerator(configuration, generator: generator)
        self.discriminator = GANDiscriminator(configuration, generator: generator)
        // Radford et al.'s initialisation: with PyTorch's default (Kaiming-uniform) layers the
        // width-32 DCGAN reached 60 % confident samples after 3 epochs and 63 % after 10; with
        // N(0, 0.02) 60 % and 67 % (MNIST, seed 0).
        if configuration.architecture == .dcgan {
            Self.radfordInitialization(self.generator, generator: generator)
            Self.radfordInitialization(self.discriminator, generator: generator)
        }
        if let decay = configuration.averageDecay {
            let copy = GANGenerator(configuration, generator: nil)
            averageGenerator = copy
            // With the warm-up (decay min(d, (1 + n) / (10 + n)) at update n) the average
            // forgets the random initialisation within the first few hundred updates.
            average = ExponentialMovingAverage(source: self.generator.parameters(), average: copy.parameters(), decay: decay, warmup: true)
        } else {
            averageGenerator = nil
            average = nil
        }
        super.init()
    }

    /// One update of the generator's moving average (after each generator step; nothing
    /// without one). `step`, the generator updates taken (1 after the first), sets the
    /// warm-up's position, so a resumed run continues it where it was. Batch norm's running
    /// statistics are copied, not averaged (as StyleGAN2's G_ema): they describe activations,
    /// not weights.
    public func updateAverage(step: Int? = nil) {
        guard let average, let averageGenerator else { return }
        if let step { average.updateCount = Swift.max(0, step - 1) }
        average.update()
        withoutGradients {
            for ((_, live), (_, copy)) in zip(generator.namedBuffers(), averageGenerator.namedBuffers()) { copy.value = live.value.copied() }
        }
    }

    /// Radford et al.'s initialisation: convolution and dense weights N(0, 0.02), batch norm's
    /// scales N(1, 0.02), biases 0.
    static func radfordInitialization(_ network: Module, generator: RandomGenerator?) {
        withoutGradients {
            for (_, module) in network.namedModules() {
                let weight: Parameter?, bias: Parameter?, mean: Double
                if let m = module as? Conv2d { (weight, bias, mean) = (m.weight, m.bias, 0) }
                else if let m = module as? ConvTranspose2d { (weight, bias, mean) = (m.weight, m.bias, 0) }
                else if let m = module as? Linear { (weight, bias, mean) = (m.weight, m.bias, 0) }
                else if let m = module as? BatchNorm2d { (weight, bias, mean) = (m.weight, m.bias, 1) }
                else { continue }
                if let weight {
                    weight.value = Initializer.normal(weight.value.shape, mean: mean, standardDeviation: 0.02,
                                                      dtype: weight.value.dtype, generator: generator)
                }
                if let bias { bias.value = Tensor.zeros(like: bias.value) }
            }
        }
    }

    /// The generator samples come from: the average when there is one.
    public var samplingGenerator: GANGenerator { averageGenerator ?? generator }

    /// The device the parameters live on.
    var parameterDevice: Device { generator.parameters()[0].value.device }

    /// Data (images in [0, 1]) in the model's range.
    public func toModel(_ x: Tensor) -> Tensor { configuration.isImage ? x * 2 - 1 : x }

    /// The model's samples in the data's range (images clamped to [0, 1]).
    public func fromModel(_ x: Tensor) -> Tensor { configuration.isImage ? ((x + 1) * 0.5).clamped(min: 0, max: 1) : x }

    /// Noise for `count` samples.
    public func noise(_ count: Int, generator: RandomGenerator? = nil) -> Tensor {
        Tensor.randn([count, configuration.latentSize], generator: generator).moved(to: parameterDevice)
    }

    /// `count` samples in the data's range (`labels` `[count]` for a conditional GAN), drawn in
    /// evaluation mode (batch norm's running statistics) without recording.
    public func sample(count: Int, labels: Tensor? = nil, generator noiseGenerator: RandomGenerator? = nil) -> Tensor {
        tensorCheck(count > 0, "[GAN.sample] count \(count) must be positive")
        return sample(noise: noise(count, generator: noiseGenerator), labels: labels)
    }

    /// Samples from given noise `z` (`[count, latentSize]`), in evaluation mode, in the data's range.
    func sample(noise z: Tensor, labels: Tensor?) -> Tensor {
        let wasTraining = isTraining
        eval()
        defer { train(wasTraining) }
        return withoutGradients { fromModel(self.samplingGenerator(z, labels: labels)) }
    }
}
