import TensorCore

/// Stochastic gradient Langevin dynamics (Welling & Teh 2011): SGD on the negative log
/// posterior `U(θ) = N · mean_loss(θ) + ½ λ ‖θ‖²` plus Gaussian noise of variance `lr · T`,
/// `θ ← θ − (lr / 2) ∇U(θ) + √(lr · T) ξ`, so that with a small step size the iterates are
/// samples of the posterior `∝ exp(−U / T)` rather than its mode. The loss passed to
/// `backward` is the minibatch mean, as for SGD; `datasetSize` (N) rescales it to the whole
/// data set's. Noise is drawn per step and parameter from `seed`, so runs repeat and resume.
public final class SGLD: GroupedOptimizer<SGLD.Options, Void>, Optimizer {
    /// SGLD's hyper-parameters for one parameter group.
    public struct Options: OptimizerOptions {
        /// The step size ε (also the noise variance, times the temperature).
        public var learningRate: Double
        /// N: the number of training examples the mean loss is over.
        public var datasetSize: Double
        /// λ: the precision of the Gaussian prior N(0, 1/λ) on each weight.
        public var priorPrecision: Double
        /// T: 1 samples the posterior; smaller values sharpen it ("cold" posteriors).
        public var temperature: Double

        /// Options for N = `datasetSize` examples.
        public init(learningRate: Double, datasetSize: Int, priorPrecision: Double = 1, temperature: Double = 1) {
            tensorCheck(learningRate > 0 && datasetSize > 0 && priorPrecision >= 0 && temperature >= 0,
                        "[SGLD] needs a positive learning rate and dataset size, non-negative prior precision and temperature")
            self.learningRate = learningRate
            self.datasetSize = Double(datasetSize)
            self.priorPrecision = priorPrecision
            self.temperature = temperature
        }
    }

    /// The seed of the noise stream.
    public let seed: UInt64
    /// Steps taken (the noise stream's position).
    public private(set) var steps: UInt64 = 0

    /// SGLD over one group of `parameters`.
    public init(parameters: [Parameter], learningRate: Double, datasetSize: Int, priorPrecision: Double = 1,
                temperature: Double = 1, seed: UInt64) {
        self.seed = seed
        super.init(groups: [ParameterGroup(parameters: parameters, options: Options(
            learningRate: learningRate, datasetSize: datasetSize, priorPrecision: priorPrecision, temperature: temperature))])
    }

    /// One Langevin step of every parameter with a gradient.
    public func step() {
        withoutGradients {
            for (i, p, o) in indexedParameters where p.requiresGrad {
                guard let grad = p.grad else { continue }
                tensorCheck(grad.shape == p.shape, "[SGLD] gradient \(shapeText(grad.shape)) does not match parameter \(shapeText(p.shape))")
                let generator = RandomGenerator(seed: seed &+ steps &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(i) &* 0xBF58_476D_1CE4_E5B9)
                let noise = Tensor.randn(p.shape, dtype: p.value.dtype, device: p.value.device, generator: generator)
                let drift = o.datasetSize * grad + o.priorPrecision * p.value
                p.value = p.value - (o.learningRate / 2) * drift + (o.learningRate * o.temperature).squareRoot() * noise
            }
        }
        steps += 1
    }

    public func stateDict() -> OptimizerStateDict {
        var dict = groupStateDict()
        dict.scalars["steps"] = Double(steps)
        return dict
    }

    public func load(stateDict dict: OptimizerStateDict) throws {
        guard let position = dict.scalars["steps"] else { throw OptimizerError.stateMismatch("no SGLD step count") }
        try loadLearningRates(dict)
        steps = UInt64(position)
    }
}
