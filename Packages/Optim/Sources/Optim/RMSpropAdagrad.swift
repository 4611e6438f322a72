import TensorCore

/// RMSprop (Hinton), optionally centered and with momentum, as PyTorch.
public final class RMSprop: GroupedOptimizer<RMSprop.Options, RMSprop.State>, Optimizer {
    /// RMSprop's hyper-parameters for one parameter group (PyTorch's names and defaults).
    public struct Options: OptimizerOptions {
        /// Step size (`lr`).
        public var learningRate: Double
        /// Decay of the squared-gradient average.
        public var alpha: Double
        /// Added to the denominator for stability (`eps`).
        public var epsilon: Double
        /// L2 penalty added to the gradient.
        public var weightDecay: Double
        /// Momentum factor (0: none).
        public var momentum: Double
        /// Normalise by the variance estimate (subtracting the squared mean gradient).
        public var centered: Bool

        /// Options with PyTorch's defaults.
        public init(learningRate: Double = 1e-2, alpha: Double = 0.99, epsilon: Double = 1e-8, weightDecay: Double = 0,
                    momentum: Double = 0, centered: Bool = false) {
            tensorCheck(learningRate >= 0 && alpha >= 0 && epsilon >= 0 && momentum >= 0 && weightDecay >= 0,
                        "[RMSprop] hyper-parameters must be non-negative")
            self.learningRate = learningRate
            self.alpha = alpha
            self.epsilon = epsilon
            self.weightDecay = weightDecay
            self.momentum = momentum
            self.centered = centered
        }
    }

    /// Per-parameter state.
    public struct State {
        /// Updates taken for this parameter.
        public var step: Int
        /// Running average of the squared gradient (`square_avg`).
        public var squareAverage: Tensor
        /// Running average of the gradient (centered only; `grad_avg`).
        public var gradientAverage: Tensor?
        /// The momentum buffer (with momentum only).
        public var momentumBuffer: Tensor?
    }

    /// RMSprop over one group of `parameters`.
    public init(parameters: [Parameter], learningRate: Double = 1e-2, alpha: Double = 0.99, epsilon: Double = 1e-8,
                weightDecay: Double = 0, momentum: Double = 0, centered: Bool = false) {
        super.init(groups: [ParameterGroup(parameters: parameters, options: Options(
            learningRate: learningRate, alpha: alpha, epsilon: epsilon, weightDecay: weightDecay, momentum: momentum,
            centered: centered))])
    }

    /// One update of every parameter that has a gradient, as `torch.optim.RMSprop.step`.
    public func step() {
        forEachUpdate { p, grad, o in
            let key = ObjectIdentifier(p)
            var s = states[key] ?? State(step: 0, squareAverage: Tensor.zeros(like: p.value),
                                         gradientAverage: o.centered ? Tensor.zeros(like: p.value) : nil,
                                         momentumBuffer: o.momentum > 0 ? Tensor.zeros(like: p.value) : nil)
            s.step += 1
            var g = grad
            if o.weightDecay != 0 { g = g + p.value * o.weightDecay }
            s.squareAverage = s.squareAverage * o.alpha + g.squared() * (1 - o.alpha)
            var average: Tensor
            if let ga = s.gradientAverage {
                let newAverage = ga + (g - ga) * (1 - o.alpha)
                s.gradientAverage = newAverage
                average = (s.squareAverage - newAverage.squared()).sqrt()
            } else {
                average = s.squareAverage.sqrt()
            }
            average = average + o.epsilon
            if let buffer = s.momentumBuffer {
                let b = buffer * o.momentum + g / average
                s.momentumBuffer = b
                p.value = p.value - b * o.learningRate
            } else {
                p.value = p.value - g / average * o.learningRate
            }
            states[key] = s
        }
    }

    /// The averages and step counts by parameter index, as PyTorch lays them out.
    public func stateDict() -> OptimizerStateDict {
        var dict = groupStateDict()
        for (i, p, _) in indexedParameters {
            guard let s = states[ObjectIdentifier(p)] else { continue }
            dict.scalars["state.\(i).step"] = Double(s.step)
            dict.tensors["state.\(i).square_avg"] = s.squareAverage
            if let a = s.gradientAverage { dict.tensors["state.\(i).grad_avg"] = a }
            if let b = s.momentumBuffer { dict.tensors["state.\(i).momentum_buffer"] = b }
        }
        return dict
    }

    /// Restores averages and step counts; throws `OptimizerError` when they do not fit these parameters.
    public func load(stateDict dict: OptimizerStateDict) throws {
        var loaded: [ObjectIdentifier: State] = [:]
        for (i, p, o) in indexedParameters {
            guard let step = dict.scalars["state.\(i).step"] else { continue }
            guard let sq = dict.tensors["state.\(i).square_avg"], sq.shape == p.shape else {
                throw OptimizerError.stateMismatch("square average of parameter \(i) is missing or misshapen")
            }
            let ga = dict.tensors["state.\(i).grad_avg"], mb = dict.tensors["state.\(i).momentum_buffer"]
            if o.centered && ga == nil { throw OptimizerError.stateMismatch("gradient average of parameter \(i) is missing") }
            if o.momentum > 0 && mb == nil { throw OptimizerError.stateMismatch("momentum buffer of parameter \(i) is missing") }
            loaded[ObjectIdentifier(p)] = State(step: Int(step), squareAverage: stateTensor(sq, for: p),
                                                gradientAverage: o.centered ? ga.map { stateTensor($0, for: p) } : nil,
                                                momentumBuffer: o.momentum > 0 ? mb.map { stateTensor($0, for: p) } : nil)
        }
        try loadLearningRates(dict)
        states = loaded
    }
}

/// Adagrad (Duchi et al.) with learning-rate decay, as PyTorch.
public final class Adagrad: GroupedOptimizer<Adagrad.Options, Adagrad.State>, Optimizer {
    /// Adagrad's hyper-parameters for one parameter group (PyTorch's names and defaults).
    public struct Options: OptimizerOptions {
        /// Step size (`lr`).
        public var learningRate: Double
        /// The step size is divided by `1 + (step - 1) × learningRateDecay`.
        public var learningRateDecay: Double
        /// L2 penalty added to the gradient.
        public var weightDecay: Double
        /// Starting value of the squared-gradient sum.
        public var initialAccumulatorValue: Double
        /// Added to the denominator for stability (`eps`).
        public var epsilon: Double

        /// Options with PyTorch's defaults.
        public init(learningRate: Double = 1e-2, learningRateDecay: Double = 0, weightDecay: Double = 0,
                    initialAccumulatorValue: Double = 0, epsilon: Double = 1e-10) {
            tensorCheck(learningRate >= 0 && learningRateDecay >= 0 && weightDecay >= 0 && initialAccumulatorValue >= 0,
                        "[Adagrad] hyper-parameters must be non-negative")
            self.learningRate = learningRate
            self.learningRateDecay = learningRateDecay
            self.weightDecay = weightDecay
            self.initialAccumulatorValue = initialAccumulatorValue
            self.epsilon = epsilon
        }
    }

    /// Per-parameter state.
    public struct State {
        /// Updates taken for this parameter.
        public var step: Int
        /// Sum of squared gradients so far.
        public var sum: Tensor
    }

    /// Adagrad over one group of `parameters`.
    public init(parameters: [Parameter], learningRate: Double = 1e-2, learningRateDecay: Double = 0, weightDecay: Double = 0,
                initialAccumulatorValue: Double = 0, epsilon: Double = 1e-10) {
        super.init(groups: [ParameterGroup(parameters: parameters, options: Options(
            learningRate: learningRate, learningRateDecay: learningRateDecay, weightDecay: weightDecay,
            initialAccumulatorValue: initialAccumulatorValue, epsilon: epsilon))])
    }

    /// One update of every parameter that has a gradient, as `torch.optim.Adagrad.step`.
    public func step() {
        forEachUpdate { p, grad, o in
            let key = ObjectIdentifier(p)
            var s = states[key] ?? State(step: 0, sum: Tensor.full(like: p.value, value: o.initialAccumulatorValue))
            s.step += 1
            var g = grad
            if o.weightDecay != 0 { g = g + p.value * o.weightDecay }
            let clr = o.learningRate / (1 + Double(s.step - 1) * o.learningRateDecay)
            s.sum = s.sum + g.squared()
            p.value = p.value - g / (s.sum.sqrt() + o.epsilon) * clr
            states[key] = s
        }
    }

    /// The sums and step counts by parameter index, as PyTorch lays them out.
    public func stateDict() -> OptimizerStateDict {
        var dict = groupStateDict()
        for (i, p, _) in indexedParameters {
            guard let s = states[ObjectIdentifier(p)] else { continue }
            dict.scalars["state.\(i).step"] = Double(s.step)
            dict.tensors["state.\(i).sum"] = s.sum
        }
        return dict
    }

    /// Restores sums and step counts; throws `OptimizerError` when they do not fit these parameters.
    public func load(stateDict dict: OptimizerStateDict) throws {
        var loaded: [ObjectIdentifier: State] = [:]
        for (i, p, _) in indexedParameters {
            guard let step = dict.scalars["state.\(i).step"] else { continue }
            guard let sum = dict.tensors["state.\(i).sum"], sum.shape == p.shape else {
                throw OptimizerError.stateMismatch("sum of parameter \(i) is missing or misshapen")
            }
            loaded[ObjectIdentifier(p)] = State(step: Int(step), sum: stateTensor(sum, for: p))
        }
        try loadLearningRates(dict)
        states = loaded
    }
}
