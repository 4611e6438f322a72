extension Tensor {
    /// `exp(x) / sum(exp(x))` along `axis`, computed stably.
    public func softmax(axis: Int = -1) -> Tensor {
        let a = normalizedAxis(axis, rank: rank, op: "softmax")
        tensorCheck(dtype.isFloatingPoint, "[softmax] needs a floating-point tensor, got \(dtype)")
        let out = Tensor(uninitializedShape: shape, dtype: dtype, backend: backend)
        if elementCount > 0 { backend.softmax(operand, axis: a, log: false, into: out.operand) }
        return out.recorded("softmax", self, saveOutput: true) { g, y in
            [y * (g - (g * y).sum(axes: [a], keepDims: true))]
        }
    }

    /// `x - logSumExp(x)` along `axis`.
    public func logSoftmax(axis: Int = -1) -> Tensor {
        let a = normalizedAxis(axis, rank: rank, op: "logSoftmax")
        tensorCheck(dtype.isFloatingPoint, "[logSoftmax] needs a floating-point tensor, got \(dtype)")
        let out = Tensor(uninitializedShape: shape, dtype: dtype, backend: backend)
        if elementCount > 0 { backend.softmax(operand, axis: a, log: true, into: out.operand) }
        return out.recorded("logSoftmax", self, saveOutput: true) { g, y in
            [g - y.exp() * g.sum(axes: [a], keepDims: true)]
        }
    }

    /// The reference formula of the `softmax` requirement (and its `log` form): the maximum
    /// subtracted, exponentials, their sum. What a backend without the fused kernel runs.
    public static func softmaxFormula(_ x: Tensor, axis: Int, log: Bool) -> Tensor {
        let shifted = x - x.max(axes: [axis], keepDims: true)
        let exps = shifted.exp(), sums = exps.sum(axes: [axis], keepDims: true)
        return log ? shifted - sums.log() : exps / sums
    }

    /// The reference formula of the `crossEntropy` requirement: per-row `-log softmax(logits)[target]`
    /// for `logits [n, c]` and int64 `targets [n]`.
    public static func crossEntropyFormula(logits: Tensor, targets: Tensor) -> Tensor {
        let n = logits.shape[0]
        let logProbabilities = softmaxFormula(logits, axis: 1, log: true)
        return -logProbabilities.gather(axis: 1, index: targets.reshaped(to: [n, 1])).reshaped(to: [n])
    }
}
