/// The fused kernels' defaults, derived from their Tensor-level reference formulas
/// (`Tensor.softmaxFormula`, `layerNormFormula`, `crossEntropyFormula`): correct on any
/// backend, with temporaries.
extension FusedOps {
    public func softmax(_ x: Operand, axis: Int, log: Bool, into out: Operand) {
        composedSoftmax(x, axis: axis, log: log, into: out)
    }

    public func layerNorm(_ x: Operand, epsilon: Double, into out: Operand) {
        composedLayerNorm(x, epsilon: epsilon, into: out)
    }

    public func crossEntropy(logits: Operand, targets: Operand, into out: Operand) {
        composedCrossEntropy(logits: logits, targets: targets, into: out)
    }

    public func layerNormBackward(_ x: Operand, normalized y: Operand, gradient g: Operand, epsilon: Double,
                                  into out: Operand) {
        composedLayerNormBackward(x, normalized: y, gradient: g, epsilon: epsilon, into: out)
    }

    public func batchNorm(_ x: Operand, weight: Operand, bias: Operand, epsilon: Double, into out: Operand,
                          mean: Operand, variance: Operand) {
        composedBatchNorm(x, weight: weight, bias: bias, epsilon: epsilon, into: out, mean: mean, variance: variance)
    }

    public func batchNormBackward(_ x: Operand, gradient g: Operand, mean: Operand, variance: Operand, weight: Operand,
                                  epsilon: Double, into inputGradient: Operand, weightGradient: Operand, biasGradient: Operand) {
        composedBatchNormBackward(x, gradient: g, weight: weight, epsilon: epsilon, into: inputGradient,
                                  weightGradient: weightGradient, biasGradient: biasGradient)
    }

    /// Batch norm from `Tensor.batchNormFormula` on the primitives.
    public func composedBatchNorm(_ x: Operand, weight: Operand, bias: Operand, epsilon: Double, into out: Operand,
                                  mean: Operand, variance: Operand) {
        evaluateReferenceFormula([x, weight, bias], into: [out, mean, variance]) {
            Tensor.batchNormFormula($0[0], weight: $0[1], bias: $0[2], epsilon: epsilon)
        }
    }

    /// The vector-Jacobian product of `batchNormFormula`'s output (the statistics are recomputed;
    /// the bias only matters through its gradient, so zeros stand in for it).
    public func composedBatchNormBackward(_ x: Operand, gradient g: Operand, weight: Operand, epsilon: Double,
                                          into inputGradient: Operand, weightGradient: Operand, biasGradient: Operand) {
        let bias = Tensor.zeros(like: Tensor(operand: weight))
        evaluateReferenceGradients([x, weight, bias.operand], seeds: [g], into: [inputGradient, weightGradient, biasGradient]) {
            [Tensor.batchNormFormula($0[0], weight: $0[1], bias: $0[2], epsilon: epsilon)[0]]
        }
    }

    /// Softmax (or log-softmax) from `Tensor.softmaxFormula` on the primitives.
    public func composedSoftmax(_ x: Operand, axis: Int, log: Bool, into out: Operand) {
        evaluateReferenceFormula([x], into: [out]) { [Tensor.softmaxFormula($0[0], axis: axis, log: log)] }
    }

    /// Layer norm (without affine) from `Tensor.layerNormFormula` on the primitives.
    public func composedLayerNorm(_ x: Operand, epsilon: Double, into out: Operand) {
        evaluateReferenceFormula([x], into: [out]) { [Tensor.layerNormFormula($0[0], epsilon: epsilon)] }
    }

    /// The vector-Jacobian product of `layerNormFormula` (the normalised output `y` is not
    /// needed: the formula recomputes it).
    public func composedLayerNormBackward(_ x: Operand, normalized y: Operand, gradient g: Operand, epsilon: Double,
                                          into out: Operand) {
        evaluateReferenceGradients([x], seeds: [g], into: [out]) { [Tensor.layerNormFormula($0[0], epsilon: epsilon)] }
    }

    /// Per-row cross-entropy from `Tensor.crossEntropyFormula` on the primitives.
    public func composedCrossEntropy(logits: Operand, targets: Operand, into out: Operand) {
        evaluateReferenceFormula([logits, targets], into: [out]) { [Tensor.crossEntropyFormula(logits: $0[0], targets: $0[1])] }
    }
}
