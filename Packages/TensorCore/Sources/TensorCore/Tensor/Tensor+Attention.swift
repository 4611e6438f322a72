extension Tensor {
    /// `softmax(q kᵀ · scale + mask) v`, PyTorch's `scaled_dot_product_attention`.
    ///
    /// Shapes: `query [..., L, d]`, `key [..., S, d]`, `value [..., S, dv]` with broadcastable
    /// leading axes; result `[..., L, dv]`. `mask` broadcasts to `[..., L, S]`: a bool mask
    /// keeps positions that are true, a float mask is added to the scores. `isCausal` lets
    /// query `i` see keys `j <= i`. `scale` defaults to `1/sqrt(d)`. `dropout` drops attention
    /// weights (scaled by `1/(1-p)`) and belongs to training only.
    ///
    /// Without mask and dropout this runs the backend's fused `attention` and a backward from
    /// the saved weights; otherwise it is composed from differentiable primitives.
    public static func scaledDotProductAttention(query: Tensor, key: Tensor, value: Tensor, mask: Tensor? = nil,
                                                 isCausal: Bool = false, dropout: Double = 0, scale: Double? = nil,
                                                 generator: RandomGenerator? = nil) -> Tensor {
        let op = "[scaledDotProductAttention]"
        tensorCheck(query.rank >= 2 && key.rank >= 2 && value.rank >= 2,
                    "\(op) query, key and value need at least 2 axes, got \(shapeText(query.shape)), \(shapeText(key.shape)), \(shapeText(value.shape))")
        let l = query.shape[query.rank - 2], d = query.shape[query.rank - 1]
        let s = key.shape[key.rank - 2]
        tensorCheck(key.shape[key.rank - 1] == d,
                    "\(op) query \(shapeText(query.shape)) and key \(shapeText(key.shape)) differ in feature size")
        tensorCheck(value.shape[value.rank - 2] == s,
                    "\(op) key \(shapeText(key.shape)) and value \(shapeText(value.shape)) differ in sequence length")
        tensorCheck(query.dtype.isFloatingPoint && key.dtype == query.dtype && value.dtype == query.dtype,
                    "\(op) needs one floating-point dtype, got \(query.dtype), \(key.dtype), \(value.dtype)")
        tensorCheck(query.device == key.device && key.device == value.device,
                    "\(op) operands on \(query.device), \(key.device) and \(value.device)")
        tensorCheck(dropout >= 0 && dropout < 1, "\(op) dropout \(dropout) is outside [0, 1)")
        guard let qk = broadcastShapes(Array(query.shape.dropLast(2)), Array(key.shape.dropLast(2))),
              let batch = broadcastShapes(qk, Array(value.shape.dropLast(2))) else {
            tensorFailure("\(op) batch axes of query \(shapeText(query.shape)), key \(shapeText(key.shape)) and value \(shapeText(value.shape)) cannot be broadcast")
        }
        if let mask {
            tensorCheck(broadcastShapes(mask.shape, batch + [l, s]) == batch + [l, s],
                        "\(op) mask \(shapeText(mask.shape)) does not broadcast to the scores \(shapeText(batch + [l, s]))")
            tensorCheck(mask.dtype == .bool || mask.dtype == query.dtype,
                        "\(op) mask must be bool or \(query.dtype), got \(mask.dtype)")
        }
        let factor = scale ?? 1 / Double(d).squareRoot()
        if mask != nil || dropout > 0 {
            return composedAttention(query: query, key: key, value: value, mask: mask, isCausal: isCausal,
                                     dropout: dropout, scale: factor, generator: generator)
        }
        return fusedAttention(query: query, key: key, value: value, batch: batch, isCausal: isCausal, scale: factor)
    }

    private static func fusedAttention(query: Tensor, key: Tensor, value: Tensor, batch: [Int], isCausal: Bool,
                                       scale: Double) -> Tensor {
        let l = query.shape[query.rank - 2], s = key.shape[key.rank - 2], dv = value.shape[value.rank - 1]
        let q = query.broadcast(to: batch + Array(query.shape.suffix(2))).detached()
        let k = key.broadcast(to: batch + Array(key.shape.suffix(2))).detached()
        let v = value.broadcast(to: batch + Array(value.shape.suffix(2))).detached()
        let out = Tensor(uninitializedShape: batch + [l, dv], dtype: query.dtype, backend: query.backend)
        let weights = Tensor(uninitializedShape: batch + [l, s], dtype: query.dtype, backend: query.backend)
        out.backend.attention(query: q.operand, key: k.operand, value: v.operand, scale: scale, causal: isCausal,
                              into: out.operand, probabilities: weights.operand)
        return out.recorded("attention", [query, key, value]) { g, _ in
            if ThreadState.current.gradientsEnabled {
                return recomputedGradients([query, key, value], seeds: [g]) { x in
                    [composedAttention(query: x[0], key: x[1], value: x[2], mask: nil, isCausal: isCausal,
                                       dropout: 0, scale: scale, generator: nil)]
                }
            }
            let gradient = g.detached()
            func fresh(_ like: Tensor) -> Tensor {
                Tensor(uninitializedShape: like.shape, dtype: like.dtype, backend: like.backend)
            }
            let dq = fresh(q), dk = fresh(k), dv = fresh(v)
            out.backend.attentionBackward(query: q.operand, key: k.operand, value: v.operand,
                                          probabilities: weights.operand, gradient: gradient.operand, scale: scale,
                                          causal: isCausal, gradQuery: dq.operand, gradKey: dk.operand,
                                          gradValue: dv.operand)
            return [query.requiresGrad ? dq.sumToShape(query.shape) : nil,
                    key.requiresGrad ? dk.sumToShape(key.shape) : nil,
                    value.requiresGrad ? dv.sumToShape(value.shape) : nil]
        }
    }

    /// Attention from differentiable primitives: the reference for the fused path and the
    /// path for masks and dropout.
    public static func composedAttention(query: Tensor, key: Tensor, value: Tensor, mask: Tensor?, isCausal: Bool,
                                         dropout: Double, scale: Double, generator: RandomGenerator?) -> Tensor {
        attentionFormula(query: query, key: key, value: value, mask: mask, isCausal: isCausal, dropout: dropout,
                         scale: scale, generator: generator).output
    }

    /// The reference formula of the `attention` requirement (and, through autograd, of
    /// `attentionBackward`): the output and the attention weights (after dropout), as
    /// `softmax(scale · q kᵀ + causal and given masks) v`. Differentiable to any order.
    public static func attentionFormula(query: Tensor, key: Tensor, value: Tensor, mask: Tensor? = nil,
                                        isCausal: Bool, dropout: Double = 0, scale: Double,
                                        generator: RandomGenerator? = nil) -> (output: Tensor, weights: Tensor) {
        var scores = query.matmul(key.transposed()) * scale
        let l = scores.shape[scores.rank - 2], s = scores.shape[scores.rank - 1]
        if isCausal {
            let future = Tensor.arange(Double(s), device: query.device).reshaped(to: [1, s])
                .> Tensor.arange(Double(l), device: query.device).reshaped(to: [l, 1])
            scores = scores.maskedFill(future, with: -.infinity)
        }
        if let mask {
            scores = mask.dtype == .bool ? scores.maskedFill(mask.logicalNot(), with: -.infinity) : scores + mask
        }
        var weights = scores.softmax(axis: -1)
        if dropout > 0 {
            let keep = Tensor.bernoulli(weights.shape, p: 1 - dropout, dtype: weights.dtype, device: weights.device,
                                        generator: generator)
            weights = weights * keep * (1 / (1 - dropout))
        }
        return (weights.matmul(value), weights)
    }
}
