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
    func transposingLastTwo() -> Layout {
        var shape = self.shape, strides = self.strides
        let r = shape.count
        shape.swapAt(r - 1, r - 2)
        strides.swapAt(r - 1, r - 2)
        return Layout(shape: shape, strides: strides, offset: offset)
    }
}

extension AttentionOps {
    public func attention(query: Operand, key: Operand, value: Operand, scale: Double, causal: Bool,
                          into out: Operand, probabilities: Operand) {
        composedAttention(query: query, key: key, value: value, scale: scale, causal: causal,
                          into: out, probabilities: probabilities)
    }

    public func composedAttention(query: Operand, key: Operand, value: Operand, scale: Double, causal: Bool,
                                  into out: Operand, probabilities: Operand) {
        let scores = makeOperand(shape: probabilities.shape, dtype: probabilities.dtype)
        matmul(query, key.with(layout: key.layout.transposingLastTwo()), into: scores)
        binary(.multiply, scores, scalar: scale, scalarIsLeft: false, into: scores)
        if causal {
            let r = scores.shape.count
            let l = scores.shape[r - 2], s = scores.shape[r - 1]
            let mask = causalMask(queries: l, keys: s, dtype: scores.dtype)
            binary(.add, scores, mask.with(layout: mask.layout.broadcast(to: scores.shape)), into: scores)
        }
        softmax(scores, axis: scores.shape.count - 1, log: false, into: probabilities)
        matmul(probabilities, value, into: out)
    }

    public func attentionBackward(query: Operand, key: Operand, value: Operand, probabilities: Operand,
                                  gradient: Operand, scale: Double, causal: Bool,
                                  gradQuery: Operand, gradKey: Operand, gradValue: Operand) {
        composedAttentionBackward(query: query, key: key, value: value, probabilities: probabilities,
                                  gradient: gradient, scale: scale, gradQuery: gradQuery, gradKey: gradKey,
                                  gradValue: gradValue)
    }

    /// With P the weights: dV = Pᵀ g, dS = s · P ⊙ (g Vᵀ − rowsum(g Vᵀ ⊙ P)), dQ = dS K,
    /// dK = dSᵀ Q. The mask needs no term: masked weights are 0.
    public func composedAttentionBackward(query: Operand, key: Operand, value: Operand, probabilities: Operand,
                                          gradient: Operand, scale: Double,
                                          gradQuery: Operand, gradKey: Operand, gradValue: Operand) {
        let p = probabilities, r = p.shape.count
        let gradScores = makeOperand(shape: p.shape, dtype: p.dtype)
        matmul(gradient, value.with(layout: value.layout.transposingLastTwo()), into: gradScores)
        let product = makeOperand(shape: p.shape, dtype: p.dtype)
        binary(.multiply, gradScores, p, into: product)
        var rowShape = p.shape
        rowShape[r - 1] = 1
        let rowDots = makeOperand(shape: rowShape, dtype: p.dtype)
        reduce(.sum, product, axes: [r - 1], into: rowDots)
        binary(.subtract, gradScores, rowDots.with(layout: rowDots.layout.broadcast(to: p.shape)), into: gradScores)
        binary(.multiply, gradScores, p, into: gradScores)
        binary(.multiply, gradScores, scalar: scale, scalarIsLeft: false, into: gradScores)
        matmul(gradScores, key, into: gradQuery)
        matmul(gradScores.with(layout: gradScores.layout.transposingLastTwo()), query, into: gradKey)
        matmul(p.with(layout: p.layout.transposingLastTwo()), gradient, into: gradValue)
    }

    /// `[l, s]` additive mask: 0 where key `j <= i`, -inf after.
    private func causalMask(queries l: Int, keys s: Int, dtype: DType) -> Operand {
        let mask = makeOperand(shape: [l, s], dtype: .float64)
        var host = [Double](repeating: 0, count: l * s)
        for i in 0..<l { for j in (i + 1)..<Swift.max(i + 1, s) { host[i * s + j] = -.infinity } }
        host.withUnsafeBytes { copyFromHost($0, into: mask.storage) }
        if dtype == .float64 { return mask }
        let cast = makeOperand(shape: [l, s], dtype: dtype)
        copy(mask, into: cast)
        return cast
    }
}
