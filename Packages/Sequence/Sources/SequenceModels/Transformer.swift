import NN
import TensorCore

/// The activation between a Transformer layer's two feed-forward linears.
public enum FeedForwardActivation: Sendable {
    /// `max(x, 0)` (PyTorch's default).
    case relu
    /// Gaussian error linear unit.
    case gelu

    func callAsFunction(_ x: Tensor) -> Tensor { self == .relu ? x.relu() : x.gelu() }
}

/// A LayerNorm over `width` features with its parameters in `dtype`.
func layerNorm(_ width: Int, _ epsilon: Double, _ dtype: DType) -> LayerNorm {
    let norm = LayerNorm([width], epsilon: epsilon)
    for p in norm.parameters() { p.value = p.value.cast(to: dtype) }
    return norm
}

/// The multi-head attention of a Transformer layer (self or cross).
func layerAttention(_ width: Int, _ heads: Int, _ batchFirst: Bool, _ dropout: Double, _ dtype: DType,
                    _ generator: RandomGenerator?) -> MultiheadAttention {
    MultiheadAttention(embedDim: width, numHeads: heads, batchFirst: batchFirst, dropout: dropout, dtype: dtype,
                       generator: generator)
}

/// `linear2(dropout(activation(linear1(x))))`, the position-wise feed-forward block.
public final class FeedForward: Module {
    /// Width to hidden.
    public let linear1: Linear
    /// Hidden back to width.
    public let linear2: Linear
    /// Between the two.
    public let activation: FeedForwardActivation
    /// Dropout after the activation in training.
    public let dropout: Double
    let generator: RandomGenerator?

    /// A feed-forward block of `hidden` units.
    public init(width: Int, hidden: Int, activation: FeedForwardActivation, dropout: Double, dtype: DType,
                generator: RandomGenerator?) {
        linear1 = Linear(inputSize: width, outputSize: hidden, dtype: dtype, generator: generator)
        linear2 = Linear(inputSize: hidden, outputSize: width, dtype: dtype, generator: generator)
        self.activation = activation
        self.dropout = dropout
        self.generator = generator
    }

    public override func forward(_ x: Tensor) -> Tensor {
        linear2(drop(activation(linear1(x))))
    }

    func drop(_ x: Tensor) -> Tensor { dropout > 0 && isTraining ? NN.dropout(x, p: dropout, generator: generator) : x }
}

/// Self-attention and feed-forward with residuals, as `torch.nn.TransformerEncoderLayer`
/// (batch-first here by default). Post-norm (`normFirst: false`, the original paper) or
/// pre-norm (GPT-2 and most modern models).
public final class TransformerEncoderLayer: Module {
    /// Self-attention.
    public let selfAttention: MultiheadAttention
    /// The feed-forward block.
    public let feedForward: FeedForward
    /// Layer norm around attention.
    public let norm1: LayerNorm
    /// Layer norm around the feed-forward block.
    public let norm2: LayerNorm
    /// Pre-norm (true) or post-norm (PyTorch's default).
    public let normFirst: Bool

    /// An encoder layer with PyTorch's arguments and defaults.
    public init(width: Int, heads: Int, feedForwardWidth: Int = 2048, dropout: Double = 0.1,
                activation: FeedForwardActivation = .relu, normFirst: Bool = false, batchFirst: Bool = true,
                layerNormEpsilon: Double = 1e-5, dtype: DType = .float32, generator: RandomGenerator? = nil) {
        selfAttention = layerAttention(width, heads, batchFirst, dropout, dtype, generator)
        feedForward = FeedForward(width: width, hidden: feedForwardWidth, activation: activation, dropout: dropout,
                                  dtype: dtype, generator: generator)
        norm1 = layerNorm(width, layerNormEpsilon, dtype)
        norm2 = layerNorm(width, layerNormEpsilon, dtype)
        self.normFirst = normFirst
    }

    /// `mask` and `keyPaddingMask` as in `MultiheadAttention` (true = masked out).
    public func callAsFunction(_ x: Tensor, mask: Tensor? = nil, keyPaddingMask: Tensor? = nil,
                               isCausal: Bool = false) -> Tensor {
        func attend(_ y: Tensor) -> Tensor {
            feedForward.drop(selfAttention(y, y, y, keyPaddingMask: keyPaddingMask, attentionMask: mask, isCausal: isCausal).output)
        }
        if normFirst {
            let h = x + attend(norm1(x))
            return h + feedForward.drop(feedForward(norm2(h)))
        }
        let h = norm1(x + attend(x))
        return norm2(h + feedForward.drop(feedForward(h)))
    }

    public override func forward(_ x: Tensor) -> Tensor { self(x, mask: nil) }
}

/// Masked self-attention, cross-attention over an encoder's output ("memory") and
/// feed-forward, as `torch.nn.TransformerDecoderLayer`.
public final class TransformerDecoderLayer: Module {
    /// Masked self-attention over the target.
    public let selfAttention: MultiheadAttention
    /// Attention over the encoder's memory.
    public let crossAttention: MultiheadAttention
    /// The feed-forward block.
    public let feedForward: FeedForward
    /// Layer norm around self-attention.
    public let norm1: LayerNorm
    /// Layer norm around cross-attention.
    public let norm2: LayerNorm
    /// Layer norm around the feed-forward block.
    public let norm3: LayerNorm
    /// Pre-norm (true) or post-norm (PyTorch's default).
    public let normFirst: Bool

    /// A decoder layer with PyTorch's arguments and defaults.
    public init(width: Int, heads: Int, feedForwardWidth: Int = 2048, dropout: Double = 0.1,
                activation: FeedForwardActivation = .relu, normFirst: Bool = false, batchFirst: Bool = true,
                layerNormEpsilon: Double = 1e-5, dtype: DType = .float32, generator: RandomGenerator? = nil) {
        selfAttention = layerAttention(width, heads, batchFirst, dropout, dtype, generator)
        crossAttention = layerAttention(width, heads, batchFirst, dropout, dtype, generator)
        feedForward = FeedForward(width: width, hidden: feedForwardWidth, activation: activation, dropout: dropout,
                                  dtype: dtype, generator: generator)
        norm1 = layerNorm(width, layerNormEpsilon, dtype)
        norm2 = layerNorm(width, layerNormEpsilon, dtype)
        norm3 = layerNorm(width, layerNormEpsilon, dtype)
        self.normFirst = normFirst
    }

    /// The layer on `target` attending to `memory`; shapes as `MultiheadAttention`'s (batch first).
    public func callAsFunction(_ target: Tensor, memory: Tensor, targetMask: Tensor? = nil, memoryMask: Tensor? = nil,
                               targetKeyPaddingMask: Tensor? = nil, memoryKeyPaddingMask: Tensor? = nil,
                               targetIsCausal: Bool = false) -> Tensor {
        let drop = feedForward.drop
        func selfBlock(_ y: Tensor) -> Tensor {
            drop(selfAttention(y, y, y, keyPaddingMask: targetKeyPaddingMask, attentionMask: targetMask,
                               isCausal: targetIsCausal).output)
        }
        func crossBlock(_ y: Tensor) -> Tensor {
            drop(crossAttention(y, memory, memory, keyPaddingMask: memoryKeyPaddingMask, attentionMask: memoryMask).output)
        }
        if normFirst {
            var h = target + selfBlock(norm1(target))
            h = h + crossBlock(norm2(h))
            return h + drop(feedForward(norm3(h)))
        }
        var h = norm1(target + selfBlock(target))
        h = norm2(h + crossBlock(h))
        return norm3(h + drop(feedForward(h)))
    }
}

/// A stack of encoder layers with an optional final norm (`torch.nn.TransformerEncoder`).
public final class TransformerEncoder: Module {
    /// The layers, in order.
    public let layers: [TransformerEncoderLayer]
    /// Final layer norm (pre-norm stacks need one).
    public let norm: LayerNorm?

    /// An encoder of `layers`.
    public init(layers: [TransformerEncoderLayer], norm: LayerNorm? = nil) {
        self.layers = layers
        self.norm = norm
    }

    /// Every layer in turn on `x [B, T, W]`, with the same masks.
    public func callAsFunction(_ x: Tensor, mask: Tensor? = nil, keyPaddingMask: Tensor? = nil, isCausal: Bool = false) -> Tensor {
        var h = x
        for layer in layers { h = layer(h, mask: mask, keyPaddingMask: keyPaddingMask, isCausal: isCausal) }
        return norm.map { $0(h) } ?? h
    }

    public override func forward(_ x: Tensor) -> Tensor { self(x, mask: nil) }
}

/// A stack of decoder layers with an optional final norm (`torch.nn.TransformerDecoder`).
public final class TransformerDecoder: Module {
    /// The layers, in order.
    public let layers: [TransformerDecoderLayer]
    /// Final layer norm (pre-norm stacks need one).
    public let norm: LayerNorm?

    /// A decoder of `layers`.
    public init(layers: [TransformerDecoderLayer], norm: LayerNorm? = nil) {
        self.layers = layers
        self.norm = norm
    }

    /// Every layer in turn on `target`, attending to `memory`.
    public func callAsFunction(_ target: Tensor, memory: Tensor, targetMask: Tensor? = nil,
                               targetKeyPaddingMask: Tensor? = nil, memoryKeyPaddingMask: Tensor? = nil,
                               targetIsCausal: Bool = false) -> Tensor {
        var h = target
        for layer in layers {
            h = layer(h, memory: memory, targetMask: targetMask, targetKeyPaddingMask: targetKeyPaddingMask,
                      memoryKeyPaddingMask: memoryKeyPaddingMask, targetIsCausal: targetIsCausal)
        }
        return norm.map { $0(h) } ?? h
    }
}
