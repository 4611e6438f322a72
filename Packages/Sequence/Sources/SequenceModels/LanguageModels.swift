import NN
import TensorCore

/// State of a `CharRNN`: the hidden state, and the cell state for an LSTM.
public struct RecurrentState {
    /// Hidden state `[layers, batch, hidden]`.
    public var hidden: Tensor
    /// LSTM cell state `[layers, batch, hidden]` (nil for GRU and RNN).
    public var cell: Tensor?

    /// A state of `hidden` (and `cell`).
    public init(hidden: Tensor, cell: Tensor? = nil) {
        self.hidden = hidden
        self.cell = cell
    }

    /// The same values cut from the graph (truncated backpropagation through time).
    public func detached() -> RecurrentState { RecurrentState(hidden: hidden.detached(), cell: cell?.detached()) }
}

/// The recurrent cell type of a `CharRNN`.
public enum RecurrentCellKind: String, Codable, Sendable, CaseIterable {
    /// Long short-term memory.
    case lstm
    /// Gated recurrent unit.
    case gru
    /// Elman RNN with tanh.
    case rnn
}

/// Everything that decides a `CharRNN`'s shape, as `GPTConfiguration` does for GPT: recorded
/// in checkpoints so that a saved model can be rebuilt.
public struct CharRNNConfiguration: Codable, Equatable, Sendable {
    /// Tokens the embedding and read-out cover.
    public var vocabularySize: Int
    /// Width of the token embedding.
    public var embeddingSize: Int
    /// Width of each recurrent layer's state.
    public var hiddenSize: Int
    /// Recurrent layers stacked.
    public var layers: Int
    /// LSTM, GRU or Elman RNN layers.
    public var cell: RecurrentCellKind
    /// Dropout between recurrent layers (as PyTorch's `dropout` argument).
    public var dropout: Double

    /// A configuration; the defaults are `CharRNN`'s.
    public init(vocabularySize: Int, embeddingSize: Int = 64, hiddenSize: Int = 256, layers: Int = 2,
                cell: RecurrentCellKind = .lstm, dropout: Double = 0) {
        self.vocabularySize = vocabularySize
        self.embeddingSize = embeddingSize
        self.hiddenSize = hiddenSize
        self.layers = layers
        self.cell = cell
        self.dropout = dropout
    }
}

/// Karpathy's char-rnn: embedding, a stack of LSTM/GRU/RNN layers, and a linear read-out of
/// next-token logits at every position.
public final class CharRNN: Module {
    /// Token embeddings.
    public let embedding: Embedding
    /// The stacked LSTM, GRU or RNN.
    public let recurrent: RecurrentLayer
    /// Next-token logits from each hidden state.
    public let readout: Linear
    /// The recurrence the layers run.
    public let cell: RecurrentCellKind
    /// The shape it was built with.
    public let configuration: CharRNNConfiguration

    /// A char-rnn of `configuration`'s shape.
    public convenience init(_ configuration: CharRNNConfiguration, generator: RandomGenerator? = nil) {
        self.init(vocabularySize: configuration.vocabularySize, embeddingSize: configuration.embeddingSize,
                  hiddenSize: configuration.hiddenSize, layers: configuration.layers, cell: configuration.cell,
                  dropout: configuration.dropout, generator: generator)
    }

    /// A char-rnn of the given shape, initialised from `generator` (the global stream when nil).
    public init(vocabularySize: Int, embeddingSize: Int = 64, hiddenSize: Int = 256, layers: Int = 2,
                cell: RecurrentCellKind = .lstm, dropout: Double = 0, generator: RandomGenerator? = nil) {
        embedding = Embedding(count: vocabularySize, dimension: embeddingSize, generator: generator)
        switch cell {
        case .lstm:
            recurrent = LSTM(inputSize: embeddingSize, hiddenSize: hiddenSize, numLayers: layers, batchFirst: true,
                             dropout: dropout, generator: generator)
        case .gru:
            recurrent = GRU(inputSize: embeddingSize, hiddenSize: hiddenSize, numLayers: layers, batchFirst: true,
                            dropout: dropout, generator: generator)
        case .rnn:
            recurrent = RNN(inputSize: embeddingSize, hiddenSize: hiddenSize, numLayers: layers, batchFirst: true,
                            dropout: dropout, generator: generator)
        }
        readout = Linear(inputSize: hiddenSize, outputSize: vocabularySize, generator: generator)
        self.cell = cell
        configuration = CharRNNConfiguration(vocabularySize: vocabularySize, embeddingSize: embeddingSize, hiddenSize: hiddenSize,
                                             layers: layers, cell: cell, dropout: dropout)
    }

    /// Logits `[B, T, vocabulary]` for tokens `[B, T]`, continuing from `state`.
    public func callAsFunction(_ tokens: Tensor, state: RecurrentState?) -> (logits: Tensor, state: RecurrentState) {
        let r = recurrent.run(embedding(tokens), hidden: state?.hidden, cell: state?.cell)
        return (readout(r.output), RecurrentState(hidden: r.hidden, cell: r.cell))
    }

    public override func forward(_ tokens: Tensor) -> Tensor { self(tokens, state: nil).logits }

    /// Continues `prompt` by `count` sampled tokens, one step at a time with carried state.
    public func generate(prompt: [Int], count: Int, sampling: Sampling = Sampling(),
                         generator: RandomGenerator? = nil) -> [Int] {
        tensorCheck(!prompt.isEmpty, "[CharRNN.generate] the prompt is empty")
        let wasTraining = isTraining
        _ = eval()
        defer { _ = train(wasTraining) }
        let device = self.device
        return withoutGradients {
            var tokens = prompt
            var (logits, state) = self(Tensor(prompt.map(Int64.init), shape: [1, prompt.count]).moved(to: device), state: nil)
            for _ in 0..<count {
                let next = sampling.sample(logits: logits[0, logits.shape[1] - 1], generator: generator)
                tokens.append(next)
                (logits, state) = self(Tensor([Int64(next)], shape: [1, 1]).moved(to: device), state: state)
            }
            return tokens
        }
    }
}

/// A Transformer encoder classifier for token sequences: embedding plus learned positions,
/// pre-norm encoder layers, mean pooling over real (unpadded) tokens, and a linear head.
public final class TransformerClassifier: Module {
    /// Word embeddings (row 0, padding, stays zero).
    public let embedding: Embedding
    /// Learned positions up to `maxLength`.
    public let positions: LearnedPositionalEmbedding
    /// Pre-norm encoder layers.
    public let encoder: TransformerEncoder
    /// Class logits from the pooled representation.
    public let head: Linear

    /// A classifier of `classes` over a vocabulary of `vocabularySize` (id 0 is padding).
    public init(vocabularySize: Int, classes: Int, width: Int = 64, heads: Int = 4, layers: Int = 2,
                feedForwardWidth: Int = 128, maxLength: Int = 128, dropout: Double = 0.1, generator: RandomGenerator? = nil) {
        embedding = Embedding(count: vocabularySize, dimension: width, paddingIndex: 0, generator: generator)
        positions = LearnedPositionalEmbedding(maxLength: maxLength, dimension: width, generator: generator)
        encoder = TransformerEncoder(layers: (0..<layers).map { _ in
            TransformerEncoderLayer(width: width, heads: heads, feedForwardWidth: feedForwardWidth, dropout: dropout,
                                    activation: .gelu, normFirst: true, generator: generator)
        }, norm: LayerNorm([width]))
        head = Linear(inputSize: width, outputSize: classes, generator: generator)
        // Unit-variance embeddings would swamp the 0.02-scale positions; scale them down.
        embedding.weight.value = embedding.weight.value * 0.1
    }

    /// Logits `[B, classes]` for padded `tokens [B, T]` with `mask [B, T]` (true = real token).
    public func callAsFunction(_ tokens: Tensor, mask: Tensor) -> Tensor {
        tensorCheck(mask.shape == tokens.shape && mask.dtype == .bool,
                    "[TransformerClassifier] mask \(shapeText(mask.shape)) \(mask.dtype) should be bool \(shapeText(tokens.shape))")
        let x = embedding(tokens) + positions(length: tokens.shape[1])
        let h = encoder(x, keyPaddingMask: mask.logicalNot())
        let weights = mask.cast(to: h.dtype).unsqueezed(axis: 2)
        let pooled = (h * weights).sum(axes: [1]) / weights.sum(axes: [1]).clamped(min: 1)
        return head(pooled)
    }
}
