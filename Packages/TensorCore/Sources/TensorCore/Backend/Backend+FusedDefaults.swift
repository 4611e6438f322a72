/// Default fused kernels composed from primitives: correct on any backend, with temporaries.
extension FusedOps {
    /// The reduced shape (size 1 on `axis`) viewed broadcast back to `shape`.
    private func keptAxis(_ shape: [Int], _ axis: Int) -> [Int] {
        var s = shape
        s[axis] = 1
        return s
    }

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

    /// The layer-norm backward from reductions and element-wise primitives.
    public func composedLayerNormBackward(_ x: Operand, normalized y: Operand, gradient g: Operand, epsilon: Double,
                                          into out: Operand) {
        let axis = x.shape.count - 1
        let n = Double(x.shape[axis])
        let reducedShape = keptAxis(x.shape, axis)
        func rowMean(_ v: Operand) -> Operand {
            let m = makeOperand(shape: reducedShape, dtype: v.dtype)
            reduce(.sum, v, axes: [axis], into: m)
            binary(.multiply, m, scalar: 1 / n, scalarIsLeft: false, into: m)
            return m.with(layout: m.layout.broadcast(to: x.shape))
        }
        // 1/σ from the variance of x: mean(x²) - mean(x)², as the forward's statistics.
        let centered = makeOperand(shape: x.shape, dtype: x.dtype)
        binary(.subtract, x, rowMean(x), into: centered)
        let squares = makeOperand(shape: x.shape, dtype: x.dtype)
        unary(.square, centered, into: squares)
        let inverseSigma = makeOperand(shape: reducedShape, dtype: x.dtype)
        reduce(.sum, squares, axes: [axis], into: inverseSigma)
        binary(.multiply, inverseSigma, scalar: 1 / n, scalarIsLeft: false, into: inverseSigma)
        binary(.add, inverseSigma, scalar: epsilon, scalarIsLeft: false, into: inverseSigma)
        unary(.rsqrt, inverseSigma, into: inverseSigma)
        let gy = makeOperand(shape: x.shape, dtype: x.dtype)
        binary(.multiply, g, y, into: gy)
        let yMeanGY = makeOperand(shape: x.shape, dtype: x.dtype)
        binary(.multiply, y, rowMean(gy), into: yMeanGY)
        binary(.subtract, g, rowMean(g), into: out)
        binary(.subtract, out, yMeanGY, into: out)
        binary(.multiply, out, inverseSigma.with(layout: inverseSigma.layout.broadcast(to: x.shape)), into: out)
    }

    /// Softmax from max, subtract, exp, sum and divide; what `softmax` does unless overridden.
    public func composedSoftmax(_ x: Operand, axis: Int, log: Bool, into out: Operand) {
        let reducedShape = keptAxis(x.shape, axis)
        let maxima = makeOperand(shape: reducedShape, dtype: x.dtype)
        reduce(.max, x, axes: [axis], into: maxima)
        let broadcastMax = maxima.with(layout: maxima.layout.broadcast(to: x.shape))
        let shifted = makeOperand(shape: x.shape, dtype: x.dtype)
        binary(.subtract, x, broadcastMax, into: shifted)
        let exps = makeOperand(shape: x.shape, dtype: x.dtype)
        unary(.exp, shifted, into: exps)
        let sums = makeOperand(shape: reducedShape, dtype: x.dtype)
        reduce(.sum, exps, axes: [axis], into: sums)
        if log {
            let logSums = makeOperand(shape: reducedShape, dtype: x.dtype)
            unary(.log, sums, into: logSums)
            binary(.subtract, shifted, logSums.with(layout: logSums.layout.broadcast(to: x.shape)), into: out)
        } else {
            binary(.divide, exps, sums.with(layout: sums.layout.broadcast(to: x.shape)), into: out)
        }
    }

    public func composedLayerNorm(_ x: Operand, epsilon: Double, into out: Operand) {
        let axis = x.shape.count - 1
        let n = Double(x.shape[axis])
        let reducedShape = keptAxis(x.shape, axis)
        let sums = makeOperand(shape: reducedShape, dtype: x.dtype)
        reduce(.sum, x, axes: [axis], into: sums)
        let means = makeOperand(shape: reducedShape, dtype: x.dtype)
        binary(.multiply, sums, scalar: 1 / n, scalarIsLeft: false, into: means)
        let centered = makeOperand(shape: x.shape, dtype: x.dtype)
        binary(.subtract, x, means.with(layout: means.layout.broadcast(to: x.shape)), into: centered)
        let squares = makeOperand(shape: x.shape, dtype: x.dtype)
        unary(.square, centered, into: squares)
        let variances = makeOperand(shape: reducedShape, dtype: x.dtype)
        reduce(.sum, squares, axes: [axis], into: variances)
        binary(.multiply, variances, scalar: 1 / n, scalarIsLeft: false, into: variances)
        binary(.add, variances, scalar: epsilon, scalarIsLeft: false, into: variances)
        unary(.rsqrt, variances, into: variances)
        binary(.multiply, centered, variances.with(layout: variances.layout.broadcast(to: x.shape)), into: out)
    }

    public func composedCrossEntropy(logits: Operand, targets: Operand, into out: Operand) {
        let logProbabilities = makeOperand(shape: logits.shape, dtype: logits.dtype)
        softmax(logits, axis: 1, log: true, into: logProbabilities)
        let n = logits.shape[0]
        let picked = makeOperand(shape: [n, 1], dtype: logits.dtype)
        let index = targets.with(layout: Layout(shape: [n, 1], strides: [targets.layout.strides[0], 0],
                                                offset: targets.layout.offset))
        gather(logProbabilities, axis: 1, index: index, into: picked)
        unary(.negate, picked.with(layout: Layout(contiguous: [n])), into: out)
    }
}
