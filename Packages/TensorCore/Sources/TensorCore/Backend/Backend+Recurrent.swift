/// The point-wise halves of LSTM and GRU steps (the GEMMs stay in `LinalgOps`). Fused so a
/// step touches each gate once instead of through ~15 element-wise passes with temporaries;
/// the defaults compose them from element-wise primitives so any backend runs them.
///
/// Gate order and formulas are PyTorch's:
/// - LSTM: `gates [b, 4h]` are the pre-activations `i, f, g, o`;
///   `c' = σ(f)·c + σ(i)·tanh(g)`, `h' = σ(o)·tanh(c')`.
/// - GRU: `inputGates [b, 3h] = W_i x + b_i` and `hiddenGates [b, 3h] = W_h h + b_h`, order `r, z, n`;
///   `r = σ(x_r + h_r)`, `z = σ(x_z + h_z)`, `n = tanh(x_n + r·h_n)`, `h' = (1 - z)·n + z·h`.
public protocol RecurrentOps: MemoryOps, ElementwiseOps {
    /// LSTM step: writes `h'` into `out[0]` and `c'` into `out[1]` (`out` is `[2, b, h]`).
    func lstmCell(gates: Operand, cell: Operand, into out: Operand)
    /// LSTM step backward from `gradient [2, b, h]` (for `h'` and `c'`), given the step's
    /// inputs and its new cell state `newCell [b, h]`.
    func lstmCellBackward(gates: Operand, cell: Operand, newCell: Operand, gradient: Operand,
                          gatesGradient: Operand, cellGradient: Operand)
    /// GRU step: `h'` into `out [b, h]`.
    func gruCell(inputGates: Operand, hiddenGates: Operand, hidden: Operand, into out: Operand)
    /// GRU step backward from `gradient [b, h]`.
    func gruCellBackward(inputGates: Operand, hiddenGates: Operand, hidden: Operand, gradient: Operand,
                         inputGatesGradient: Operand, hiddenGatesGradient: Operand, hiddenGradient: Operand)
    /// A whole LSTM layer-direction (cuDNN's and oneDNN's unit of work). `gates [T, b, 4h]`
    /// holds `x W_ihᵀ + b_ih + b_hh` on entry and afterwards whatever this backend's
    /// `lstmSequenceBackward` needs; `cells [T+1, b, h]` (processing order) holds `c0` in entry
    /// 0 on entry; `outputs [T, b, h]` and `previous [T, b, h]` (the hidden state each step read)
    /// are by time. `reverse` runs from the last time index to the first.
    func lstmSequence(gates: Operand, weightHH: Operand, h0: Operand, cells: Operand, outputs: Operand,
                      previous: Operand, reverse: Bool)
    /// Backpropagation through time for `lstmSequence`: from the gradients of the outputs
    /// `[T, b, h]` and of the final `h` and `c`, writes the pre-activation gradients
    /// `gradGates [T, b, 4h]` (by time), those of `h0` and `c0`, and the input and weight
    /// gradients `weights` asks for (a backend can overlap those products with the recurrence,
    /// as they only need finished rows of `gradGates`).
    func lstmSequenceBackward(gates: Operand, cells: Operand, weightHH: Operand, gradOutputs: Operand,
                              gradHidden: Operand, gradCell: Operand, reverse: Bool,
                              gradGates: Operand, gradH0: Operand, gradC0: Operand, weights: LSTMWeightGradients)
}

/// The input and weight gradients of an LSTM layer-direction that `lstmSequenceBackward`
/// writes besides the recurrence's own; nil outputs are not wanted.
public struct LSTMWeightGradients {
    /// `x [T, b, in]` by time, `W_ih [4h, in]`, and `previous [T, b, h]` from `lstmSequence`.
    public var input: Operand, weightIH: Operand, previous: Operand
    /// `dx [T, b, in]`, `dW_ih [4h, in]`, `dW_hh [4h, h]`, and `db [4h]` (the gradient of
    /// each of `b_ih` and `b_hh`).
    public var gradInput: Operand?, gradWeightIH: Operand?, gradWeightHH: Operand?, gradBias: Operand?

    /// Where the layer's input and weight gradients go (nil: not wanted).
    public init(input: Operand, weightIH: Operand, previous: Operand, gradInput: Operand?, gradWeightIH: Operand?,
                gradWeightHH: Operand?, gradBias: Operand?) {
        self.input = input
        self.weightIH = weightIH
        self.previous = previous
        self.gradInput = gradInput
        self.gradWeightIH = gradWeightIH
        self.gradWeightHH = gradWeightHH
        self.gradBias = gradBias
    }
}

extension RecurrentOps where Self: LinalgOps {
    public func lstmSequence(gates: Operand, weightHH: Operand, h0: Operand, cells: Operand, outputs: Operand,
                             previous: Operand, reverse: Bool) {
        composedLSTMSequence(gates: gates, weightHH: weightHH, h0: h0, cells: cells, outputs: outputs,
                             previous: previous, reverse: reverse)
    }

    public func lstmSequenceBackward(gates: Operand, cells: Operand, weightHH: Operand, gradOutputs: Operand,
                                     gradHidden: Operand, gradCell: Operand, reverse: Bool,
                                     gradGates: Operand, gradH0: Operand, gradC0: Operand, weights: LSTMWeightGradients) {
        composedLSTMSequenceBackward(gates: gates, cells: cells, weightHH: weightHH, gradOutputs: gradOutputs,
                                     gradHidden: gradHidden, gradCell: gradCell, reverse: reverse,
                                     gradGates: gradGates, gradH0: gradH0, gradC0: gradC0)
        composedLSTMWeightGradients(gradGates: gradGates, weights)
    }

    /// The input and weight gradients from the finished gate gradients, as whole-sequence
    /// products: `dx = dG W_ih`, `dW_ih = dGᵀ x`, `dW_hh = dGᵀ previous`, `db = 1ᵀ dG`.
    public func composedLSTMWeightGradients(gradGates: Operand, _ w: LSTMWeightGradients) {
        let rows = gradGates.shape[0] * gradGates.shape[1]
        // [T, b, n] as [T·b, n] (time and batch must be mergeable, as in contiguous operands).
        func matrix(_ o: Operand) -> Operand {
            let s = o.layout.strides
            tensorCheck(s[0] == o.shape[1] * s[1], "[lstmSequenceBackward] operand \(shapeText(o.shape)) with strides \(s) cannot be seen as a matrix")
            return o.with(layout: Layout(shape: [rows, o.shape[2]], strides: [s[1], s[2]], offset: o.layout.offset))
        }
        let dG = matrix(gradGates), dGT = dG.with(layout: dG.layout.transposingLastTwo())
        if let dx = w.gradInput { matmul(dG, w.weightIH, into: matrix(dx)) }
        if let dW = w.gradWeightIH { matmul(dGT, matrix(w.input), into: dW) }
        if let dW = w.gradWeightHH { matmul(dGT, matrix(w.previous), into: dW) }
        if let db = w.gradBias {
            let ones = makeOperand(shape: [1, rows], dtype: db.dtype)
            fill(ones, with: 1)
            matmul(ones, dG, into: db.with(layout: Layout(shape: [1, db.shape[0]], strides: [0, 1], offset: db.layout.offset)))
        }
    }

    /// Step by step on `matmul` and `lstmCell`; `gates` keeps the pre-activations.
    public func composedLSTMSequence(gates: Operand, weightHH: Operand, h0: Operand, cells: Operand, outputs: Operand,
                                     previous: Operand, reverse: Bool) {
        let steps = gates.shape[0], b = h0.shape[0], h = h0.shape[1]
        let step = makeOperand(shape: [2, b, h], dtype: h0.dtype)
        let transposedWeight = weightHH.with(layout: weightHH.layout.transposingLastTwo())
        for s in 0..<steps {
            let t = reverse ? steps - 1 - s : s
            let hp = s == 0 ? h0 : outputs.first(reverse ? t + 1 : t - 1)
            copy(hp, into: previous.first(t))
            matmul(hp, transposedWeight, into: gates.first(t), accumulate: true)
            lstmCell(gates: gates.first(t), cell: cells.first(s), into: step)
            copy(step.first(0), into: outputs.first(t))
            copy(step.first(1), into: cells.first(s + 1))
        }
    }

    /// The LSTM sequence's backward through the autograd of `composedLSTMCell`, step by step.
    public func composedLSTMSequenceBackward(gates: Operand, cells: Operand, weightHH: Operand, gradOutputs: Operand,
                                             gradHidden: Operand, gradCell: Operand, reverse: Bool,
                                             gradGates: Operand, gradH0: Operand, gradC0: Operand) {
        let steps = gates.shape[0], b = gradH0.shape[0], h = gradH0.shape[1]
        let gradient = makeOperand(shape: [2, b, h], dtype: gradH0.dtype)
        let dh = gradient.first(0), dc = gradient.first(1)
        let previousCell = makeOperand(shape: [b, h], dtype: gradH0.dtype)
        copy(gradHidden, into: dh)
        copy(gradCell, into: dc)
        for s in stride(from: steps - 1, through: 0, by: -1) {
            let t = reverse ? steps - 1 - s : s
            binary(.add, dh, gradOutputs.first(t), into: dh)
            lstmCellBackward(gates: gates.first(t), cell: cells.first(s), newCell: cells.first(s + 1), gradient: gradient,
                             gatesGradient: gradGates.first(t), cellGradient: previousCell)
            matmul(gradGates.first(t), weightHH, into: dh)
            copy(previousCell, into: dc)
        }
        copy(dh, into: gradH0)
        copy(dc, into: gradC0)
    }
}

extension Operand {
    /// Columns `[k·width, (k+1)·width)` of a matrix `[rows, n·width]`, as a view.
    func columnBlock(_ k: Int, width: Int) -> Operand {
        let s = layout.strides
        return with(layout: Layout(shape: [layout.shape[0], width], strides: s, offset: layout.offset + k * width * s[1]))
    }

    /// Entry `k` of the first axis, as a view.
    func first(_ k: Int) -> Operand {
        let s = layout.strides
        return with(layout: Layout(shape: Array(layout.shape.dropFirst()), strides: Array(s.dropFirst()),
                                   offset: layout.offset + k * s[0]))
    }
}

extension RecurrentOps {
    public func lstmCell(gates: Operand, cell: Operand, into out: Operand) {
        composedLSTMCell(gates: gates, cell: cell, into: out)
    }

    public func lstmCellBackward(gates: Operand, cell: Operand, newCell: Operand, gradient: Operand,
                                 gatesGradient: Operand, cellGradient: Operand) {
        composedLSTMCellBackward(gates: gates, cell: cell, newCell: newCell, gradient: gradient,
                                 gatesGradient: gatesGradient, cellGradient: cellGradient)
    }

    public func gruCell(inputGates: Operand, hiddenGates: Operand, hidden: Operand, into out: Operand) {
        composedGRUCell(inputGates: inputGates, hiddenGates: hiddenGates, hidden: hidden, into: out)
    }

    public func gruCellBackward(inputGates: Operand, hiddenGates: Operand, hidden: Operand, gradient: Operand,
                                inputGatesGradient: Operand, hiddenGatesGradient: Operand, hiddenGradient: Operand) {
        composedGRUCellBackward(inputGates: inputGates, hiddenGates: hiddenGates, hidden: hidden, gradient: gradient,
                                inputGatesGradient: inputGatesGradient, hiddenGatesGradient: hiddenGatesGradient,
                                hiddenGradient: hiddenGradient)
    }

    // The defaults derive from the Tensor-level formulas (`Tensor.composedLSTMCell`,
    // `composedGRUCell`): the forward evaluates them, the backward is their vector-Jacobian product.

    /// One LSTM cell update from `Tensor.composedLSTMCell`'s formula.
    public func composedLSTMCell(gates: Operand, cell: Operand, into out: Operand) {
        evaluateReferenceFormula([gates, cell], into: [out.first(0), out.first(1)]) { x in
            let (h, c) = Tensor.composedLSTMCell(gates: x[0], cell: x[1])
            return [h, c]
        }
    }

    /// `newCell` is not needed: the formula recomputes it.
    public func composedLSTMCellBackward(gates: Operand, cell: Operand, newCell: Operand, gradient: Operand,
                                         gatesGradient: Operand, cellGradient: Operand) {
        evaluateReferenceGradients([gates, cell], seeds: [gradient.first(0), gradient.first(1)],
                                   into: [gatesGradient, cellGradient]) { x in
            let (h, c) = Tensor.composedLSTMCell(gates: x[0], cell: x[1])
            return [h, c]
        }
    }

    /// One GRU cell update from `Tensor.composedGRUCell`'s formula.
    public func composedGRUCell(inputGates: Operand, hiddenGates: Operand, hidden: Operand, into out: Operand) {
        evaluateReferenceFormula([inputGates, hiddenGates, hidden], into: [out]) { x in
            [Tensor.composedGRUCell(inputGates: x[0], hiddenGates: x[1], hidden: x[2])]
        }
    }

    /// The GRU cell's backward as the autograd of its formula.
    public func composedGRUCellBackward(inputGates: Operand, hiddenGates: Operand, hidden: Operand, gradient: Operand,
                                        inputGatesGradient: Operand, hiddenGatesGradient: Operand, hiddenGradient: Operand) {
        evaluateReferenceGradients([inputGates, hiddenGates, hidden], seeds: [gradient],
                                   into: [inputGatesGradient, hiddenGatesGradient, hiddenGradient]) { x in
            [Tensor.composedGRUCell(inputGates: x[0], hiddenGates: x[1], hidden: x[2])]
        }
    }
}
