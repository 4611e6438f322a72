import NN
import SequenceModels
import TensorCore

/// A model mapping a window of `inputLength` steps of `variates` values to the next
/// `horizon` steps: `[B, inputLength, V] -> [B, horizon, V]`. Subclasses implement `forward`;
/// `forecast` extends the prediction past the horizon recursively.
public class Forecaster: Module {
    /// Steps of history the model reads.
    public let inputLength: Int
    /// Steps it predicts at once.
    public let horizon: Int
    /// Variates per step.
    public let variates: Int

    init(name: String, inputLength: Int, horizon: Int, variates: Int) {
        tensorCheck(inputLength > 0 && horizon > 0 && variates > 0,
                    "[\(name)] inputLength \(inputLength), horizon \(horizon) and variates \(variates) must be positive")
        self.inputLength = inputLength
        self.horizon = horizon
        self.variates = variates
        super.init()
    }

    /// The `steps` steps after `history` (`[T, V]`, at least `inputLength` steps): the model's
    /// direct prediction from the last window, and past its horizon, predictions fed back in
    /// as history (recursive multi-step forecasting). Runs without gradients in eval mode.
    public func forecast(_ history: Tensor, steps: Int) -> Tensor {
        tensorCheck(history.rank == 2 && history.shape[1] == variates && history.shape[0] >= inputLength && steps > 0,
                    "[\(type(of: self)).forecast] history \(shapeText(history.shape)) should be [≥ \(inputLength), \(variates)] "
                    + "and steps (\(steps)) positive")
        let wasTraining = isTraining
        eval()
        defer { train(wasTraining) }
        return withoutGradients {
            var known = history.moved(to: device).cast(to: parameters().first?.value.dtype ?? history.dtype)
            var produced: [Tensor] = [], count = 0
            while count < steps {
                let window = known.narrowed(axis: 0, start: known.shape[0] - inputLength, length: inputLength)
                let next = self(window.unsqueezed(axis: 0)).squeezed(axis: 0)
                let take = Swift.min(horizon, steps - count)
                let kept = next.narrowed(axis: 0, start: 0, length: take)
                produced.append(kept)
                known = Tensor.concatenated([known, kept], axis: 0)
                count += take
            }
            return Tensor.concatenated(produced, axis: 0)
        }
    }
}

/// Which recurrent layer a `RecurrentForecaster` runs.
public enum RecurrentCellKind: String, CaseIterable, Codable, Sendable {
    /// Elman RNN (tanh).
    case rnn
    /// Gated recurrent unit.
    case gru
    /// Long short-term memory.
    case lstm
}

/// A recurrent encoder over the window whose last hidden state a linear head maps to the
/// whole horizon at once (direct multi-step), between reversible instance normalisation.
///
/// ```swift
/// let model = RecurrentForecaster(kind: .lstm, inputLength: 24, horizon: 24, variates: 1, hiddenSize: 64)
/// let next = model(windows)          // [B, 24, 1] -> [B, 24, 1]
/// ```
public final class RecurrentForecaster: Forecaster {
    /// The recurrent layer's kind.
    public let kind: RecurrentCellKind
    /// Window normalisation (nil when off).
    public let normalization: ReversibleInstanceNorm?
    /// The recurrent layer (batch-first).
    public let recurrent: RecurrentLayer
    /// Last hidden state `[B, hidden]` -> `[B, horizon · V]`.
    public let head: Linear

    /// A forecaster of `kind` with `layers` layers of `hiddenSize`, PyTorch's initialisation
    /// from `generator`.
    public init(kind: RecurrentCellKind = .lstm, inputLength: Int, horizon: Int, variates: Int, hiddenSize: Int = 64,
                layers: Int = 1, dropout: Double = 0, normalization: Bool = true, dtype: DType = .float32,
                generator: RandomGenerator? = nil) {
        tensorCheck(hiddenSize > 0 && layers > 0, "[RecurrentForecaster] hiddenSize \(hiddenSize) and layers \(layers) must be positive")
        self.kind = kind
        self.normalization = normalization ? ReversibleInstanceNorm(variates: variates, dtype: dtype) : nil
        switch kind {
        case .rnn:
            recurrent = RNN(inputSize: variates, hiddenSize: hiddenSize, numLayers: layers, batchFirst: true, dropout: dropout,
                            dtype: dtype, generator: generator)
        case .gru:
            recurrent = GRU(inputSize: variates, hiddenSize: hiddenSize, numLayers: layers, batchFirst: true, dropout: dropout,
                            dtype: dtype, generator: generator)
        case .lstm:
            recurrent = LSTM(inputSize: variates, hiddenSize: hiddenSize, numLayers: layers, batchFirst: true, dropout: dropout,
                             dtype: dtype, generator: generator)
        }
        head = Linear(inputSize: hiddenSize, outputSize: horizon * variates, dtype: dtype, generator: generator)
        super.init(name: "RecurrentForecaster", inputLength: inputLength, horizon: horizon, variates: variates)
    }

    public override func forward(_ x: Tensor) -> Tensor {
        tensorCheck(x.rank == 3 && x.shape[2] == variates,
                    "[RecurrentForecaster] input \(shapeText(x.shape)) should be [batch, time, \(variates)]")
        let (normalized, statistics) = normalization.map { $0.normalize(x) } ?? (x, nil)
        let output: Tensor
        switch recurrent {
        case let lstm as LSTM: output = lstm(normalized).output
        case let gru as GRU: output = gru(normalized).output
        case let rnn as RNN: output = rnn(normalized).output
        default: fatalError("[RecurrentForecaster] unknown recurrent layer \(type(of: recurrent))")
        }
        let last = output.narrowed(axis: 1, start: output.shape[1] - 1, length: 1).squeezed(axis: 1)
        let y = head(last).reshaped(to: [x.shape[0], horizon, variates])
        return statistics.map { normalization!.denormalize(y, $0) } ?? y
    }
}

/// iTransformer (Liu et al., ICLR 2024): the series inverted, so that each variate's whole
/// window is one token (a linear embedding of its `inputLength` values), a Transformer
/// encoder attends across variates, and a linear projection of each token gives that
/// variate's `horizon` next values; reversible instance normalisation around it.
///
/// Shape: `[B, inputLength, V] -> [B, horizon, V]`.
public final class ITransformer: Forecaster {
    /// Window normalisation (nil when off).
    public let normalization: ReversibleInstanceNorm?
    /// `[B, V, inputLength] -> [B, V, width]`.
    public let embedding: Linear
    /// Encoder layers over the variate tokens.
    public let encoder: TransformerEncoder
    /// `[B, V, width] -> [B, V, horizon]`.
    public let projection: Linear

    /// An iTransformer of `layers` encoder layers of `width` with `heads` heads.
    public init(inputLength: Int, horizon: Int, variates: Int, width: Int = 64, heads: Int = 4, layers: Int = 2,
                feedForwardWidth: Int? = nil, dropout: Double = 0.1, normalization: Bool = true, dtype: DType = .float32,
                generator: RandomGenerator? = nil) {
        tensorCheck(width > 0 && heads > 0 && width % heads == 0 && layers > 0,
                    "[ITransformer] width \(width) must be a positive multiple of heads \(heads), layers \(layers) positive")
        self.normalization = normalization ? ReversibleInstanceNorm(variates: variates, dtype: dtype) : nil
        embedding = Linear(inputSize: inputLength, outputSize: width, dtype: dtype, generator: generator)
        encoder = TransformerEncoder(layers: (0..<layers).map { _ in
            TransformerEncoderLayer(width: width, heads: heads, feedForwardWidth: feedForwardWidth ?? 4 * width, dropout: dropout,
                                    activation: .gelu, normFirst: true, batchFirst: true, dtype: dtype, generator: generator)
        }, norm: LayerNorm([width]))
        projection = Linear(inputSize: width, outputSize: horizon, dtype: dtype, generator: generator)
        super.init(name: "ITransformer", inputLength: inputLength, horizon: horizon, variates: variates)
        if dtype != .float32 { for p in encoder.parameters() { p.value = p.value.cast(to: dtype) } }
    }

    public override func forward(_ x: Tensor) -> Tensor {
        tensorCheck(x.rank == 3 && x.shape[1] == inputLength && x.shape[2] == variates,
                    "[ITransformer] input \(shapeText(x.shape)) should be [batch, \(inputLength), \(variates)]")
        let (normalized, statistics) = normalization.map { $0.normalize(x) } ?? (x, nil)
        let tokens = embedding(normalized.transposed(1, 2))
        let y = projection(encoder(tokens)).transposed(1, 2)
        return statistics.map { normalization!.denormalize(y, $0) } ?? y
    }
}
