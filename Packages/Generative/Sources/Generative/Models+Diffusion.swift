import Foundation
import NN
import Optim
import TensorCore

/// How to build a `Diffusion` model (Codable: recorded in checkpoints and `results.json`).
public struct DiffusionConfiguration: Codable, Equatable, Sendable {
    /// What the network predicts.
    public enum Prediction: String, Codable, Sendable, CaseIterable {
        /// The noise ε (Ho et al. 2020).
        case epsilon
        /// The clean image x₀.
        case x0
        /// v = √ᾱ ε − √(1 − ᾱ) x₀ (Salimans & Ho 2022).
        case v
    }

    /// `[C, H, W]` of an image (in [0, 1] outside the model, [−1, 1] inside).
    public var imageShape: [Int]
    /// Timesteps T of the forward process.
    public var timesteps: Int
    /// The βs.
    public var schedule: NoiseSchedule.Kind
    /// What the network predicts.
    public var prediction: Prediction
    /// Classes for a class-conditional model; nil for an unconditional one.
    public var classCount: Int?
    /// Probability a training example's class is replaced by "no class" (classifier-free
    /// guidance; 0 trains no unconditional model).
    public var conditionDropout: Double
    /// The U-Net's first width.
    public var baseChannels: Int
    /// Widths of the levels as multiples of `baseChannels` (one level per entry).
    public var channelMultipliers: [Int]
    /// Residual blocks per level on the way down (one more on the way up).
    public var blocksPerLevel: Int
    /// Levels (0 = full resolution) with self-attention after each block.
    public var attentionLevels: [Int]
    /// Heads of every self-attention.
    public var attentionHeads: Int
    /// Dropout inside the residual blocks.
    public var dropout: Double
    /// Decay of the weights' exponential moving average (sampling uses the average).
    public var emaDecay: Double

    /// A configuration; the defaults are the class-conditional MNIST model.
    public init(imageShape: [Int] = [1, 28, 28], timesteps: Int = 1000, schedule: NoiseSchedule.Kind = .cosine,
                prediction: Prediction = .epsilon, classCount: Int? = 10, conditionDropout: Double = 0.1, baseChannels: Int = 32,
                channelMultipliers: [Int] = [1, 2, 2], blocksPerLevel: Int = 1, attentionLevels: [Int] = [2], attentionHeads: Int = 4,
                dropout: Double = 0, emaDecay: Double = 0.999) {
        self.imageShape = imageShape
        self.timesteps = timesteps
        self.schedule = schedule
        self.prediction = prediction
        self.classCount = classCount
        self.conditionDropout = conditionDropout
        self.baseChannels = baseChannels
        self.channelMultipliers = channelMultipliers
        self.blocksPerLevel = blocksPerLevel
        self.attentionLevels = attentionLevels
        self.attentionHeads = attentionHeads
        self.dropout = dropout
        self.emaDecay = emaDecay
    }

    /// Stops naming the values when the configuration cannot build a model.
    func validate() {
        tensorCheck(imageShape.count == 3 && imageShape.allSatisfy { $0 > 0 }, "[Diffusion] imageShape \(imageShape) should be [C, H, W]")
        tensorCheck(timesteps >= 2, "[Diffusion] timesteps \(timesteps) must be at least 2")
        tensorCheck(classCount.map { $0 > 1 } ?? true, "[Diffusion] classCount \(classCount ?? 0) must be at least 2")
        tensorCheck((0...1).contains(conditionDropout),
                    "[Diffusion] conditionDropout \(conditionDropout) must be in [0, 1]")
        tensorCheck(baseChannels > 0 && baseChannels % 2 == 0 && !channelMultipliers.isEmpty && channelMultipliers.allSatisfy { $0 > 0 },
                    "[Diffusion] baseChannels \(baseChannels) must be positive and even, channelMultipliers \(channelMultipliers) positive")
        let factor = 1 << (channelMultipliers.count - 1)
        tensorCheck(imageShape[1] % factor == 0 && imageShape[2] % factor == 0,
                    "[Diffusion] \(channelMultipliers.count) levels need sides divisible by \(factor), got \(imageShape[1])×\(imageShape[2])")
        tensorCheck(blocksPerLevel > 0 && attentionHeads > 0, "[Diffusion] blocksPerLevel \(blocksPerLevel) and attentionHeads \(attentionHeads) must be positive")
        tensorCheck(attentionLevels.allSatisfy { (0..<channelMultipliers.count).contains($0) },
                    "[Diffusion] attentionLevels \(attentionLevels) must be among the levels 0..<\(channelMultipliers.count)")
        for width in channelMultipliers.map({ $0 * baseChannels }) {
            tensorCheck(width % attentionHeads == 0, "[Diffusion] width \(width) is not a multiple of attentionHeads \(attentionHeads)")
        }
        tensorCheck((0..<1).contains(dropout) && (0..<1).contains(emaDecay),
                    "[Diffusion] dropout \(dropout) and emaDecay \(emaDecay) must be in [0, 1)")
    }
}

/// A denoising diffusion model (Ho et al. 2020): a `DiffusionUNet` trained to undo the
/// `NoiseSchedule`'s noising, predicting ε, x₀ or v; an exponential moving average of its
/// weights (`average`, a second frozen U-Net, what sampling uses by default); ancestral (DDPM)
/// and DDIM sampling with any step count; classifier-free guidance for a conditional model.
///
/// Images are in [0, 1] outside the model and [−1, 1] inside.
public final class Diffusion: Module {
    /// How it was built.
    public let configuration: DiffusionConfiguration
    /// The trained network.
    public let network: DiffusionUNet
    /// The moving average of `network`'s weights (frozen; updated by `updateAverage()`).
    public let average: DiffusionUNet
    /// The forward process.
    public let schedule: NoiseSchedule
    let ema: ExponentialMovingAverage

    /// A model initialised from `generator` (the global stream when nil).
    public init(_ configuration: DiffusionConfiguration, generator: RandomGenerator? = nil) {
        configuration.validate()
        self.configuration = configuration
        network = DiffusionUNet(configuration, generator: generator)
        average = DiffusionUNet(configuration, generator: nil)
        schedule = NoiseSchedule(configuration.schedule, steps: configuration.timesteps)
        // With the warm-up of diffusers' EMAModel, decay min(d, (1 + n) / (10 + n)) at update n:
        // a plain 0.999 still holds 37 % of the random initialisation after 1,000 steps, and
        // samples of such a blend are noise (seen after one MNIST epoch).
        ema = ExponentialMovingAverage(source: network.parameters(), average: average.parameters(), decay: configuration.emaDecay, warmup: true)
        super.init()
    }

    /// The parameters training updates (the average's are not among them).
    public var trainableParameters: [Parameter] { network.parameters() }

    /// One update of the moving average (after each optimizer step); `step`, the optimizer
    /// steps taken (1 after the first), sets the warm-up's position, so a resumed run continues
    /// it where it was.
    public func updateAverage(step: Int? = nil) {
        if let step { ema.updateCount = Swift.max(0, step - 1) }
        ema.update()
    }

    /// The "no class" label index of classifier-free guidance.
    public var nullClass: Int? { configuration.classCount }

    /// Checks labels against the classes; nil for an unconditional model.
    func checkedLabels(_ labels: Tensor?, count: Int, _ op: String) -> Tensor? {
        _ = Conditioning.check(labels, classCount: configuration.classCount, batch: count, model: "Diffusion.\(op)")
        return labels?.cast(to: .int64)
    }

    /// The training loss on clean images `x0` `[N, C, H, W]` in [0, 1] (with `labels`): the mean
    /// squared error of the network's prediction at uniformly drawn timesteps (DDPM's "simple"
    /// objective for ε; the same for x₀ and v). A conditional model sees "no class" with
    /// probability `conditionDropout`.
    public func loss(_ x0: Tensor, labels: Tensor? = nil, generator: RandomGenerator? = nil) -> Tensor {
        let n = x0.shape[0]
        var labels = checkedLabels(labels, count: n, "loss")
        let x = x0 * 2 - 1
        let t = Tensor.randint(0, configuration.timesteps, shape: [n], generator: generator).scalars(as: Int64.self).map { Int($0) }
        let noise = Tensor.randn(x.shape, dtype: x.dtype, generator: generator).moved(to: x.device)
        if let given = labels, let null = nullClass, configuration.conditionDropout > 0 {
            let drop = Tensor.rand([n], generator: generator).moved(to: given.device) .< configuration.conditionDropout
            labels = Tensor.where(drop, Tensor.full([n], value: Double(null), dtype: .int64).moved(to: given.device), given)
        }
        let xt = schedule.noised(x, noise: noise, at: t)
        let output = network(xt, timesteps: t, labels: labels)
        let target: Tensor
        switch configuration.prediction {
        case .epsilon: target = noise
        case .x0: target = x
        case .v: target = schedule.factors(schedule.alphaBars.map { $0.squareRoot() }, at: t, like: x) * noise
                        - schedule.factors(schedule.alphaBars.map { (1 - $0).squareRoot() }, at: t, like: x) * x
        }
        return (output - target).squared().mean()
    }

    /// A network's raw output for `x_t`, per-example timesteps and labels.
    public typealias Denoiser = (_ xt: Tensor, _ timesteps: [Int], _ labels: Tensor?) -> Tensor

    /// The network (the average by default) as a denoiser.
    func denoiser(useAverage: Bool) -> Denoiser {
        let net = useAverage ? average : network
        return { net($0, timesteps: $1, labels: $2) }
    }

    /// ε implied by a network output at ᾱ = `alphaBar`.
    func noise(from output: Tensor, xt: Tensor, alphaBar a: Double) -> Tensor {
        let sa = a.squareRoot(), sb = (1 - a).squareRoot()
        switch configuration.prediction {
        case .epsilon: return output
        case .x0: return (xt - output * sa) * (1 / sb)
        case .v: return xt * sb + output * sa
        }
    }

    /// The predicted noise and clean image (clamped to [−1, 1]) at `x_t`, timestep `t` for every
    /// example; with `guidance` w and labels, classifier-free guidance
    /// ε̂ = ε̂(∅) + w (ε̂(c) − ε̂(∅)) (w = 1: the conditional model alone, w = 0: the unconditional).
    public func predict(_ xt: Tensor, t: Int, labels: Tensor?, guidance: Double = 1, denoiser: Denoiser) -> (noise: Tensor, x0: Tensor) {
        let n = xt.shape[0], steps = [Int](repeating: t, count: n), a = schedule.alphaBars[t]
        var noise: Tensor
        if let labels, let null = nullClass, guidance != 1 {
            // One batch of 2N: conditional and unconditional together.
            let doubled: [Int] = steps + steps
            let nulls = Tensor.full([n], value: Double(null), dtype: .int64).moved(to: labels.device)
            let both = denoiser(Tensor.concatenated([xt, xt], axis: 0), doubled, Tensor.concatenated([labels, nulls], axis: 0))
            let conditional = self.noise(from: both.narrowed(axis: 0, start: 0, length: n), xt: xt, alphaBar: a)
            let unconditional = self.noise(from: both.narrowed(axis: 0, start: n, length: n), xt: xt, alphaBar: a)
            noise = unconditional + (conditional - unconditional) * guidance
        } else {
            noise = self.noise(from: denoiser(xt, steps, labels), xt: xt, alphaBar: a)
        }
        let x0 = ((xt - noise * (1 - a).squareRoot()) * (1 / a.squareRoot())).clamped(min: -1, max: 1)
        // ε consistent with the clamped x̂₀ keeps the DDIM update on the data's range.
        noise = (xt - x0 * a.squareRoot()) * (1 / (1 - a).squareRoot())
        return (noise, x0)
    }

    /// Checks a sampling request and returns the labels.
    func samplingLabels(count: Int, labels: Tensor?, guidance: Double, _ op: String) -> Tensor? {
        tensorCheck(count > 0, "[Diffusion.\(op)] count \(count) must be positive")
        tensorCheck(guidance.isFinite && guidance >= 0 && guidance <= 100,
                    "[Diffusion.\(op)] guidance \(guidance) must be in 0...100 (1: no guidance)")
        tensorCheck(guidance == 1 || configuration.classCount != nil,
                    "[Diffusion.\(op)] guidance \(guidance) needs a class-conditional model")
        tensorCheck(guidance == 1 || configuration.conditionDropout > 0,
                    "[Diffusion.\(op)] guidance \(guidance) needs a model trained with conditionDropout > 0")
        return checkedLabels(labels, count: count, op)
    }

    /// `count` images in [0, 1] by DDPM's ancestral sampler over all T steps:
    /// x_{t−1} = μ̃(x_t, x̂₀) + σ_t z with σ_t² = β̃_t (the posterior variance).
    public func sampleAncestral(count: Int, labels: Tensor? = nil, guidance: Double = 1, useAverage: Bool = true,
                                generator: RandomGenerator? = nil) -> Tensor {
        evaluating(useAverage ? average : network) {
            sampleAncestral(count: count, labels: labels, guidance: guidance, denoiser: denoiser(useAverage: useAverage), generator: generator)
        }
    }

    /// The ancestral sampler with any denoiser (an oracle in tests).
    public func sampleAncestral(count: Int, labels: Tensor?, guidance: Double, denoiser: Denoiser, generator: RandomGenerator?) -> Tensor {
        let labels = samplingLabels(count: count, labels: labels, guidance: guidance, "sampleAncestral")
        return withoutGradients {
            var x = Tensor.randn([count] + configuration.imageShape, generator: generator)
            for t in stride(from: configuration.timesteps - 1, through: 0, by: -1) {
                let x0 = predict(x, t: t, labels: labels, guidance: guidance, denoiser: denoiser).x0
                let (a, b) = schedule.posteriorMeanCoefficients(t)
                x = x0 * a + x * b
                if t > 0 { x = x + Tensor.randn(x.shape, generator: generator) * schedule.posteriorVariance(t).squareRoot() }
            }
            return (x + 1) * 0.5
        }
    }

    /// The timesteps of an S-step sampler: S evenly spaced over 0 ..< T, descending, ending at 0.
    public func samplingTimesteps(_ steps: Int) -> [Int] {
        tensorCheck(steps >= 1 && steps <= configuration.timesteps,
                    "[Diffusion] sampling steps \(steps) must be in 1...\(configuration.timesteps) (the model's timesteps)")
        return (0..<steps).map { i in Int((Double(i) * Double(configuration.timesteps) / Double(steps)).rounded(.down)) }.reversed()
    }

    /// `count` images in [0, 1] by DDIM (Song et al. 2021) over `steps` evenly spaced timesteps:
    /// x_{τ'} = √ᾱ_{τ'} x̂₀ + √(1 − ᾱ_{τ'} − σ²) ε̂ + σ z, σ = η √((1 − ᾱ_{τ'}) / (1 − ᾱ_τ)) √(1 − ᾱ_τ / ᾱ_{τ'}).
    /// η = 0 is deterministic; η = 1 with every step is DDPM's ancestral sampler.
    public func sampleDDIM(count: Int, steps: Int, eta: Double = 0, labels: Tensor? = nil, guidance: Double = 1,
                           useAverage: Bool = true, generator: RandomGenerator? = nil) -> Tensor {
        evaluating(useAverage ? average : network) {
            sampleDDIM(count: count, steps: steps, eta: eta, labels: labels, guidance: guidance, denoiser: denoiser(useAverage: useAverage),
                       generator: generator)
        }
    }

    /// DDIM with any denoiser (an oracle in tests).
    public func sampleDDIM(count: Int, steps: Int, eta: Double, labels: Tensor?, guidance: Double, denoiser: Denoiser,
                           generator: RandomGenerator?) -> Tensor {
        let labels = samplingLabels(count: count, labels: labels, guidance: guidance, "sampleDDIM")
        tensorCheck(eta >= 0 && eta.isFinite, "[Diffusion.sampleDDIM] eta \(eta) must be non-negative")
        let taus = samplingTimesteps(steps)
        return withoutGradients {
            var x = Tensor.randn([count] + configuration.imageShape, generator: generator)
            for (i, t) in taus.enumerated() {
                let (noise, x0) = predict(x, t: t, labels: labels, guidance: guidance, denoiser: denoiser)
                let a = schedule.alphaBars[t], previous = i + 1 < taus.count ? schedule.alphaBars[taus[i + 1]] : 1
                let sigma = eta * ((1 - previous) / (1 - a)).squareRoot() * (1 - a / previous).squareRoot()
                x = x0 * previous.squareRoot() + noise * Swift.max(1 - previous - sigma * sigma, 0).squareRoot()
                if sigma > 0 { x = x + Tensor.randn(x.shape, generator: generator) * sigma }
            }
            return (x + 1) * 0.5
        }
    }

    /// `body` with `net` in evaluation mode and nothing recorded; the mode is restored.
    func evaluating<R>(_ net: Module, _ body: () -> R) -> R {
        let wasTraining = net.isTraining
        net.eval()
        defer { net.train(wasTraining) }
        return withoutGradients(body)
    }
}
