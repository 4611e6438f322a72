extension Tensor {
    /// Batch normalisation with the batch's statistics (training mode) over axis 1 of
    /// `[N, C, *]`: `(x - mean) / sqrt(var + ε) · weight + bias` per channel, with the biased
    /// variance, as `torch.nn.functional.batch_norm(training=True)`. Returns the output and the
    /// batch `mean` and biased `variance` `[C]` (constants: for running estimates).
    ///
    /// One fused kernel each way (`FusedOps.batchNorm`, `batchNormBackward`): two passes over
    /// `x` forward and two over `x` and the gradient backward, instead of a dozen broadcast
    /// ops and their temporaries. Under `createGraph` the gradient is recomputed through
    /// `batchNormFormula`, so higher derivatives stay exact.
    public func batchNormalized(weight: Tensor, bias: Tensor, epsilon: Double = 1e-5) -> (output: Tensor, mean: Tensor, variance: Tensor) {
        tensorCheck(rank >= 2 && dtype.isFloatingPoint,
                    "[batchNorm] input \(shapeText(shape)) \(dtype) should be a floating-point [N, C, ...]")
        let c = shape[1]
        tensorCheck(elementCount > 0 && elementCount / c > 0, "[batchNorm] input \(shapeText(shape)) has no values per channel")
        for (name, t) in [("weight", weight), ("bias", bias)] {
            tensorCheck(t.shape == [c], "[batchNorm] \(name) \(shapeText(t.shape)) should be [\(c)]")
            tensorCheck(t.dtype == dtype && t.device == device,
                        "[batchNorm] \(name) is \(t.dtype) on \(t.device), input \(dtype) on \(device)")
        }
        let x = contiguous(), w = weight.contiguous(), b = bias.contiguous()
        let out = Tensor(uninitializedShape: shape, dtype: dtype, backend: backend)
        let mean = Tensor(uninitializedShape: [c], dtype: dtype, backend: backend)
        let variance = Tensor(uninitializedShape: [c], dtype: dtype, backend: backend)
        backend.batchNorm(x.operand, weight: w.operand, bias: b.operand, epsilon: epsilon, into: out.operand,
                          mean: mean.operand, variance: variance.operand)
        let output = out.recorded("batchNorm", [x, w, b]) { g, _ in
            if isRecordingGradients {
                return Tensor.recomputedGradients([x, w, b], seeds: [g]) {
                    [Tensor.batchNormFormula($0[0], weight: $0[1], bias: $0[2], epsilon: epsilon)[0]]
                }
            }
            let dx = Tensor(uninitializedShape: x.shape, dtype: x.dtype, backend: x.backend)
            let dw = Tensor(uninitializedShape: [c], dtype: x.dtype, backend: x.backend)
            let db = Tensor(uninitializedShape: [c], dtype: x.dtype, backend: x.backend)
            g.backend.batchNormBackward(x.operand, gradient: g.contiguous().operand, mean: mean.operand, variance: variance.operand,
                                        weight: w.operand, epsilon: epsilon, into: dx.operand, weightGradient: dw.operand,
                                        biasGradient: db.operand)
            return [dx, dw, db]
        }
        return (output, mean, variance)
    }

    /// The reference formula of the `batchNorm` requirement and, through autograd, of
    /// `batchNormBackward`: `[output, mean [C], biased variance [C]]`.
    public static func batchNormFormula(_ x: Tensor, weight: Tensor, bias: Tensor, epsilon: Double) -> [Tensor] {
        let c = x.shape[1]
        let statShape = [1, c] + [Int](repeating: 1, count: x.rank - 2)
        let axes = [0] + Array(2..<x.rank)
        let mean = x.mean(axes: axes, keepDims: true)
        let centered = x - mean
        let variance = (centered * centered).mean(axes: axes, keepDims: true)
        let output = centered * ((variance + epsilon).rsqrt() * weight.reshaped(to: statShape)) + bias.reshaped(to: statShape)
        return [output, mean.reshaped(to: [c]), variance.reshaped(to: [c])]
    }
}
