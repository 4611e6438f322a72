import TensorCore

/// RMSprop (Hinton), optionally centered and with momentum, as PyTorch.
public final class RMSprop: GroupedOptimizer<RMSprop.Options, RMSprop.State>, Optimizer {
    public struct Options: OptimizerOptions {
        public var learningRate: Double
        public var alpha: Double
        public var epsilon: Double
        public var weightDecay: Double
        public var momentum: Double
        public var centered: Bool

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

    public struct State {
        public var step: Int
        public var squareAverage: Tensor
        public var gradientAverage: Tensor?
        public var momentumBuffer: Tensor?
    }

    public init(parameters: [Parameter], learningRate: Double = 1e-2, alpha: Double = 0.99, epsilon: Double = 1e-8,
                weightDecay: Double = 0, momentum: Double = 0, centered: Bool = false) {
        super.init(groups: [ParameterGroup(parameters: parameters, options: Options(
            learningRate: learningRate, alpha: alpha, epsilon: epsilon, weightDecay: weightDecay, momentum: momentum,
            centered: centered))])
    }

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
    public struct Options: OptimizerOptions {
        public var learningRate: Double
        public var learningRateDecay: Double
        public var weightDecay: Double
        public var initialAccumulatorValue: Double
        public var epsilon: Double

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

    public struct State {
        public var step: Int
        public var sum: Tensor
    }

    public init(parameters: [Parameter], learningRate: Double = 1e-2, learningRateDecay: Double = 0, weightDecay: Double = 0,
                initialAccumulatorValue: Double = 0, epsilon: Double = 1e-10) {
        super.init(groups: [ParameterGroup(parameters: parameters, options: Options(
            learningRate: learningRate, learningRateDecay: learningRateDecay, weightDecay: weightDecay,
            initialAccumulatorValue: initialAccumulatorValue, epsilon: epsilon))])
    }

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

    public func stateDict() -> OptimizerStateDict {
        var dict = groupStateDict()
        for (i, p, _) in indexedParameters {
            guard let s = states[ObjectIdentifier(p)] else { continue }
            dict.scalars["state.\(i).step"] = Double(s.step)
            dict.tensors["state.\(i).sum"] = s.sum
        }
        return dict
    }

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
