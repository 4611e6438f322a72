import NN
import TensorCore
import Vision

/// How to build a `VAE` (Codable: recorded in checkpoints and `results.json`).
public struct VAEConfiguration: Codable, Equatable, Sendable {
    /// Encoder and decoder networks.
    public enum Architecture: String, Codable, Sendable, CaseIterable {
        /// Two hidden fully connected layers each way.
        case mlp
        /// Two stride-2 4×4 convolutions then a dense layer; the decoder mirrors it with
        /// transposed convolutions (image sides divisible by 4).
        case convolutional
    }

    /// p(x | z).
    public enum Likelihood: String, Codable, Sendable, CaseIterable {
        /// Per-pixel Bernoulli on intensities in [0, 1]; the decoder gives logits.
        case bernoulli
        /// Per-pixel Gaussian around the decoder's output with one learned scale (σ-VAE).
        case gaussian
    }

    /// Encoder and decoder networks.
    public var architecture: Architecture
    /// `[channels, height, width]` of an image.
    public var imageShape: [Int]
    /// Dimensions of z.
    public var latentSize: Int
    /// Width of the dense layers.
    public var hiddenSize: Int
    /// p(x | z).
    public var likelihood: Likelihood
    /// Weight of the KL term (β-VAE; 1 is the ELBO).
    public var beta: Double
    /// Classes for a conditional VAE (the one-hot label joins the encoder's and decoder's
    /// dense inputs); nil for an unconditional one.
    public var classCount: Int?

    /// A configuration; the defaults are MNIST's convolutional VAE.
    public init(architecture: Architecture = .convolutional, imageShape: [Int] = [1, 28, 28], latentSize: Int = 32,
                hiddenSize: Int = 512, likelihood: Likelihood = .bernoulli, beta: Double = 1, classCount: Int? = nil) {
        self.architecture = architecture
        self.imageShape = imageShape
        self.latentSize = latentSize
        self.hiddenSize = hiddenSize
        self.likelihood = likelihood
        self.beta = beta
        self.classCount = classCount
    }

    /// Elements of one image.
    public var pixelCount: Int { imageShape.reduce(1, *) }

    /// Stops naming the values when the configuration cannot build a model.
    func validate() {
        tensorCheck(imageShape.count == 3 && imageShape.allSatisfy { $0 > 0 }, "[VAE] imageShape \(imageShape) should be [C, H, W]")
        tensorCheck(latentSize > 0 && hiddenSize > 0, "[VAE] latentSize \(latentSize) and hiddenSize \(hiddenSize) must be positive")
        tensorCheck(beta >= 0 && beta.isFinite, "[VAE] beta \(beta) must be a non-negative number")
        tensorCheck(classCount.map { $0 > 1 } ?? true, "[VAE] classCount \(classCount!) must be at least 2")
        if architecture == .convolutional {
            tensorCheck(imageShape[1] % 4 == 0 && imageShape[2] % 4 == 0,
                        "[VAE] a convolutional VAE needs sides divisible by 4, got \(imageShape[1])×\(imageShape[2])")
        }
    }
}

/// A variational autoencoder (Kingma & Welling 2014): an encoder q(z | x) = N(μ(x), diag σ²(x)),
/// a decoder p(x | z) and a standard normal prior; trained by maximising the ELBO
/// (`negativeELBO`), with the reconstruction and KL terms kept apart, β-weighting and an
/// optional class condition; `iwaeNegativeLogLikelihood` gives the tighter importance-weighted
/// bound (Burda et al. 2016).
///
/// Shapes: images `[N, C, H, W]` in [0, 1], labels `[N]` int64 (conditional), z `[N, latentSize]`.
public final class VAE: Module {
    /// How it was built.
    public let configuration: VAEConfiguration
    let encoderBody: Sequential
    let encoderHead: Sequential
    let decoderHead: Sequential
    let decoderBody: Sequential
    /// log σ of the Gaussian likelihood (one learned scalar; unused for Bernoulli).
    public let logScale: Parameter

    /// A VAE initialised from `generator` (the global stream when nil).
    public init(_ configuration: VAEConfiguration, generator: RandomGenerator? = nil) {
        configuration.validate()
        self.configuration = configuration
        let (c, h, w) = (configuration.imageShape[0], configuration.imageShape[1], configuration.imageShape[2])
        let hidden = configuration.hiddenSize, latent = configuration.latentSize, classes = configuration.classCount ?? 0
        switch configuration.architecture {
        case .mlp:
            encoderBody = Sequential([Flatten()])
            encoderHead = Sequential([
                Linear(inputSize: c * h * w + classes, outputSize: hidden, generator: generator), ReLU(),
                Linear(inputSize: hidden, outputSize: hidden, generator: generator), ReLU(),
                Linear(inputSize: hidden, outputSize: 2 * latent, generator: generator),
            ])
            decoderHead = Sequential([
                Linear(inputSize: latent + classes, outputSize: hidden, generator: generator), ReLU(),
                Linear(inputSize: hidden, outputSize: hidden, generator: generator), ReLU(),
                Linear(inputSize: hidden, outputSize: c * h * w, generator: generator),
            ])
            decoderBody = Sequential([Unflatten(axis: 1, sizes: [c, h, w])])
        case .convolutional:
            let features = 64 * (h / 4) * (w / 4)
            encoderBody = Sequential([
                Conv2d(inputChannels: c, outputChannels: 32, kernelSize: 4, stride: 2, padding: 1, generator: generator), ReLU(),
                Conv2d(inputChannels: 32, outputChannels: 64, kernelSize: 4, stride: 2, padding: 1, generator: generator), ReLU(),
                Flatten(),
            ])
            encoderHead = Sequential([
                Linear(inputSize: features + classes, outputSize: hidden, generator: generator), ReLU(),
                Linear(inputSize: hidden, outputSize: 2 * latent, generator: generator),
            ])
            decoderHead = Sequential([
                Linear(inputSize: latent + classes, outputSize: hidden, generator: generator), ReLU(),
                Linear(inputSize: hidden, outputSize: features, generator: generator), ReLU(),
            ])
            decoderBody = Sequential([
                Unflatten(axis: 1, sizes: [64, h / 4, w / 4]),
                ConvTranspose2d(inputChannels: 64, outputChannels: 32, kernelSize: 4, stride: 2, padding: 1, generator: generator), ReLU(),
                ConvTranspose2d(inputChannels: 32, outputChannels: c, kernelSize: 4, stride: 2, padding: 1, generator: generator),
            ])
        }
        logScale = Parameter(Tensor.zeros([1]))
        super.init()
    }

    /// The one-hot condition appended to a dense input, or the input unchanged.
    func conditioned(_ features: Tensor, _ labels: Tensor?, _ op: String) -> Tensor {
        Conditioning.appendingOneHot(features, labels, classCount: configuration.classCount, model: "VAE.\(op)")
    }

    /// The posterior's mean and log-variance, each `[N, latentSize]`.
    public func encode(_ x: Tensor, labels: Tensor? = nil) -> (mean: Tensor, logVariance: Tensor) {
        tensorCheck(x.rank == 4 && Array(x.shape.dropFirst()) == configuration.imageShape,
                    "[VAE.encode] images \(shapeText(x.shape)) should be [N, \(configuration.imageShape.map(String.init).joined(separator: ", "))]")
        let stats = encoderHead(conditioned(encoderBody(x), labels, "encode"))
        let latent = configuration.latentSize
        return (stats.narrowed(axis: 1, start: 0, length: latent), stats.narrowed(axis: 1, start: latent, length: latent))
    }

    /// The decoder's output for `z` `[N, latentSize]`: Bernoulli logits or Gaussian means, `[N, C, H, W]`.
    public func decode(_ z: Tensor, labels: Tensor? = nil) -> Tensor {
        tensorCheck(z.rank == 2 && z.shape[1] == configuration.latentSize,
                    "[VAE.decode] z \(shapeText(z.shape)) should be [N, \(configuration.latentSize)]")
        return decoderBody(decoderHead(conditioned(z, labels, "decode")))
    }

    /// z = μ + σ·ε with ε ~ N(0, I) from `generator`: the reparameterisation that lets gradients
    /// reach μ and σ.
    public func reparameterize(mean: Tensor, logVariance: Tensor, generator: RandomGenerator? = nil) -> Tensor {
        let epsilon = Tensor.randn(mean.shape, dtype: mean.dtype, generator: generator).moved(to: mean.device)
        return mean + (logVariance * 0.5).exp() * epsilon
    }

    /// log p(x | z) per example from the decoder's output.
    public func logLikelihood(_ x: Tensor, decoded: Tensor) -> Tensor {
        switch configuration.likelihood {
        case .bernoulli: return bernoulliLogLikelihood(logits: decoded, x: x)
        case .gaussian: return gaussianLogLikelihood(mean: decoded, logScale: logScale.value, x: x)
        }
    }

    /// What the decoder's output means as an image: sigmoid of logits, or the Gaussian mean clamped to [0, 1].
    public func image(fromDecoded decoded: Tensor) -> Tensor {
        configuration.likelihood == .bernoulli ? decoded.sigmoid() : decoded.clamped(min: 0, max: 1)
    }

    /// `count` images from the prior (`labels` `[count]` for a conditional VAE), in [0, 1].
    public func sample(count: Int, labels: Tensor? = nil, generator: RandomGenerator? = nil) -> Tensor {
        tensorCheck(count > 0, "[VAE.sample] count \(count) must be positive")
        let z = Tensor.randn([count, configuration.latentSize], generator: generator).moved(to: logScale.value.device)
        return image(fromDecoded: decode(z, labels: labels))
    }

    /// Mean reconstructions of `x` (decoded from the posterior means), in [0, 1].
    public func reconstruct(_ x: Tensor, labels: Tensor? = nil) -> Tensor {
        image(fromDecoded: decode(encode(x, labels: labels).mean, labels: labels))
    }

    /// Images decoded along the straight line between the posterior means of `a` and `b`
    /// (`[1, C, H, W]` each), `steps` of them including both ends.
    public func interpolate(_ a: Tensor, _ b: Tensor, steps: Int, labels: Tensor? = nil) -> Tensor {
        tensorCheck(steps >= 2, "[VAE.interpolate] steps \(steps) must be at least 2")
        let za = encode(a, labels: labels).mean, zb = encode(b, labels: labels).mean
        let t = Tensor((0..<steps).map { Float($0) / Float(steps - 1) }, shape: [steps, 1]).moved(to: za.device)
        let z = za * (t * -1 + 1) + zb * t
        return image(fromDecoded: decode(z, labels: labels.map { $0.expanded(to: [steps]).contiguous() }))
    }
}
