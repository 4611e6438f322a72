import Foundation
import NN
import Optim
import TensorCore

/// How to build a `ScoreModel` (Codable: recorded in checkpoints and `results.json`).
public struct ScoreModelConfiguration: Codable, Equatable, Sendable {
    /// The noising the score is learned for, and how samples are drawn.
    public enum Process: String, Codable, Sendable, CaseIterable {
        /// Song & Ermon 2019 (NCSN): `levels` noise scales σ geometric from `sigmaMax` to
        /// `sigmaMin`, denoising score matching over them, annealed Langevin dynamics.
        case ncsn
        /// Song et al. 2021: the variance-preserving SDE dx = −½β(t) x dt + √β(t) dW on t ∈ [0, 1],
        /// β linear from `betaMin` to `betaMax`; reverse-time Euler–Maruyama or the
        /// probability-flow ODE.
        case vp
    }

    /// The noising process.
    public var process: Process
    /// Dimensions of a sample.
    public var dimensions: Int
    /// Width of the score network's hidden layers.
    public var hiddenSize: Int
    /// Smallest noise scale (NCSN).
    public var sigmaMin: Double
    /// Largest noise scale (NCSN), also the half-width of Langevin's uniform start.
    public var sigmaMax: Double
    /// Noise scales (NCSN).
    public var levels: Int
    /// β(0) of the VP-SDE.
    public var betaMin: Double
    /// β(1) of the VP-SDE.
    public var betaMax: Double
    /// Decay of the weights' moving average, which sampling uses (NCSNv2's 0.999; 0: none).
    public var emaDecay: Double
    /// Highest frequency of the sinusoids each coordinate is also fed as (0: the raw
    /// coordinates only). An MLP learns sharp functions of its raw input slowly (Tancik et al.
    /// 2020); the score at a small noise scale changes over the width of a mode, so sin and cos
    /// of `coordinateFrequencyCount` frequencies geometric from 1 to this are appended.
    public var coordinateFrequency: Double
    /// Frequencies per coordinate of the sinusoidal encoding.
    public static let coordinateFrequencyCount = 8

    /// A configuration; the defaults suit the 2-D toys (data within a few units of the origin).
    public init(process: Process = .vp, dimensions: Int = 2, hiddenSize: Int = 128, sigmaMin: Double = 0.01, sigmaMax: Double = 5,
                levels: Int = 10, betaMin: Double = 0.1, betaMax: Double = 20, emaDecay: Double = 0.999,
                coordinateFrequency: Double = 30) {
        self.process = process
        self.dimensions = dimensions
        self.hiddenSize = hiddenSize
        self.sigmaMin = sigmaMin
        self.sigmaMax = sigmaMax
        self.levels = levels
        self.betaMin = betaMin
        self.betaMax = betaMax
        self.emaDecay = emaDecay
        self.coordinateFrequency = coordinateFrequency
    }

    enum CodingKeys: String, CodingKey { case process, dimensions, hiddenSize, sigmaMin, sigmaMax, levels, betaMin, betaMax, emaDecay, coordinateFrequency }

    /// Decodes a recorded configuration; one written before the moving average or the
    /// coordinate encoding existed has neither.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(process: try c.decode(Process.self, forKey: .process), dimensions: try c.decode(Int.self, forKey: .dimensions),
                  hiddenSize: try c.decode(Int.self, forKey: .hiddenSize), sigmaMin: try c.decode(Double.self, forKey: .sigmaMin),
                  sigmaMax: try c.decode(Double.self, forKey: .sigmaMax), levels: try c.decode(Int.self, forKey: .levels),
                  betaMin: try c.decode(Double.self, forKey: .betaMin), betaMax: try c.decode(Double.self, forKey: .betaMax),
                  emaDecay: try c.decodeIfPresent(Double.self, forKey: .emaDecay) ?? 0,
                  coordinateFrequency: try c.decodeIfPresent(Double.self, forKey: .coordinateFrequency) ?? 0)
    }

    func validate() {
        tensorCheck(dimensions > 0 && hiddenSize > 0, "[ScoreModel] dimensions \(dimensions) and hiddenSize \(hiddenSize) must be positive")
        tensorCheck(sigmaMin > 0 && sigmaMax > sigmaMin && levels >= 2,
                    "[ScoreModel] noise scales need 0 < sigmaMin \(sigmaMin) < sigmaMax \(sigmaMax) and at least 2 levels (\(levels))")
        tensorCheck(betaMin > 0 && betaMax > betaMin, "[ScoreModel] the VP-SDE needs 0 < betaMin \(betaMin) < betaMax \(betaMax)")
        tensorCheck((0..<1).contains(emaDecay), "[ScoreModel] emaDecay \(emaDecay) must be in [0, 1)")
        tensorCheck(coordinateFrequency == 0 || (coordinateFrequency >= 1 && coordinateFrequency.isFinite),
                    "[ScoreModel] coordinateFrequency \(coordinateFrequency) must be 0 (none) or at least 1")
    }
}

/// The denoising score-matching loss (Vincent 2011) at noise scales σ: for noisy x̃ = x + σ z
/// the score's target is −z / σ; weighted by σ² (Song & Ermon's λ(σ) = σ²) this is
/// `mean over examples of ½ ‖σ s(x̃) + z‖²`. `score` and `noise` `[N, D...]`, `sigma` `[N]`.
public func denoisingScoreMatchingLoss(score: Tensor, noise: Tensor, sigma: Tensor) -> Tensor {
    tensorCheck(score.shape == noise.shape && sigma.shape == [score.shape[0]],
                "[denoisingScoreMatchingLoss] score \(shapeText(score.shape)), noise \(shapeText(noise.shape)) and sigma \(shapeText(sigma.shape)) disagree")
    let s = sigma.reshaped(to: [score.shape[0]] + Array(repeating: 1, count: score.rank - 1))
    return ((score * s + noise).squared().reshaped(to: [score.shape[0], -1]).sum(axis: 1) * 0.5).mean()
}

/// A score model for points: an MLP s_θ(x, c) of the sample (with sinusoids of its
/// coordinates) and its noise condition (log σ for NCSN, t for the VP-SDE, through a
/// sinusoidal embedding), trained by denoising score
/// matching and sampled by annealed Langevin dynamics (NCSN) or by the reverse SDE /
/// probability-flow ODE (VP). Following NCSNv2 the network's output is divided by the noise
/// scale, so it learns a quantity of unit size at every level.
public final class ScoreModel: Module {
    /// How it was built.
    public let configuration: ScoreModelConfiguration
    let network: Sequential
    /// The moving average of `network`'s weights (frozen), what the samplers use when
    /// `emaDecay` > 0; updated by `updateAverage()` after each optimizer step.
    let average: Sequential
    let ema: ExponentialMovingAverage?
    static let embeddingSize = 32

    /// A model initialised from `generator` (the global stream when nil).
    public init(_ configuration: ScoreModelConfiguration, generator: RandomGenerator? = nil) {
        configuration.validate()
        self.configuration = configuration
        let h = configuration.hiddenSize
        let encoded = configuration.coordinateFrequency > 0 ? 2 * ScoreModelConfiguration.coordinateFrequencyCount : 0
        let inputSize = configuration.dimensions * (1 + encoded) + Self.embeddingSize
        func mlp(_ generator: RandomGenerator?) -> Sequential {
            Sequential([
                Linear(inputSize: inputSize, outputSize: h, generator: generator), SiLU(),
                Linear(inputSize: h, outputSize: h, generator: generator), SiLU(),
                Linear(inputSize: h, outputSize: h, generator: generator), SiLU(),
                Linear(inputSize: h, outputSize: configuration.dimensions, generator: generator),
            ])
        }
        network = mlp(generator)
        average = mlp(nil)
        ema = configuration.emaDecay > 0
            ? ExponentialMovingAverage(source: network.parameters(), average: average.parameters(), decay: configuration.emaDecay) : nil
        if ema == nil { for p in average.parameters() { p.requiresGrad = false } }
        super.init()
    }

    /// The NCSN noise scales, largest first: σ_i = σ_max (σ_min / σ_max)^(i / (L − 1)).
    public var sigmas: [Double] {
        let c = configuration
        return (0..<c.levels).map { c.sigmaMax * pow(c.sigmaMin / c.sigmaMax, Double($0) / Double(c.levels - 1)) }
    }

    /// ∫₀ᵗ β(s) ds of the VP-SDE.
    func integratedBeta(_ t: Double) -> Double { configuration.betaMin * t + 0.5 * t * t * (configuration.betaMax - configuration.betaMin) }

    /// The VP-SDE's marginal at t: x_t = m(t) x₀ + σ(t) z with m = e^(−½∫β), σ² = 1 − e^(−∫β).
    public func marginal(_ t: Double) -> (mean: Double, deviation: Double) {
        let b = integratedBeta(t)
        return (exp(-0.5 * b), (1 - exp(-b)).squareRoot())
    }

    /// β(t).
    public func beta(_ t: Double) -> Double { configuration.betaMin + t * (configuration.betaMax - configuration.betaMin) }

    /// The parameters training updates (the average's are not among them).
    public var trainableParameters: [Parameter] { network.parameters() }

    /// One update of the moving average (after each optimizer step; nothing without one).
    public func updateAverage() { ema?.update() }

    /// s_θ(x, ·) by the trained network (not the average), for points `x` `[N, D]` with
    /// per-example noise scales `sigma` `[N]` and conditions `condition` `[N]` (log σ, or t).
    public func score(_ x: Tensor, sigma: Tensor, condition: Tensor) -> Tensor {
        score(x, sigma: sigma, condition: condition, using: network)
    }

    /// The score by `net` (the trained network or its average).
    func score(_ x: Tensor, sigma: Tensor, condition: Tensor, using net: Sequential) -> Tensor {
        tensorCheck(x.rank == 2 && x.shape[1] == configuration.dimensions && sigma.shape == [x.shape[0]] && condition.shape == [x.shape[0]],
                    "[ScoreModel.score] x \(shapeText(x.shape)), sigma \(shapeText(sigma.shape)), condition \(shapeText(condition.shape)); "
                    + "expected [N, \(configuration.dimensions)], [N], [N]")
        return net(networkInput(x, condition: condition)) / sigma.reshaped(to: [-1, 1]).cast(to: x.dtype)
    }

    /// The network's input for points `x` `[N, D]` and conditions `[N]`: x, the condition's
    /// sinusoidal embedding, and (with `coordinateFrequency` > 0) sin and cos of every
    /// coordinate at each frequency, `[N, D + 32 (+ 2·D·K)]`.
    func networkInput(_ x: Tensor, condition: Tensor) -> Tensor {
        let half = Self.embeddingSize / 2
        let frequencies = Tensor((0..<half).map { exp(log(1000.0) * Double($0) / Double(half - 1)) }, shape: [1, half])
            .cast(to: x.dtype).moved(to: x.device)
        let angles = condition.reshaped(to: [-1, 1]).cast(to: x.dtype) * frequencies
        var features = [x, angles.sin(), angles.cos()]
        if configuration.coordinateFrequency > 0 {
            // [N, D] → [N, D·K]: coordinate d times frequency k at column d·K + k.
            let k = ScoreModelConfiguration.coordinateFrequencyCount
            let coordinateFrequencies = Tensor((0..<k).map { pow(configuration.coordinateFrequency, Double($0) / Double(k - 1)) }, shape: [1, 1, k])
                .cast(to: x.dtype).moved(to: x.device)
            let phases = (x.reshaped(to: [x.shape[0], configuration.dimensions, 1]) * coordinateFrequencies).reshaped(to: [x.shape[0], -1])
            features += [phases.sin(), phases.cos()]
        }
        return Tensor.concatenated(features, axis: 1)
    }

    /// Denoising score matching on clean points `x0` `[N, D]` at random noise: a uniformly
    /// drawn NCSN level, or t ~ U(ε, 1) for the VP-SDE (ε = 1e-5, as Song et al.).
    public func loss(_ x0: Tensor, generator: RandomGenerator? = nil) -> Tensor {
        let n = x0.shape[0]
        let z = Tensor.randn(x0.shape, dtype: x0.dtype, generator: generator).moved(to: x0.device)
        switch configuration.process {
        case .ncsn:
            let levels = Tensor.randint(0, configuration.levels, shape: [n], generator: generator).scalars(as: Int64.self)
            let s = sigmas
            let sigma = Tensor(levels.map { s[Int($0)] }).cast(to: x0.dtype).moved(to: x0.device)
            let noisy = x0 + z * sigma.reshaped(to: [n, 1])
            return denoisingScoreMatchingLoss(score: score(noisy, sigma: sigma, condition: sigma.log()), noise: z, sigma: sigma)
        case .vp:
            let t = Tensor.rand([n], low: 1e-5, high: 1, dtype: .float64, generator: generator).scalars(as: Double.self)
            let m = Tensor(t.map { marginal($0).mean }).cast(to: x0.dtype).moved(to: x0.device)
            let sigma = Tensor(t.map { marginal($0).deviation }).cast(to: x0.dtype).moved(to: x0.device)
            let noisy = x0 * m.reshaped(to: [n, 1]) + z * sigma.reshaped(to: [n, 1])
            let condition = Tensor(t).cast(to: x0.dtype).moved(to: x0.device)
            return denoisingScoreMatchingLoss(score: score(noisy, sigma: sigma, condition: condition), noise: z, sigma: sigma)
        }
    }

    /// A score function of (points, σ, condition) — the network, or an analytic one in tests.
    public typealias ScoreFunction = (_ x: Tensor, _ sigma: Tensor, _ condition: Tensor) -> Tensor

    /// The averaged network (or the network, without a moving average) as a score function.
    var learnedScore: ScoreFunction {
        let net = ema == nil ? network : average
        return { self.score($0, sigma: $1, condition: $2, using: net) }
    }

    func constant(_ value: Double, _ n: Int) -> Tensor { Tensor([Double](repeating: value, count: n)).cast(to: .float32) }

    /// Annealed Langevin dynamics (Song & Ermon 2019, Algorithm 1): from uniform noise on
    /// ±σ_max, at each level σ_i `stepsPerLevel` steps x ← x + (α/2) s(x, σ_i) + √α z with
    /// α = ε σ_i² / σ_L²; the final output is the last iterate denoised once by Tweedie's
    /// formula, x + σ_L² s(x, σ_L) (NCSNv2).
    public func annealedLangevin(count: Int, stepsPerLevel: Int = 100, stepSize epsilon: Double = 5e-5,
                                 score: ScoreFunction? = nil, generator: RandomGenerator? = nil) -> Tensor {
        tensorCheck(count > 0 && stepsPerLevel > 0 && epsilon > 0,
                    "[ScoreModel.annealedLangevin] count \(count), steps per level \(stepsPerLevel) and step size \(epsilon) must be positive")
        let s = score ?? learnedScore, levels = sigmas, last = levels.last!
        return evaluating {
            var x = Tensor.rand([count, configuration.dimensions], low: -configuration.sigmaMax, high: configuration.sigmaMax, generator: generator)
            for sigma in levels {
                let alpha = epsilon * sigma * sigma / (last * last)
                let sigmas = constant(sigma, count), condition = constant(log(sigma), count)
                for _ in 0..<stepsPerLevel {
                    x = x + s(x, sigmas, condition) * (alpha / 2) + Tensor.randn(x.shape, generator: generator) * alpha.squareRoot()
                }
            }
            return x + s(x, constant(last, count), constant(log(last), count)) * (last * last)
        }
    }

    /// Samples of the VP-SDE from N(0, I) at t = 1 to t = ε over `steps` uniform steps:
    /// reverse-time Euler–Maruyama, x ← x + [½β x + β s] Δt + √(β Δt) z, or (with
    /// `probabilityFlow`) the deterministic ODE x ← x + [½β x + ½β s] Δt (Song et al. 2021, eq. 13).
    public func sampleSDE(count: Int, steps: Int = 500, probabilityFlow: Bool = false, score: ScoreFunction? = nil,
                          generator: RandomGenerator? = nil) -> Tensor {
        tensorCheck(count > 0 && steps > 0, "[ScoreModel.sampleSDE] count \(count) and steps \(steps) must be positive")
        let s = score ?? learnedScore, end = 1e-3, dt = (1 - end) / Double(steps)
        return evaluating {
            var x = Tensor.randn([count, configuration.dimensions], generator: generator)
            for i in 0..<steps {
                let t = 1 - Double(i) * dt, b = beta(t)
                let sc = s(x, constant(marginal(t).deviation, count), constant(t, count))
                if probabilityFlow {
                    x = x + (x * (0.5 * b) + sc * (0.5 * b)) * dt
                } else {
                    x = x + (x * (0.5 * b) + sc * b) * dt + Tensor.randn(x.shape, generator: generator) * (b * dt).squareRoot()
                }
            }
            return x
        }
    }

    /// `count` samples by the process's sampler with its defaults.
    public func sample(count: Int, generator: RandomGenerator? = nil) -> Tensor {
        configuration.process == .ncsn ? annealedLangevin(count: count, generator: generator) : sampleSDE(count: count, generator: generator)
    }

    func evaluating(_ body: () -> Tensor) -> Tensor {
        let wasTraining = isTraining
        eval()
        defer { train(wasTraining) }
        return withoutGradients(body)
    }
}
