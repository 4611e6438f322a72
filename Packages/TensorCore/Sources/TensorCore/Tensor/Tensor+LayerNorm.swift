extension Tensor {
    /// Normalises over the last axis to zero mean and unit variance (no affine part; the NN
    /// layer adds weight and bias). The fused kernels run forward and first-order backward;
    /// a recorded backward (`createGraph`) differentiates `layerNormFormula`.
    public func layerNormalized(epsilon: Double = 1e-5) -> Tensor {
        tensorCheck(rank >= 1 && dtype.isFloatingPoint,
                    "[layerNorm] needs a floating-point tensor with at least one axis, got \(shapeText(shape)) \(dtype)")
        let x = self
        let out = Tensor(uninitializedShape: shape, dtype: dtype, backend: backend)
        if elementCount > 0 { backend.layerNorm(operand, epsilon: epsilon, into: out.operand) }
        return out.recorded("layerNorm", x, saveOutput: true) { g, y in
            if isRecordingGradients {
                return Tensor.recomputedGradients([x], seeds: [g]) { [Tensor.layerNormFormula($0[0], epsilon: epsilon)] }
            }
            let grad = Tensor(uninitializedShape: x.shape, dtype: x.dtype, backend: x.backend)
            g.backend.layerNormBackward(x.contiguous().operand, normalized: y.operand, gradient: g.contiguous().operand,
                                        epsilon: epsilon, into: grad.operand)
            return [grad]
        }
    }

    /// The reference formula of the `layerNorm` requirement and, through autograd, of
    /// `layerNormBackward`: `(x - mean) / sqrt(var + ε)` over the last axis (biased variance).
    public static func layerNormFormula(_ x: Tensor, epsilon: Double) -> Tensor {
        let centered = x - x.mean(axes: [-1], keepDims: true)
        return centered * ((centered * centered).mean(axes: [-1], keepDims: true) + epsilon).rsqrt()
    }
}
