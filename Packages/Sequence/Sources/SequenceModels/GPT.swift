import Foundation
import NN
import TensorCore

/// The shape of a GPT. Codable so it travels with checkpoints.
public struct GPTConfiguration: Codable, Equatable, Sendable {
    /// Tokens in the vocabulary.
    public var vocabularySize: Int
    /// The longest context (positions embedded).
    public var blockSize: Int
    /// Transformer blocks.
    public var layers: Int
    /// Attention heads per block.
    public var heads: Int
    /// Embedding width (a multiple of `heads`).
    public var width: Int
    /// Dropout on embeddings, attention and residual branches.
    public var dropout: Double
    /// Biases in the linears and layer norms (GPT-2 has them).
    public var bias: Bool

    /// A configuration; the defaults are the README's Shakespeare model.
    public init(vocabularySize: Int, blockSize: Int = 128, layers: Int = 6, heads: Int = 6, width: Int = 192,
                dropout: Double = 0.1, bias: Bool = true) {
        self.vocabularySize = vocabularySize
        self.blockSize = blockSize
        self.layers = layers
        self.heads = heads
        self.width = width
        self.dropout = dropout
        self.bias = bias
    }
}

/// Causal multi-head self-attention with one fused QKV projection (GPT-2's `c_attn`,
/// `c_proj`), running the backend's fused causal attention in training.
public final class CausalSelfAttention: Module {
    /// Query, key and value projections in one `[3W, W]` linear (`c_attn`).
    public let qkv: Linear
    /// The output projection (`c_proj`).
    public let projection: Linear
    /// Attention heads.
    public let heads: Int
    /// Dropout on the attention weights and the output in training.
    public let dropout: Double
    let generator: RandomGenerator?

    /// Causal self-attention of `width` in `heads` heads.
    public init(width: Int, heads: Int, dropout: Double, bias: Bool, generator: RandomGenerator?) {
        tensorCheck(width % heads == 0, "[CausalSelfAttention] width \(width) is not a multiple of heads \(heads)")
        qkv = Linear(inputSize: width, outputSize: 3 * width, bias: bias, generator: generator)
        projection = Linear(inputSize: width, outputSize: width, bias: bias, generator: generator)
        self.heads = heads
        self.dropout = dropout
        self.generator = generator
    }

    /// `x [B, T, C]`; with a cache, `x` holds only the new positions.
    public func callAsFunction(_ x: Tensor, cache: KeyValueCache? = nil) -> Tensor {
        let b = x.shape[0], t = x.shape[1], c = x.shape[2], d = c / heads
        let parts = qkv(x).reshaped(to: [b, t, 3, heads, d]).permuted(2, 0, 3, 1, 4)
        var (q, k, v) = (parts[0], parts[1], parts[2])
        let cached = cache?.count ?? 0
        if let cache { (k, v) = cache.append(keys: k, values: v) }
        let p = isTraining ? dropout : 0
        let y: Tensor
        if cached == 0 {
            y = scaledDotProductAttention(q, k, v, isCausal: true, dropout: p, generator: generator)
        } else if t == 1 {
            y = scaledDotProductAttention(q, k, v, dropout: p, generator: generator)  // the newest query sees all keys
        } else {
            let mask = AttentionMask.causal(queries: t, keys: k.shape[2], device: x.device)
            y = scaledDotProductAttention(q, k, v, mask: mask, dropout: p, generator: generator)
        }
        let out = projection(y.transposed(1, 2).reshaped(to: [b, t, c]))
        return p > 0 ? NN.dropout(out, p: p, generator: generator) : out
    }
}

/// Pre-norm Transformer block: `x + attn(ln1(x))`, then `x + mlp(ln2(x))` with a GELU MLP 4× wide.
public final class GPTBlock: Module {
    /// Layer norm before attention.
    public let norm1: LayerNorm
    /// The causal self-attention.
    public let attention: CausalSelfAttention
    /// Layer norm before the MLP.
    public let norm2: LayerNorm
    /// The MLP's first linear, to 4× the width (`c_fc`).
    public let expand: Linear
    /// The MLP's second linear, back to the width (`c_proj`).
    public let contract: Linear
    /// Dropout on the MLP's output in training.
    public let dropout: Double
    let generator: RandomGenerator?

    /// A block of `config`'s width, heads and dropout.
    public init(_ config: GPTConfiguration, generator: RandomGenerator?) {
        norm1 = LayerNorm([config.width], bias: config.bias)
        attention = CausalSelfAttention(width: config.width, heads: config.heads, dropout: config.dropout,
                                        bias: config.bias, generator: generator)
        norm2 = LayerNorm([config.width], bias: config.bias)
        expand = Linear(inputSize: config.width, outputSize: 4 * config.width, bias: config.bias, generator: generator)
        contract = Linear(inputSize: 4 * config.width, outputSize: config.width, bias: config.bias, generator: generator)
        dropout = config.dropout
        self.generator = generator
    }

    /// The block on `x [B, T, W]`, attending also over `cache`'s positions (and appending to it) when given.
    public func callAsFunction(_ x: Tensor, cache: KeyValueCache?) -> Tensor {
        let h = x + attention(norm1(x), cache: cache)
        // GPT-2's GELU is the tanh approximation ("gelu_new").
        var m = contract(expand(norm2(h)).gelu(approximate: true))
        if dropout > 0 && isTraining { m = NN.dropout(m, p: dropout, generator: generator) }
        return h + m
    }

    public override func forward(_ x: Tensor) -> Tensor { self(x, cache: nil) }
}

/// A decoder-only Transformer language model (GPT-2's architecture, as in nanoGPT): token
/// and learned position embeddings, pre-norm blocks, a final LayerNorm and an output layer
/// tied to the token embedding.
///
/// ```swift
/// let gpt = GPT(GPTConfiguration(vocabularySize: 65, blockSize: 128, layers: 6, heads: 6, width: 192))
/// let loss = gpt.loss(tokens, targets: next)            // tokens, next [B, T] int64
/// let text = gpt.generate(prompt: ids, count: 200, sampling: Sampling(temperature: 0.8, topK: 40))
/// ```
public final class GPT: Module {
    /// The shape it was built from.
    public let config: GPTConfiguration
    /// Token embeddings `[vocabulary, W]` (`wte`), tied to the output head.
    public let tokenEmbedding: Embedding
    /// Position embeddings `[blockSize, W]` (`wpe`).
    public let positionEmbedding: LearnedPositionalEmbedding
    /// The Transformer blocks, in order.
    public let blocks: [GPTBlock]
    /// Layer norm before the output head (`ln_f`).
    public let finalNorm: LayerNorm

    /// A GPT of `config`'s shape, initialised as GPT-2 (normal 0.02, residual projections scaled by 1/√(2·layers)).
    public init(_ config: GPTConfiguration, generator: RandomGenerator? = nil) {
        tensorCheck(config.vocabularySize > 0 && config.blockSize > 0 && config.layers > 0,
                    "[GPT] vocabularySize, blockSize and layers must be positive: \(config)")
        self.config = config
        tokenEmbedding = Embedding(count: config.vocabularySize, dimension: config.width, generator: generator)
        positionEmbedding = LearnedPositionalEmbedding(maxLength: config.blockSize, dimension: config.width, generator: generator)
        blocks = (0..<config.layers).map { _ in GPTBlock(config, generator: generator) }
        finalNorm = LayerNorm([config.width], bias: config.bias)
        super.init()
        // GPT-2's initialisation: N(0, 0.02) weights, zero biases, residual projections
        // scaled by 1/√(2·layers) so the residual stream's variance does not grow with depth.
        tokenEmbedding.weight.value = Initializer.normal([config.vocabularySize, config.width], standardDeviation: 0.02,
                                                         generator: generator)
        let residualStd = 0.02 / (2 * Double(config.layers)).squareRoot()
        for block in blocks {
            for (linear, std) in [(block.attention.qkv, 0.02), (block.attention.projection, residualStd),
                                  (block.expand, 0.02), (block.contract, residualStd)] {
                linear.weight.value = Initializer.normal(linear.weight.shape, standardDeviation: std, generator: generator)
                if let b = linear.bias { b.value = Tensor.zeros(b.shape) }
            }
        }
    }

    /// Logits `[B, T, vocabulary]` for tokens `[B, T]` (int). With caches (one per block),
    /// `tokens` are the positions after those already cached.
    public func callAsFunction(_ tokens: Tensor, caches: [KeyValueCache]? = nil) -> Tensor {
        tensorCheck(tokens.rank == 2 && !tokens.dtype.isFloatingPoint,
                    "[GPT] tokens should be an integer tensor [batch, time], got \(shapeText(tokens.shape)) \(tokens.dtype)")
        let offset = caches?.first?.count ?? 0
        let t = tokens.shape[1]
        tensorCheck(offset + t <= config.blockSize,
                    "[GPT] sequence of \(offset + t) positions exceeds the block size \(config.blockSize)")
        if let caches { tensorCheck(caches.count == blocks.count, "[GPT] \(caches.count) caches for \(blocks.count) blocks") }
        var x = tokenEmbedding(tokens) + positionEmbedding(length: t, offset: offset)
        if config.dropout > 0 && isTraining { x = NN.dropout(x, p: config.dropout) }
        for (i, block) in blocks.enumerated() { x = block(x, cache: caches?[i]) }
        // Weight tying: the output layer is the token embedding, transposed.
        return finalNorm(x).linear(weight: tokenEmbedding.weight.value)
    }

    public override func forward(_ tokens: Tensor) -> Tensor { self(tokens, caches: nil) }

    /// Mean next-token cross-entropy (nats per token) of `tokens` against `targets`, both `[B, T]`.
    public func loss(_ tokens: Tensor, targets: Tensor) -> Tensor {
        let logits = self(tokens)
        return crossEntropy(logits: logits.reshaped(to: [-1, config.vocabularySize]), targets: targets.reshaped(to: [-1]))
    }

    /// Continues `prompt` by `count` tokens, feeding only the newest token per step through
    /// key/value caches. When the context fills the block, it slides: the caches restart on
    /// the last `blockSize / 2` tokens (nanoGPT crops the context the same way).
    public func generate(prompt: [Int], count: Int, sampling: Sampling = Sampling(),
                         generator: RandomGenerator? = nil) -> [Int] {
        tensorCheck(!prompt.isEmpty, "[GPT.generate] the prompt is empty")
        let wasTraining = isTraining
        _ = eval()
        defer { _ = train(wasTraining) }
        let device = self.device
        return withoutGradients {
            var tokens = prompt
            var caches = blocks.map { _ in KeyValueCache() }
            var pending = Array(prompt.suffix(config.blockSize))
            for _ in 0..<count {
                if caches[0].count + pending.count > config.blockSize {
                    caches = blocks.map { _ in KeyValueCache() }
                    pending = Array(tokens.suffix(Swift.max(1, config.blockSize / 2)))
                }
                let input = Tensor(pending.map(Int64.init), shape: [1, pending.count]).moved(to: device)
                let logits = self(input, caches: caches)[0, pending.count - 1]
                let next = sampling.sample(logits: logits, generator: generator)
                tokens.append(next)
                pending = [next]
            }
            return tokens
        }
    }
}

/// How to pick the next token from logits: greedy (argmax), or sampling at a temperature
/// from the top-k tokens and/or the smallest set whose probability reaches top-p (nucleus).
public struct Sampling: Sendable {
    /// Logits are divided by this before sampling (lower: more conservative).
    public var temperature: Double
    /// Sample among the `topK` most likely tokens only.
    public var topK: Int?
    /// Sample among the smallest set of tokens whose probability reaches `topP`.
    public var topP: Double?
    /// Always take the most likely token.
    public var greedy: Bool

    /// A sampling rule; plain sampling at temperature 1 unless told otherwise.
    public init(temperature: Double = 1, topK: Int? = nil, topP: Double? = nil, greedy: Bool = false) {
        tensorCheck(temperature > 0 || greedy, "[Sampling] temperature must be positive, got \(temperature)")
        if let topK { tensorCheck(topK > 0, "[Sampling] topK must be positive, got \(topK)") }
        if let topP { tensorCheck(topP > 0 && topP <= 1, "[Sampling] topP must be in (0, 1], got \(topP)") }
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.greedy = greedy
    }

    /// Argmax decoding.
    public static let greedy = Sampling(greedy: true)

    /// The probabilities sampling draws from (after temperature, top-k and top-p), `[V]`.
    public func probabilities(logits: Tensor) -> [Double] {
        let values = logits.cast(to: .float64).scalars(as: Double.self)
        if greedy {
            var p = [Double](repeating: 0, count: values.count)
            p[values.indices.max { values[$0] < values[$1] }!] = 1
            return p
        }
        let scaled = values.map { $0 / temperature }
        var order = scaled.indices.sorted { scaled[$0] > scaled[$1] }
        if let topK { order = Array(order.prefix(topK)) }
        let top = scaled[order[0]]
        var weights = order.map { Foundation.exp(scaled[$0] - top) }
        let total = weights.reduce(0, +)
        weights = weights.map { $0 / total }
        if let topP {
            // Keep the most likely tokens until their mass reaches p (always at least one).
            var mass = 0.0, keep = 0
            while keep < weights.count && (keep == 0 || mass < topP) { mass += weights[keep]; keep += 1 }
            order = Array(order.prefix(keep))
            weights = Array(weights.prefix(keep)).map { $0 / mass }
        }
        var p = [Double](repeating: 0, count: values.count)
        for (i, w) in zip(order, weights) { p[i] = w }
        return p
    }

    /// Draws one token id from `logits [V]`.
    public func sample(logits: Tensor, generator: RandomGenerator? = nil) -> Int {
        let p = probabilities(logits: logits)
        if greedy { return p.firstIndex(of: 1)! }
        let u = Tensor.rand([1], dtype: .float64, generator: generator).item(as: Double.self)
        var cumulative = 0.0
        for (i, w) in p.enumerated() where w > 0 {
            cumulative += w
            if u < cumulative { return i }
        }
        return p.lastIndex { $0 > 0 }!
    }
}
