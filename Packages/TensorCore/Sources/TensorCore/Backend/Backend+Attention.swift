/// Scaled dot-product attention as one requirement, so a GPU backend can run it as a single
/// fused (flash-style) kernel; the default composes two batched GEMMs and a softmax.
public protocol AttentionOps: MemoryOps, ElementwiseOps, ReductionOps, LinalgOps, FusedOps {
    /// `softmax(scale · q kᵀ + causal mask) v` over the last two axes.
    ///
    /// Shapes (batch axes already broadcast to one shape `B`): `query [B, L, d]`,
    /// `key [B, S, d]`, `value [B, S, dv]`, `out [B, L, dv]`, and `probabilities [B, L, S]`,
    /// which receives the attention weights the backward pass reuses. `causal` masks key `j`
    /// for query `i` when `j > i` (PyTorch's top-left alignment).
    func attention(query: Operand, key: Operand, value: Operand, scale: Double, causal: Bool,
                   into out: Operand, probabilities: Operand)
    /// The gradients of `attention` from the output gradient `gradient [B, L, dv]` and the
    /// saved `probabilities`: `gradQuery [B, L, d]`, `gradKey [B, S, d]`, `gradValue [B, S, dv]`.
    func attentionBackward(query: Operand, key: Operand, value: Operand, probabilities: Operand,
                           gradient: Operand, scale: Double, causal: Bool,
                           gradQuery: Operand, gradKey: Operand, gradValue: Operand)
}

extension Layout {
    /// The last two axes swapped (a view).
    public func transposingLastTwo() -> Layout {
        var shape = self.shape, strides = self.strides
        let r = shape.count
        shape.swapAt(r - 1, r - 2)
        strides.swapAt(r - 1, r - 2)
        return Layout(shape: shape, strides: strides, offset: offset)
    }
}

/// The defaults derive from `Tensor.attentionFormula`: the forward evaluates it, the backward is
/// its vector-Jacobian product (the saved probabilities are not needed: the formula recomputes them).
extension AttentionOps {
    public func attention(query: Operand, key: Operand, value: Operand, scale: Double, causal: Bool,
                          into out: Operand, probabilities: Operand) {
        composedAttention(query: query, key: key, value: value, scale: scale, causal: causal,
                          into: out, probabilities: probabilities)
    }

    /// Attention from `Tensor.attentionFormula` on the primitives.
    public func composedAttention(query: Operand, key: Operand, value: Operand, scale: Double, causal: Bool,
                                  into out: Operand, probabilities: Operand) {
        evaluateReferenceFormula([query, key, value], into: [out, probabilities]) { x in
            let r = Tensor.attentionFormula(query: x[0], key: x[1], value: x[2], isCausal: causal, scale: scale)
            return [r.output, r.weights]
        }
    }

    public func attentionBackward(query: Operand, key: Operand, value: Operand, probabilities: Operand,
                                  gradient: Operand, scale: Double, causal: Bool,
                                  gradQuery: Operand, gradKey: Operand, gradValue: Operand) {
        composedAttentionBackward(query: query, key: key, value: value, probabilities: probabilities,
                                  gradient: gradient, scale: scale, causal: causal, gradQuery: gradQuery,
                                  gradKey: gradKey, gradValue: gradValue)
    }

    /// Attention's backward as the autograd of `Tensor.attentionFormula`.
    public func composedAttentionBackward(query: Operand, key: Operand, value: Operand, probabilities: Operand,
                                          gradient: Operand, scale: Double, causal: Bool,
                                          gradQuery: Operand, gradKey: Operand, gradValue: Operand) {
        evaluateReferenceGradients([query, key, value], seeds: [gradient], into: [gradQuery, gradKey, gradValue]) { x in
            [Tensor.attentionFormula(query: x[0], key: x[1], value: x[2], isCausal: causal, scale: scale).output]
        }
    }
}
