import TensorCore

/// Adam (Kingma & Ba) with optional AMSGrad; `decoupledWeightDecay` makes it AdamW
/// (Loshchilov & Hutter). Same update as PyTorch, step by step.
public class Adam: GroupedOptimizer<Adam.Options, Adam.State>, Optimizer {
    /// Adam's hyper-parameters for one parameter group (PyTorch's names and defaults).
    public struct Options: OptimizerOptions {
        /// Step size (`lr`).
        public var learningRate: Double
        /// Decay of the first-moment average (`betas[0]`).
        public var beta1: Double
        /// Decay of the second-moment average (`betas[1]`).
        public var beta2: Double
        /// Added to the denominator for stability (`eps`).
        public var epsilon: Double
        /// L2 penalty added to the gradient, or decoupled decay for AdamW.
        public var weightDecay: Double
        /// Use the maximum of past second moments (AMSGrad).
        public var amsgrad: Bool
        /// Decay the weights directly (AdamW) instead of through the gradient.
        public var decoupledWeightDecay: Bool

        /// Options with PyTorch's defaults.
        public init(learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8,
                    weightDecay: Double = 0, amsgrad: Bool = false, decoupledWeightDecay: Bool = false) {
            tensorCheck(learningRate >= 0 && epsilon >= 0 && weightDecay >= 0,
                        "[Adam] learning rate, epsilon and weight decay must be non-negative")
            tensorCheck(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, "[Adam] betas must lie in [0, 1), got \(beta1), \(beta2)")
            self.learningRate = learningRate
            self.beta1 = beta1
            self.beta2 = beta2
            self.epsilon = epsilon
            self.weightDecay = weightDecay
            self.amsgrad = amsgrad
            self.decoupledWeightDecay = decoupledWeightDecay
        }
    }

    /// `AdamState { step, firstMoment, secondMoment }`, plus the running maximum for AMSGrad.
    public struct State {
        /// Updates taken for this parameter (bias correction uses it).
        public var step: Int
        /// Running average of the gradient (`exp_avg`).
        public var firstMoment: Tensor
        /// Running average of the squared gradient (`exp_avg_sq`).
        public var secondMoment: Tensor
        /// Largest second moment seen (AMSGrad only; `max_exp_avg_sq`).
        public var maxSecondMoment: Tensor?
    }

    /// Adam over one group of `parameters`.
    public init(parameters: [Parameter], learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999,
                epsilon: Double = 1e-8, weightDecay: Double = 0, amsgrad: Bool = false) {
        super.init(groups: [ParameterGroup(parameters: parameters, options: Options(
            learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay, amsgrad: amsgrad))])
    }

    public override init(groups: [ParameterGroup<Options>]) { super.init(groups: groups) }

    /// One update of every parameter that has a gradient, as `torch.optim.Adam.step`.
    public func step() {
        forEachUpdate { p, grad, o in
            let key = ObjectIdentifier(p)
            // Taken out of the dictionary so the moments are held once and update in place.
            var state = states.removeValue(forKey: key) ?? State(step: 0, firstMoment: Tensor.zeros(like: p.value),
                                                                 secondMoment: Tensor.zeros(like: p.value),
                                                                 maxSecondMoment: o.amsgrad ? Tensor.zeros(like: p.value) : nil)
            state.step += 1
            let g = grad.contiguous(), value = p.value.contiguous()
            var out = uninitialized(like: value)
            let m = state.firstMoment.uniqueOperand(), v = state.secondMoment.uniqueOperand()
            let vMax = state.maxSecondMoment?.uniqueOperand(), into = out.uniqueOperand()
            let h = AdamHyperparameters(learningRate: o.learningRate, beta1: o.beta1, beta2: o.beta2, epsilon: o.epsilon,
                                        weightDecay: o.weightDecay, decoupledWeightDecay: o.decoupledWeightDecay, step: state.step)
            value.withOperand { parameter in
                g.withOperand { gradient in
                    value.backend.adamUpdate(parameter: parameter, gradient: gradient, firstMoment: m, secondMoment: v,
                                             maxSecondMoment: vMax, hyperparameters: h, into: into)
                }
            }
            p.value = out
            states[key] = state
        }
    }

    /// The moments and step counts by parameter index, as PyTorch lays them out.
    public func stateDict() -> OptimizerStateDict {
        var dict = groupStateDict()
        for (i, p, _) in indexedParameters {
            guard let s = states[ObjectIdentifier(p)] else { continue }
            dict.scalars["state.\(i).step"] = Double(s.step)
            dict.tensors["state.\(i).exp_avg"] = s.firstMoment.copied()
            dict.tensors["state.\(i).exp_avg_sq"] = s.secondMoment.copied()
            if let m = s.maxSecondMoment { dict.tensors["state.\(i).max_exp_avg_sq"] = m.copied() }
        }
        return dict
    }

    /// Restores moments and step counts; throws `OptimizerError` when they do not fit these parameters.
    public func load(stateDict dict: OptimizerStateDict) throws {
        var loaded: [ObjectIdentifier: State] = [:]
        for (i, p, o) in indexedParameters {
            guard let step = dict.scalars["state.\(i).step"] else { continue }
            guard let m = dict.tensors["state.\(i).exp_avg"], let v = dict.tensors["state.\(i).exp_avg_sq"] else {
                throw OptimizerError.stateMismatch("moments of parameter \(i) are missing")
            }
            guard m.shape == p.shape && v.shape == p.shape else {
                throw OptimizerError.stateMismatch("moments of parameter \(i) are \(m.shape), parameter is \(p.shape)")
            }
            let vmax = dict.tensors["state.\(i).max_exp_avg_sq"]
            if o.amsgrad && vmax == nil { throw OptimizerError.stateMismatch("AMSGrad maximum of parameter \(i) is missing") }
            func own(_ t: Tensor) -> Tensor { stateTensor(t, for: p) }
            loaded[ObjectIdentifier(p)] = State(step: Int(step), firstMoment: own(m), secondMoment: own(v),
                                                maxSecondMoment: o.amsgrad ? vmax.map(own) : nil)
        }
        try loadLearningRates(dict)
        states = loaded
    }
}

/// Adam with decoupled weight decay: `p ← p (1 - lr wd)` before the Adam step.
public final class AdamW: Adam {
    public override init(parameters: [Parameter], learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999,
                epsilon: Double = 1e-8, weightDecay: Double = 1e-2, amsgrad: Bool = false) {
        super.init(groups: [ParameterGroup(parameters: parameters, options: Options(
            learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay,
            amsgrad: amsgrad, decoupledWeightDecay: true))])
    }

    /// AdamW over `groups`, each with decoupled weight decay whatever its options say.
    public override init(groups: [ParameterGroup<Options>]) {
        super.init(groups: groups.map { g in
            var g = g
            g.options.decoupledWeightDecay = true
            return g
        })
    }
}
