import NN
import TensorCore

/// The non-linearity of a plain (Elman) RNN.
public enum RNNNonlinearity: String, Sendable {
    /// `tanh` (PyTorch's default).
    case tanh
    /// `max(x, 0)`.
    case relu
}

/// Hidden and cell state of an LSTM: `[layers · directions, batch, hidden]` for layers,
/// `[batch, hidden]` for a cell.
public struct LSTMState {
    /// Hidden state.
    public var hidden: Tensor
    /// Cell state.
    public var cell: Tensor

    /// A state of `hidden` and `cell`.
    public init(hidden: Tensor, cell: Tensor) {
        self.hidden = hidden
        self.cell = cell
    }

    /// The same values cut from the graph: carry state across batches for truncated
    /// backpropagation through time.
    public func detached() -> LSTMState { LSTMState(hidden: hidden.detached(), cell: cell.detached()) }
}

/// Which recurrence a layer or cell runs; one implementation serves RNN, LSTM and GRU.
enum RecurrentKind {
    case rnn(RNNNonlinearity), lstm, gru

    /// Gate blocks stacked in the weights (PyTorch: i,f,g,o for LSTM; r,z,n for GRU).
    var gateCount: Int {
        switch self {
        case .rnn: return 1
        case .lstm: return 4
        case .gru: return 3
        }
    }

    var name: String {
        switch self {
        case .rnn: return "RNN"
        case .lstm: return "LSTM"
        case .gru: return "GRU"
        }
    }
}

/// The four tensors of one layer and direction, initialised like PyTorch: uniform on
/// ±1/√hidden.
struct RecurrentWeights {
    let weightIH: Parameter
    let weightHH: Parameter
    let biasIH: Parameter?
    let biasHH: Parameter?

    init(kind: RecurrentKind, inputSize: Int, hiddenSize: Int, bias: Bool, dtype: DType, generator: RandomGenerator?) {
        let bound = 1 / Double(hiddenSize).squareRoot()
        let rows = kind.gateCount * hiddenSize
        func uniform(_ shape: [Int]) -> Parameter {
            Parameter(Initializer.uniform(shape, low: -bound, high: bound, dtype: dtype, generator: generator))
        }
        weightIH = uniform([rows, inputSize])
        weightHH = uniform([rows, hiddenSize])
        biasIH = bias ? uniform([rows]) : nil
        biasHH = bias ? uniform([rows]) : nil
    }

    /// PyTorch's names with a suffix such as `_l0` or `_l1_reverse`.
    func named(_ suffix: String) -> [(String, Parameter)] {
        var result = [("weight_ih" + suffix, weightIH), ("weight_hh" + suffix, weightHH)]
        if let biasIH, let biasHH { result += [("bias_ih" + suffix, biasIH), ("bias_hh" + suffix, biasHH)] }
        return result
    }

    /// `x W_ihᵀ + b_ih` for every time step at once (one GEMM instead of one per step).
    func inputProjection(_ x: Tensor) -> Tensor { x.linear(weight: weightIH.value, bias: biasIH?.value) }

    /// One step from the input projection `xp [b, G·h]`; `cell` is LSTM's.
    func step(_ kind: RecurrentKind, _ xp: Tensor, hidden: Tensor, cell: Tensor?) -> (hidden: Tensor, cell: Tensor?) {
        let hp = hidden.linear(weight: weightHH.value, bias: biasHH?.value)
        switch kind {
        case .rnn(let f):
            let pre = xp + hp
            return (f == .tanh ? pre.tanh() : pre.relu(), nil)
        case .lstm:
            let (h, c) = Tensor.lstmCell(gates: xp + hp, cell: cell!)
            return (h, c)
        case .gru:
            return (Tensor.gruCell(inputGates: xp, hiddenGates: hp, hidden: hidden), nil)
        }
    }
}

/// The shared engine of `RNN`, `LSTM` and `GRU`: multi-layer, optionally bidirectional,
/// dropout between layers, time-major or batch-first, unbatched `[time, features]` input.
///
/// Parameters follow PyTorch's names (`weight_ih_l0`, `bias_hh_l1_reverse`, ...) and gate
/// layouts, so state dicts convert both ways.
public class RecurrentLayer: Module {
    /// Input features.
    public let inputSize: Int
    /// State width per direction.
    public let hiddenSize: Int
    /// Layers stacked.
    public let numLayers: Int
    /// Inputs `[batch, time, features]` when true, `[time, batch, features]` otherwise.
    public let batchFirst: Bool
    /// Dropout between layers in training.
    public let dropout: Double
    /// Whether each layer also runs backwards (outputs concatenated).
    public let bidirectional: Bool
    let kind: RecurrentKind
    /// `[layer][direction]`.
    let weights: [[RecurrentWeights]]
    let generator: RandomGenerator?

    init(kind: RecurrentKind, inputSize: Int, hiddenSize: Int, numLayers: Int, bias: Bool, batchFirst: Bool,
         dropout: Double, bidirectional: Bool, dtype: DType, generator: RandomGenerator?) {
        tensorCheck(inputSize > 0 && hiddenSize > 0 && numLayers > 0,
                    "[\(kind.name)] sizes must be positive, got inputSize \(inputSize), hiddenSize \(hiddenSize), numLayers \(numLayers)")
        tensorCheck(dropout >= 0 && dropout < 1, "[\(kind.name)] dropout \(dropout) outside [0, 1)")
        self.kind = kind
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.numLayers = numLayers
        self.batchFirst = batchFirst
        self.dropout = dropout
        self.bidirectional = bidirectional
        self.generator = generator
        let directions = bidirectional ? 2 : 1
        weights = (0..<numLayers).map { layer in
            (0..<directions).map { _ in
                RecurrentWeights(kind: kind, inputSize: layer == 0 ? inputSize : hiddenSize * directions,
                                 hiddenSize: hiddenSize, bias: bias, dtype: dtype, generator: generator)
            }
        }
    }

    public override var namedOwnParameters: [(String, Parameter)] {
        weights.enumerated().flatMap { layer, directions in
            directions.enumerated().flatMap { d, w in w.named("_l\(layer)" + (d == 1 ? "_reverse" : "")) }
        }
    }

    var directions: Int { bidirectional ? 2 : 1 }

    /// The output sequence alone, so the layer also works inside `Sequential`.
    public override func forward(_ input: Tensor) -> Tensor { run(input, hidden: nil, cell: nil).output }

    /// Runs the stack. `hidden`/`cell` are `[layers · directions, batch, hidden]` (no batch
    /// axis for unbatched input); nil means zeros.
    func run(_ input: Tensor, hidden: Tensor?, cell: Tensor?) -> (output: Tensor, hidden: Tensor, cell: Tensor?) {
        let name = kind.name
        tensorCheck(input.rank == 2 || input.rank == 3,
                    "[\(name)] input \(shapeText(input.shape)) should be [time, batch, \(inputSize)]"
                    + (batchFirst ? " (batch first: [batch, time, \(inputSize)])" : "") + " or unbatched [time, \(inputSize)]")
        tensorCheck(input.shape.last == inputSize,
                    "[\(name)] input \(shapeText(input.shape)) has \(input.shape.last ?? 0) features, the layer expects inputSize \(inputSize)")
        let unbatched = input.rank == 2
        // Time-major, batched: [time, batch, features].
        var x = unbatched ? input.unsqueezed(axis: 1) : (batchFirst ? input.transposed(0, 1) : input)
        let steps = x.shape[0], batch = x.shape[1]
        tensorCheck(steps > 0, "[\(name)] input \(shapeText(input.shape)) has no time steps")
        let stateShape = [numLayers * directions, batch, hiddenSize]
        func initial(_ state: Tensor?, _ what: String) -> Tensor {
            guard let state else { return Tensor.zeros(stateShape, dtype: input.dtype, device: input.device) }
            let s = unbatched ? state.unsqueezed(axis: 1) : state
            tensorCheck(s.shape == stateShape,
                        "[\(name)] initial \(what) state \(shapeText(state.shape)) should be "
                        + shapeText(unbatched ? [stateShape[0], hiddenSize] : stateShape))
            return s
        }
        let h0 = initial(hidden, "hidden")
        let c0: Tensor? = { if case .lstm = kind { return initial(cell, "cell") } else { return nil } }()

        var finalHidden: [Tensor] = [], finalCell: [Tensor] = []
        for layer in 0..<numLayers {
            if layer > 0 && dropout > 0 && isTraining { x = NN.dropout(x, p: dropout, generator: generator) }
            var outputs: [Tensor] = []
            for d in 0..<directions {
                let index = layer * directions + d
                let r = weights[layer][d].sequence(kind, x, h0: h0[index], c0: c0?[index], reverse: d == 1)
                outputs.append(r.output)
                finalHidden.append(r.hidden)
                if let c = r.cell { finalCell.append(c) }
            }
            x = directions == 1 ? outputs[0] : Tensor.concatenated(outputs, axis: 2)
        }
        var output = x, hN = Tensor.stacked(finalHidden, axis: 0)
        var cN = finalCell.isEmpty ? nil : Tensor.stacked(finalCell, axis: 0)
        if unbatched {
            output = output.squeezed(axis: 1)
            hN = hN.squeezed(axis: 1)
            cN = cN?.squeezed(axis: 1)
        } else if batchFirst {
            output = output.transposed(0, 1)
        }
        return (output, hN, cN)
    }
}

/// Elman RNN: `h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh)` (or ReLU), as `torch.nn.RNN`.
///
/// ```swift
/// let rnn = RNN(inputSize: 10, hiddenSize: 20, numLayers: 2)
/// let (output, hidden) = rnn(x)        // x [time, batch, 10] -> [time, batch, 20], [2, batch, 20]
/// ```
public final class RNN: RecurrentLayer {
    /// An Elman RNN with PyTorch's arguments and initialisation (uniform on ±1/√hidden).
    public init(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, nonlinearity: RNNNonlinearity = .tanh,
                bias: Bool = true, batchFirst: Bool = false, dropout: Double = 0, bidirectional: Bool = false,
                dtype: DType = .float32, generator: RandomGenerator? = nil) {
        super.init(kind: .rnn(nonlinearity), inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers,
                   bias: bias, batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional, dtype: dtype,
                   generator: generator)
    }

    /// Output sequence `[time, batch, directions · hidden]` and final hidden state.
    public func callAsFunction(_ input: Tensor, _ hidden: Tensor? = nil) -> (output: Tensor, hidden: Tensor) {
        let r = run(input, hidden: hidden, cell: nil)
        return (r.output, r.hidden)
    }
}

/// Long short-term memory, as `torch.nn.LSTM` (gates i, f, g, o).
///
/// ```swift
/// let lstm = LSTM(inputSize: 32, hiddenSize: 64, numLayers: 2, batchFirst: true)
/// var (output, state) = lstm(x)                    // x [batch, time, 32]
/// (output, state) = lstm(next, state.detached())   // truncated BPTT
/// ```
public final class LSTM: RecurrentLayer {
    /// A recurrent layer with PyTorch's arguments and initialisation (uniform on ±1/√hidden).
    public init(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, bias: Bool = true, batchFirst: Bool = false,
                dropout: Double = 0, bidirectional: Bool = false, dtype: DType = .float32,
                generator: RandomGenerator? = nil) {
        super.init(kind: .lstm, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, bias: bias,
                   batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional, dtype: dtype,
                   generator: generator)
    }

    /// Output sequence and final (hidden, cell) state, each `[layers · directions, batch, hidden]`.
    public func callAsFunction(_ input: Tensor, _ state: LSTMState? = nil) -> (output: Tensor, state: LSTMState) {
        let r = run(input, hidden: state?.hidden, cell: state?.cell)
        return (r.output, LSTMState(hidden: r.hidden, cell: r.cell!))
    }
}

/// Gated recurrent unit, as `torch.nn.GRU` (gates r, z, n; `n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))`).
public final class GRU: RecurrentLayer {
    /// A recurrent layer with PyTorch's arguments and initialisation (uniform on ±1/√hidden).
    public init(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, bias: Bool = true, batchFirst: Bool = false,
                dropout: Double = 0, bidirectional: Bool = false, dtype: DType = .float32,
                generator: RandomGenerator? = nil) {
        super.init(kind: .gru, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, bias: bias,
                   batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional, dtype: dtype,
                   generator: generator)
    }

    /// Output sequence and final hidden state.
    public func callAsFunction(_ input: Tensor, _ hidden: Tensor? = nil) -> (output: Tensor, hidden: Tensor) {
        let r = run(input, hidden: hidden, cell: nil)
        return (r.output, r.hidden)
    }
}

/// One step of a recurrence for hand-written loops, as PyTorch's `RNNCell`/`LSTMCell`/`GRUCell`.
/// Parameters are `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`.
public class RecurrentCell: Module {
    /// Input features.
    public let inputSize: Int
    /// State width.
    public let hiddenSize: Int
    let kind: RecurrentKind
    let weights: RecurrentWeights

    init(kind: RecurrentKind, inputSize: Int, hiddenSize: Int, bias: Bool, dtype: DType, generator: RandomGenerator?) {
        tensorCheck(inputSize > 0 && hiddenSize > 0,
                    "[\(kind.name)Cell] sizes must be positive, got inputSize \(inputSize), hiddenSize \(hiddenSize)")
        self.kind = kind
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        weights = RecurrentWeights(kind: kind, inputSize: inputSize, hiddenSize: hiddenSize, bias: bias, dtype: dtype,
                                   generator: generator)
    }

    public override var namedOwnParameters: [(String, Parameter)] { weights.named("") }

    func cellStep(_ input: Tensor, hidden: Tensor?, cell: Tensor?) -> (hidden: Tensor, cell: Tensor?) {
        let name = "\(kind.name)Cell"
        tensorCheck(input.rank == 2 && input.shape[1] == inputSize,
                    "[\(name)] input \(shapeText(input.shape)) should be [batch, \(inputSize)]")
        let stateShape = [input.shape[0], hiddenSize]
        func state(_ s: Tensor?, _ what: String) -> Tensor {
            guard let s else { return Tensor.zeros(stateShape, dtype: input.dtype, device: input.device) }
            tensorCheck(s.shape == stateShape, "[\(name)] \(what) state \(shapeText(s.shape)) should be \(shapeText(stateShape))")
            return s
        }
        let c: Tensor? = { if case .lstm = kind { return state(cell, "cell") } else { return nil } }()
        return weights.step(kind, weights.inputProjection(input), hidden: state(hidden, "hidden"), cell: c)
    }
}

/// One Elman RNN step: `h' = act(W_ih x + b_ih + W_hh h + b_hh)`. Shape: `[B, input], [B, hidden] -> [B, hidden]`.
public final class RNNCell: RecurrentCell {
    /// An RNN cell initialised like PyTorch's.
    public init(inputSize: Int, hiddenSize: Int, bias: Bool = true, nonlinearity: RNNNonlinearity = .tanh,
                dtype: DType = .float32, generator: RandomGenerator? = nil) {
        super.init(kind: .rnn(nonlinearity), inputSize: inputSize, hiddenSize: hiddenSize, bias: bias, dtype: dtype,
                   generator: generator)
    }

    /// The next hidden state (from zeros when `hidden` is nil).
    public func callAsFunction(_ input: Tensor, _ hidden: Tensor?) -> Tensor { cellStep(input, hidden: hidden, cell: nil).hidden }
    public override func forward(_ input: Tensor) -> Tensor { self(input, nil) }
}

/// One LSTM step (gates i, f, g, o as PyTorch). Shape: `[B, input], ([B, hidden], [B, hidden]) -> ([B, hidden], [B, hidden])`.
public final class LSTMCell: RecurrentCell {
    /// An LSTM cell initialised like PyTorch's.
    public init(inputSize: Int, hiddenSize: Int, bias: Bool = true, dtype: DType = .float32,
                generator: RandomGenerator? = nil) {
        super.init(kind: .lstm, inputSize: inputSize, hiddenSize: hiddenSize, bias: bias, dtype: dtype, generator: generator)
    }

    /// The next hidden and cell state (from zeros when `state` is nil).
    public func callAsFunction(_ input: Tensor, _ state: LSTMState?) -> LSTMState {
        let r = cellStep(input, hidden: state?.hidden, cell: state?.cell)
        return LSTMState(hidden: r.hidden, cell: r.cell!)
    }
}

/// One GRU step (gates r, z, n as PyTorch). Shape: `[B, input], [B, hidden] -> [B, hidden]`.
public final class GRUCell: RecurrentCell {
    /// A GRU cell initialised like PyTorch's.
    public init(inputSize: Int, hiddenSize: Int, bias: Bool = true, dtype: DType = .float32,
                generator: RandomGenerator? = nil) {
        super.init(kind: .gru, inputSize: inputSize, hiddenSize: hiddenSize, bias: bias, dtype: dtype, generator: generator)
    }

    /// The next hidden state (from zeros when `hidden` is nil).
    public func callAsFunction(_ input: Tensor, _ hidden: Tensor?) -> Tensor { cellStep(input, hidden: hidden, cell: nil).hidden }
    public override func forward(_ input: Tensor) -> Tensor { self(input, nil) }
}
