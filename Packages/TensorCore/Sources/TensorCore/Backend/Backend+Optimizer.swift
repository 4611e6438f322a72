/// Hyper-parameters of one SGD update (PyTorch's formulation).
public struct SGDHyperparameters: Sendable {
    /// Step size.
    public var learningRate: Double
    /// Momentum factor (0: none).
    public var momentum: Double
    /// Dampening of the gradient added to the momentum buffer.
    public var dampening: Double
    /// Nesterov momentum.
    public var nesterov: Bool
    /// L2 penalty added to the gradient.
    public var weightDecay: Double

    /// SGD hyper-parameters with PyTorch's defaults.
    public init(learningRate: Double, momentum: Double = 0, dampening: Double = 0, nesterov: Bool = false,
                weightDecay: Double = 0) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        self.weightDecay = weightDecay
    }
}

/// Hyper-parameters of one Adam/AdamW update at step `step` (1-based).
public struct AdamHyperparameters: Sendable {
    /// Step size.
    public var learningRate: Double
    /// Decay of the first-moment average.
    public var beta1: Double
    /// Decay of the second-moment average.
    public var beta2: Double
    /// Added to the denominator for stability.
    public var epsilon: Double
    /// L2 penalty (or decoupled decay for AdamW).
    public var weightDecay: Double
    /// AdamW: decay the parameter directly instead of adding `weightDecay * p` to the gradient.
    public var decoupledWeightDecay: Bool
    /// The update's step number, from 1 (bias correction).
    public var step: Int

    /// Adam hyper-parameters with PyTorch's defaults.
    public init(learningRate: Double, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8,
                weightDecay: Double = 0, decoupledWeightDecay: Bool = false, step: Int) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
        self.step = step
    }
}

/// Optimizer updates as kernels. Operands are contiguous and of one shape. Moment buffers
/// are updated in place; the new parameter is written to `newParameter` (the old one may be
/// saved by a graph, so it is not overwritten).
public protocol OptimizerOps: MemoryOps, ElementwiseOps {
    /// `d = g + wd p`; with momentum `buf = firstStep ? d : m buf + (1 - dampening) d`,
    /// `d = nesterov ? d + m buf : buf`; `p' = p - lr d`.
    func sgdUpdate(parameter: Operand, gradient: Operand, momentumBuffer: Operand?, firstStep: Bool,
                   hyperparameters h: SGDHyperparameters, into newParameter: Operand)
    /// `m = β1 m + (1-β1) g`, `v = β2 v + (1-β2) g²` (`vmax = max(vmax, v)` for AMSGrad),
    /// `p' = p - lr/(1-β1ᵗ) · m / (√v̂/√(1-β2ᵗ) + ε)`, with L2 or decoupled weight decay.
    func adamUpdate(parameter: Operand, gradient: Operand, firstMoment: Operand, secondMoment: Operand,
                    maxSecondMoment: Operand?, hyperparameters h: AdamHyperparameters, into newParameter: Operand)
}

extension OptimizerOps {
    public func sgdUpdate(parameter: Operand, gradient: Operand, momentumBuffer: Operand?, firstStep: Bool,
                          hyperparameters h: SGDHyperparameters, into newParameter: Operand) {
        composedSGDUpdate(parameter: parameter, gradient: gradient, momentumBuffer: momentumBuffer, firstStep: firstStep,
                          hyperparameters: h, into: newParameter)
    }

    public func adamUpdate(parameter: Operand, gradient: Operand, firstMoment: Operand, secondMoment: Operand,
                           maxSecondMoment: Operand?, hyperparameters h: AdamHyperparameters, into newParameter: Operand) {
        composedAdamUpdate(parameter: parameter, gradient: gradient, firstMoment: firstMoment, secondMoment: secondMoment,
                           maxSecondMoment: maxSecondMoment, hyperparameters: h, into: newParameter)
    }

    private func scaled(_ x: Operand, _ s: Double) -> Operand {
        let out = makeOperand(shape: x.shape, dtype: x.dtype)
        binary(.multiply, x, scalar: s, scalarIsLeft: false, into: out)
        return out
    }

    /// SGD from element-wise primitives.
    public func composedSGDUpdate(parameter: Operand, gradient: Operand, momentumBuffer: Operand?, firstStep: Bool,
                                  hyperparameters h: SGDHyperparameters, into newParameter: Operand) {
        var d = gradient
        if h.weightDecay != 0 {
            let decayed = makeOperand(shape: d.shape, dtype: d.dtype)
            binary(.add, d, scaled(parameter, h.weightDecay), into: decayed)
            d = decayed
        }
        if let buffer = momentumBuffer, h.momentum != 0 {
            if firstStep {
                copy(d, into: buffer)
            } else {
                binary(.multiply, buffer, scalar: h.momentum, scalarIsLeft: false, into: buffer)
                binary(.add, buffer, scaled(d, 1 - h.dampening), into: buffer)
            }
            if h.nesterov {
                let n = makeOperand(shape: d.shape, dtype: d.dtype)
                binary(.add, d, scaled(buffer, h.momentum), into: n)
                d = n
            } else {
                d = buffer
            }
        }
        binary(.subtract, parameter, scaled(d, h.learningRate), into: newParameter)
    }

    /// Adam/AdamW from element-wise primitives.
    public func composedAdamUpdate(parameter: Operand, gradient: Operand, firstMoment m: Operand, secondMoment v: Operand,
                                   maxSecondMoment: Operand?, hyperparameters h: AdamHyperparameters,
                                   into newParameter: Operand) {
        var g = gradient
        var p = parameter
        if h.weightDecay != 0 {
            if h.decoupledWeightDecay {
                p = scaled(parameter, 1 - h.learningRate * h.weightDecay)
            } else {
                let decayed = makeOperand(shape: g.shape, dtype: g.dtype)
                binary(.add, g, scaled(parameter, h.weightDecay), into: decayed)
                g = decayed
            }
        }
        binary(.multiply, m, scalar: h.beta1, scalarIsLeft: false, into: m)
        binary(.add, m, scaled(g, 1 - h.beta1), into: m)
        let g2 = makeOperand(shape: g.shape, dtype: g.dtype)
        binary(.multiply, g, g, into: g2)
        binary(.multiply, v, scalar: h.beta2, scalarIsLeft: false, into: v)
        binary(.add, v, scaled(g2, 1 - h.beta2), into: v)
        var vHat = v
        if let vmax = maxSecondMoment {
            binary(.maximum, vmax, v, into: vmax)
            vHat = vmax
        }
        let t = Double(h.step)
        let bias1 = 1 - power(h.beta1, t), bias2 = 1 - power(h.beta2, t)
        let denominator = makeOperand(shape: g.shape, dtype: g.dtype)
        unary(.sqrt, vHat, into: denominator)
        binary(.multiply, denominator, scalar: 1 / bias2.squareRoot(), scalarIsLeft: false, into: denominator)
        binary(.add, denominator, scalar: h.epsilon, scalarIsLeft: false, into: denominator)
        let ratio = makeOperand(shape: g.shape, dtype: g.dtype)
        binary(.divide, m, denominator, into: ratio)
        binary(.subtract, p, scaled(ratio, h.learningRate / bias1), into: newParameter)
    }
}

/// Integer powers without Foundation.
func power(_ base: Double, _ exponent: Double) -> Double { Double._pow(base, exponent) }
