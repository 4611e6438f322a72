import NN
import TensorCore

/// `softmax(q kᵀ · scale + mask) v` as PyTorch's `F.scaled_dot_product_attention`: a bool
/// `mask` keeps positions that are **true**, a float mask is added; `isCausal` hides later
/// keys. Runs the backend's fused attention when there is no mask and no dropout.
public func scaledDotProductAttention(_ query: Tensor, _ key: Tensor, _ value: Tensor, mask: Tensor? = nil,
                                      isCausal: Bool = false, dropout: Double = 0, scale: Double? = nil,
                                      generator: RandomGenerator? = nil) -> Tensor {
    Tensor.scaledDotProductAttention(query: query, key: key, value: value, mask: mask, isCausal: isCausal,
                                     dropout: dropout, scale: scale, generator: generator)
}

/// Masks for attention patterns, as bool tensors where **true means may attend** (the
/// convention of `scaledDotProductAttention`).
public enum AttentionMask {
    /// `[queries, keys]`: query `i` sees keys `j <= i + (keys - queries)` (bottom-right
    /// aligned, so the last query sees every key, as with a key/value cache).
    public static func causal(queries: Int, keys: Int, device: Device = .cpu) -> Tensor {
        let offset = Double(keys - queries)
        let j = Tensor.arange(Double(keys), device: device).reshaped(to: [1, keys])
        let i = Tensor.arange(Double(queries), device: device).reshaped(to: [queries, 1])
        return j .<= (i + offset)
    }

    /// Sliding-window (local) attention: query `i` sees the `window` keys ending at its own
    /// position (`causal`) or the keys within `window` positions on either side.
    public static func slidingWindow(length: Int, window: Int, causal: Bool = true, device: Device = .cpu) -> Tensor {
        tensorCheck(window > 0, "[AttentionMask.slidingWindow] window must be positive, got \(window)")
        let j = Tensor.arange(Double(length), device: device).reshaped(to: [1, length])
        let i = Tensor.arange(Double(length), device: device).reshaped(to: [length, 1])
        let distance = i - j
        return causal ? (distance .>= 0) .& (distance .< Double(window)) : distance.abs() .<= Double(window)
    }

    /// `[batch, 1, 1, keys]` from per-sequence lengths: keys past a sequence's length are hidden.
    public static func padding(lengths: [Int], keys: Int, device: Device = .cpu) -> Tensor {
        let j = Tensor.arange(Double(keys), device: device).reshaped(to: [1, keys])
        let l = Tensor(lengths.map(Double.init), shape: [lengths.count, 1]).moved(to: device)
        return (j .< l).reshaped(to: [lengths.count, 1, 1, keys])
    }
}

/// Keys and values of earlier positions, per attention layer, for incremental decoding:
/// each step feeds only the new tokens and attends over everything cached.
public final class KeyValueCache {
    /// Cached keys `[..., positions, d]` (nil before the first append).
    public private(set) var keys: Tensor?
    /// Cached values `[..., positions, d]` (nil before the first append).
    public private(set) var values: Tensor?

    /// An empty cache.
    public init() {}

    /// Cached positions.
    public var count: Int { keys.map { $0.shape[$0.rank - 2] } ?? 0 }

    /// Appends `[..., new, d]` keys and values along the sequence axis and returns everything.
    public func append(keys k: Tensor, values v: Tensor) -> (keys: Tensor, values: Tensor) {
        let axis = k.rank - 2
        keys = keys.map { Tensor.concatenated([$0, k], axis: axis) } ?? k
        values = values.map { Tensor.concatenated([$0, v], axis: axis) } ?? v
        return (keys!, values!)
    }

    /// Empties the cache (a new sequence).
    public func reset() {
        keys = nil
        values = nil
    }
}

/// Multi-head attention with PyTorch's semantics and parameter names (`in_proj_weight`,
/// `in_proj_bias`, `out_proj.weight`, `out_proj.bias`), so weights convert.
///
/// Masks follow `torch.nn.MultiheadAttention`: in `attentionMask` (`[L, S]` or
/// `[batch·heads, L, S]`) and `keyPaddingMask` (`[batch, S]`), **true means masked out**; a
/// float `attentionMask` is added to the scores.
///
/// ```swift
/// let attention = MultiheadAttention(embedDim: 64, numHeads: 4, batchFirst: true)
/// let (y, weights) = attention(x, x, x, needWeights: true)   // y [batch, time, 64]
/// ```
public final class MultiheadAttention: Module {
    /// Model width `E`.
    public let embedDim: Int
    /// Heads (`E` must be a multiple).
    public let numHeads: Int
    /// Inputs `[batch, time, E]` when true, `[time, batch, E]` otherwise (PyTorch's default).
    public let batchFirst: Bool
    /// Dropout on the attention weights in training.
    public let dropout: Double
    /// Stacked query, key and value projections `[3E, E]` (`in_proj_weight`).
    public let inProjWeight: Parameter
    /// Their biases `[3E]` (nil without bias).
    public let inProjBias: Parameter?
    /// The output projection (`out_proj`).
    public let outProj: Linear
    let generator: RandomGenerator?

    /// Multi-head attention initialised like PyTorch's (Xavier-uniform projections, zero biases).
    public init(embedDim: Int, numHeads: Int, batchFirst: Bool = false, dropout: Double = 0, bias: Bool = true,
                dtype: DType = .float32, generator: RandomGenerator? = nil) {
        tensorCheck(embedDim > 0 && numHeads > 0 && embedDim % numHeads == 0,
                    "[MultiheadAttention] embedDim \(embedDim) must be a positive multiple of numHeads \(numHeads)")
        self.embedDim = embedDim
        self.numHeads = numHeads
        self.batchFirst = batchFirst
        self.dropout = dropout
        self.generator = generator
        // PyTorch: Xavier-uniform in-projection, zero biases.
        inProjWeight = Parameter(Initializer.xavierUniform([3 * embedDim, embedDim], dtype: dtype, generator: generator))
        inProjBias = bias ? Parameter(Tensor.zeros([3 * embedDim], dtype: dtype)) : nil
        outProj = Linear(inputSize: embedDim, outputSize: embedDim, bias: bias, dtype: dtype, generator: generator)
        if let b = outProj.bias { b.value = Tensor.zeros([embedDim], dtype: dtype) }
    }

    public override var namedOwnParameters: [(String, Parameter)] {
        [("in_proj_weight", inProjWeight)] + (inProjBias.map { [("in_proj_bias", $0)] } ?? [])
    }

    public override var namedChildren: [(String, Module)] { [("out_proj", outProj)] }

    /// Self-attention on one input.
    public override func forward(_ x: Tensor) -> Tensor { self(x, x, x).output }

    /// Attention of `query` over `key`/`value` (`[L, B, E]`, or `[B, L, E]` batch-first,
    /// or unbatched `[L, E]`). Returns the output and, when `needWeights`, the attention
    /// weights `[B, L, S]` averaged over heads (or `[B, heads, L, S]`).
    public func callAsFunction(_ query: Tensor, _ key: Tensor, _ value: Tensor, keyPaddingMask: Tensor? = nil,
                               attentionMask: Tensor? = nil, isCausal: Bool = false, needWeights: Bool = false,
                               averageWeights: Bool = true, cache: KeyValueCache? = nil) -> (output: Tensor, weights: Tensor?) {
        let name = "[MultiheadAttention]"
        tensorCheck(query.rank == key.rank && key.rank == value.rank && (query.rank == 2 || query.rank == 3),
                    "\(name) query \(shapeText(query.shape)), key \(shapeText(key.shape)) and value \(shapeText(value.shape)) should all be [L, B, E] / [B, L, E] or unbatched [L, E]")
        for (label, t) in [("query", query), ("key", key), ("value", value)] {
            tensorCheck(t.shape.last == embedDim, "\(name) \(label) \(shapeText(t.shape)) should end in embedDim \(embedDim)")
        }
        let unbatched = query.rank == 2
        // To [B, L, E].
        func batched(_ t: Tensor) -> Tensor { unbatched ? t.unsqueezed(axis: 0) : (batchFirst ? t : t.transposed(0, 1)) }
        let q = batched(query), k = batched(key), v = batched(value)
        let b = q.shape[0], l = q.shape[1], s = k.shape[1], h = numHeads, d = embedDim / numHeads
        tensorCheck(k.shape[0] == b && v.shape[0] == b && v.shape[1] == s,
                    "\(name) query \(shapeText(query.shape)), key \(shapeText(key.shape)) and value \(shapeText(value.shape)) disagree in batch or source length")

        let w = inProjWeight.value, bias = inProjBias?.value
        func project(_ x: Tensor, _ part: Int) -> Tensor {
            let wp = w.narrowed(axis: 0, start: part * embedDim, length: embedDim)
            let bp = bias?.narrowed(axis: 0, start: part * embedDim, length: embedDim)
            // [B, T, E] -> [B, H, T, d]
            return x.linear(weight: wp, bias: bp).reshaped(to: [b, x.shape[1], h, d]).transposed(1, 2)
        }
        var qh: Tensor, kh: Tensor, vh: Tensor
        if query.isSameView(as: key) && key.isSameView(as: value) {
            // Self-attention: one GEMM for all three projections.
            let qkv = q.linear(weight: w, bias: bias).reshaped(to: [b, l, 3, h, d]).permuted(2, 0, 3, 1, 4)
            (qh, kh, vh) = (qkv[0], qkv[1], qkv[2])
        } else {
            (qh, kh, vh) = (project(q, 0), project(k, 1), project(v, 2))
        }
        if let cache { (kh, vh) = cache.append(keys: kh, values: vh) }
        let keys = kh.shape[2]

        // One bool "may attend" mask [B or 1, H or 1, L, S] from PyTorch's "true = masked" inputs.
        var allowed: Tensor? = nil
        var additive: Tensor? = nil
        if let m = attentionMask {
            let shaped: Tensor
            if m.rank == 2 {
                tensorCheck(m.shape == [l, keys], "\(name) attentionMask \(shapeText(m.shape)) should be [\(l), \(keys)]")
                shaped = m.reshaped(to: [1, 1, l, keys])
            } else {
                tensorCheck(m.shape == [b * h, l, keys],
                            "\(name) attentionMask \(shapeText(m.shape)) should be [\(l), \(keys)] or [\(b * h), \(l), \(keys)]")
                shaped = m.reshaped(to: [b, h, l, keys])
            }
            if m.dtype == .bool { allowed = shaped.logicalNot() } else { additive = shaped }
        }
        if let p = keyPaddingMask {
            tensorCheck(p.shape == [b, keys], "\(name) keyPaddingMask \(shapeText(p.shape)) should be [\(b), \(keys)]")
            tensorCheck(p.dtype == .bool, "\(name) keyPaddingMask must be bool, got \(p.dtype)")
            let keep = p.logicalNot().reshaped(to: [b, 1, 1, keys])
            allowed = allowed.map { $0 .& keep } ?? keep
        }
        if isCausal {
            let causal = AttentionMask.causal(queries: l, keys: keys, device: q.device).reshaped(to: [1, 1, l, keys])
            allowed = allowed.map { $0 .& causal } ?? causal
        }
        var mask: Tensor? = additive
        if let allowed {
            mask = additive.map { $0.maskedFill(allowed.logicalNot(), with: -.infinity) } ?? allowed
        }
        let p = isTraining ? dropout : 0
        let attended: Tensor, weights: Tensor?
        if needWeights {
            let scale = 1 / Double(d).squareRoot()
            // TensorCore's reference formula gives the weights; dropout stays NN's (its own stream).
            let reference = Tensor.attentionFormula(query: qh, key: kh, value: vh, mask: mask, isCausal: false, scale: scale)
            let probabilities = reference.weights
            attended = p > 0 ? NN.dropout(probabilities, p: p, generator: generator).matmul(vh) : reference.output
            weights = averageWeights ? probabilities.mean(axis: 1) : probabilities
        } else {
            // Causal without other masks and no cache offset: the fused kernel's own causal path.
            let fusedCausal = isCausal && attentionMask == nil && keyPaddingMask == nil && keys == l
            attended = scaledDotProductAttention(qh, kh, vh, mask: fusedCausal ? nil : mask, isCausal: fusedCausal,
                                                 dropout: p, generator: generator)
            weights = nil
        }
        // [B, H, L, d] -> [B, L, E]
        var out = outProj(attended.transposed(1, 2).reshaped(to: [b, l, embedDim]))
        if unbatched { out = out.squeezed(axis: 0) } else if !batchFirst { out = out.transposed(0, 1) }
        return (out, unbatched ? weights?.squeezed(axis: 0) : weights)
    }
}

/// Additive (Bahdanau) attention: `score(q, k) = vᵀ tanh(W_q q + W_k k)`, the attention of
/// the classic seq2seq models.
///
/// Shapes: `query [B, Dq]` (one decoder state), `keys [B, S, Dk]`, `values [B, S, Dv]`,
/// optional `mask [B, S]` (true = may attend). Returns the context `[B, Dv]` and weights `[B, S]`.
public final class AdditiveAttention: Module {
    /// `W_q`, `[hidden, querySize]`.
    public let queryProjection: Linear
    /// `W_k`, `[hidden, keySize]` with bias.
    public let keyProjection: Linear
    /// `v`, `[1, hidden]`.
    public let scoreVector: Linear

    /// Additive attention from `querySize` queries and `keySize` keys through `hiddenSize`.
    public init(querySize: Int, keySize: Int, hiddenSize: Int, dtype: DType = .float32, generator: RandomGenerator? = nil) {
        queryProjection = Linear(inputSize: querySize, outputSize: hiddenSize, bias: false, dtype: dtype, generator: generator)
        keyProjection = Linear(inputSize: keySize, outputSize: hiddenSize, dtype: dtype, generator: generator)
        scoreVector = Linear(inputSize: hiddenSize, outputSize: 1, bias: false, dtype: dtype, generator: generator)
    }

    /// Keys projected once per sequence, reused across decoder steps.
    public func projectKeys(_ keys: Tensor) -> Tensor { keyProjection(keys) }

    /// The context `[B, Dv]` and weights `[B, S]` of `query` over `keys` (pass `projectedKeys` to reuse a projection).
    public func callAsFunction(query: Tensor, keys: Tensor, values: Tensor, mask: Tensor? = nil,
                               projectedKeys: Tensor? = nil) -> (context: Tensor, weights: Tensor) {
        tensorCheck(query.rank == 2 && keys.rank == 3 && values.rank == 3 && keys.shape[0] == query.shape[0]
                    && values.shape[0] == query.shape[0] && values.shape[1] == keys.shape[1],
                    "[AdditiveAttention] query \(shapeText(query.shape)), keys \(shapeText(keys.shape)) and values \(shapeText(values.shape)) should be [B, Dq], [B, S, Dk], [B, S, Dv]")
        let pk = projectedKeys ?? keyProjection(keys)
        var scores = scoreVector((pk + queryProjection(query).unsqueezed(axis: 1)).tanh()).squeezed(axis: 2) // [B, S]
        if let mask {
            tensorCheck(mask.shape == Array(keys.shape.prefix(2)),
                        "[AdditiveAttention] mask \(shapeText(mask.shape)) should be \(shapeText(Array(keys.shape.prefix(2))))")
            scores = scores.maskedFill(mask.logicalNot(), with: -.infinity)
        }
        let weights = scores.softmax(axis: -1)
        return (weights.unsqueezed(axis: 1).matmul(values).squeezed(axis: 1), weights)
    }
}
