import TensorCore

/// Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay,
/// exactly PyTorch's update (the first step copies the gradient into the momentum buffer).
public final class SGD: GroupedOptimizer<SGD.Options, SGD.State>, Optimizer {
    /// SGD's hyper-parameters for one parameter group (PyTorch's names and defaults).
    public struct Options: OptimizerOptions {
        /// Step size (`lr`).
        public var learningRate: Double
        /// Momentum factor (0: plain SGD).
        public var momentum: Double
        /// Dampening of the gradient added to the momentum buffer.
        public var dampening: Double
        /// Nesterov momentum.
        public var nesterov: Bool
        /// L2 penalty added to the gradient.
        public var weightDecay: Double

        /// Options with PyTorch's defaults.
        public init(learningRate: Double, momentum: Double = 0, dampening: Double = 0, nesterov: Bool = false,
                    weightDecay: Double = 0) {
            tensorCheck(learningRate >= 0, "[SGD] learning rate must be non-negative, got \(learningRate)")
            tensorCheck(momentum >= 0 && weightDecay >= 0, "[SGD] momentum and weight decay must be non-negative")
            tensorCheck(!nesterov || (momentum > 0 && dampening == 0), "[SGD] Nesterov needs momentum > 0 and no dampening")
            self.learningRate = learningRate
            self.momentum = momentum
            self.dampening = dampening
            self.nesterov = nesterov
            self.weightDecay = weightDecay
        }
    }

    /// Per-parameter state.
    public struct State {
        /// The momentum buffer (nil before the first step or without momentum).
        public var momentumBuffer: Tensor?
    }

    /// SGD over one group of `parameters`.
    public init(parameters: [Parameter], learningRate: Double, momentum: Double = 0, dampening: Double = 0,
                nesterov: Bool = false, weightDecay: Double = 0) {
        super.init(groups: [ParameterGroup(parameters: parameters, options: Options(
            learningRate: learningRate, momentum: momentum, dampening: dampening, nesterov: nesterov, weightDecay: weightDecay))])
    }

    public override init(groups: [ParameterGroup<Options>]) { super.init(groups: groups) }

    /// One update of every parameter that has a gradient, as `torch.optim.SGD.step`.
    public func step() {
        forEachUpdate { p, grad, o in
            let key = ObjectIdentifier(p)
            // Taken out of the dictionary so the buffer is held once and updates in place.
            var state = states.removeValue(forKey: key) ?? State()
            let firstStep = state.momentumBuffer == nil
            if o.momentum != 0 && firstStep { state.momentumBuffer = uninitialized(like: p.value) }
            let g = grad.contiguous(), value = p.value.contiguous()
            var out = uninitialized(like: value)
            let buffer = state.momentumBuffer?.uniqueOperand(), into = out.uniqueOperand()
            let h = SGDHyperparameters(learningRate: o.learningRate, momentum: o.momentum, dampening: o.dampening,
                                       nesterov: o.nesterov, weightDecay: o.weightDecay)
            value.withOperand { parameter in
                g.withOperand { gradient in
                    value.backend.sgdUpdate(parameter: parameter, gradient: gradient, momentumBuffer: buffer,
                                            firstStep: firstStep, hyperparameters: h, into: into)
                }
            }
            p.value = out
            states[key] = state
        }
    }

    /// The momentum buffers by parameter index, as PyTorch lays them out.
    public func stateDict() -> OptimizerStateDict {
        var dict = groupStateDict()
        for (i, p, _) in indexedParameters {
            if let buffer = states[ObjectIdentifier(p)]?.momentumBuffer { dict.tensors["state.\(i).momentum_buffer"] = buffer.copied() }
        }
        return dict
    }

    /// Restores the momentum buffers; throws `OptimizerError` when they do not fit these parameters.
    public func load(stateDict dict: OptimizerStateDict) throws {
        var loaded: [ObjectIdentifier: State] = [:]
        for (i, p, _) in indexedParameters {
            if let buffer = dict.tensors["state.\(i).momentum_buffer"] {
                guard buffer.shape == p.shape else {
                    throw OptimizerError.stateMismatch("momentum buffer \(i) is \(buffer.shape), parameter is \(p.shape)")
                }
                loaded[ObjectIdentifier(p)] = State(momentumBuffer: stateTensor(buffer, for: p))
            }
        }
        try loadLearningRates(dict)
        states = loaded
    }
}

extension GroupedOptimizer {
    /// A state dict holding each group's learning rate (`groups.<g>.lr`); optimizers add their per-parameter state.
    func groupStateDict() -> OptimizerStateDict {
        var dict = OptimizerStateDict()
        for (g, group) in groups.enumerated() { dict.scalars["groups.\(g).lr"] = group.options.learningRate }
        return dict
    }

    func loadLearningRates(_ dict: OptimizerStateDict) throws {
        for g in groups.indices {
            guard let lr = dict.scalars["groups.\(g).lr"] else {
                throw OptimizerError.stateMismatch("no learning rate for group \(g)")
            }
            groups[g].options.learningRate = lr
        }
    }
}
