/// Differentiable LSTM and GRU point-wise steps on the fused backend requirements. First-order
/// gradients come from the fused backward kernels; when the backward pass is itself recorded
/// (`createGraph`), the step is recomputed from primitives so higher orders stay exact.
extension Tensor {
    /// One LSTM step after its GEMMs: `gates [b, 4h]` (pre-activations i, f, g, o, PyTorch's
    /// order) and `cell [b, h]` give the new hidden and cell states, both `[b, h]`.
    public static func lstmCell(gates: Tensor, cell: Tensor) -> (hidden: Tensor, cell: Tensor) {
        tensorCheck(cell.rank == 2 && gates.rank == 2 && gates.shape == [cell.shape[0], 4 * cell.shape[1]],
                    "[lstmCell] gates \(shapeText(gates.shape)) should be [batch, 4·hidden] for cell \(shapeText(cell.shape))")
        checkRecurrentOperands("lstmCell", [gates, cell])
        let b = cell.shape[0], h = cell.shape[1]
        let out = Tensor(uninitializedShape: [2, b, h], dtype: cell.dtype, backend: cell.backend)
        out.backend.lstmCell(gates: gates.operand, cell: cell.operand, into: out.operand)
        let result = out.recorded("lstmCell", gates, cell, saveOutput: true) { g, y in
            if ThreadState.current.gradientsEnabled {
                return recomputedGradients([gates, cell], seeds: [g[0], g[1]]) { x in
                    let (h2, c2) = composedLSTMCell(gates: x[0], cell: x[1])
                    return [h2, c2]
                }
            }
            let grads = lstmCellBackward(gates: gates, cell: cell, newCell: y[1], gradient: g)
            return [gates.requiresGrad ? grads.gates : nil, cell.requiresGrad ? grads.cell : nil]
        }
        return (result[0], result[1])
    }

    /// The LSTM step from primitives (what `lstmCell` computes), differentiable to any order.
    public static func composedLSTMCell(gates: Tensor, cell: Tensor) -> (hidden: Tensor, cell: Tensor) {
        let p = gates.chunked(4, axis: 1)
        let c2 = p[1].sigmoid() * cell + p[0].sigmoid() * p[2].tanh()
        return (p[3].sigmoid() * c2.tanh(), c2)
    }

    /// One GRU step after its GEMMs: `inputGates = x W_ihᵀ + b_ih` and `hiddenGates = h W_hhᵀ + b_hh`
    /// (both `[b, 3h]`, order r, z, n) and the previous `hidden [b, h]` give the new hidden state.
    public static func gruCell(inputGates: Tensor, hiddenGates: Tensor, hidden: Tensor) -> Tensor {
        let expected = [hidden.shape.first ?? 0, 3 * (hidden.shape.last ?? 0)]
        tensorCheck(hidden.rank == 2 && inputGates.shape == expected && hiddenGates.shape == expected,
                    "[gruCell] gates \(shapeText(inputGates.shape)) and \(shapeText(hiddenGates.shape)) should be "
                    + "[batch, 3·hidden] for hidden \(shapeText(hidden.shape))")
        checkRecurrentOperands("gruCell", [inputGates, hiddenGates, hidden])
        let out = Tensor(uninitializedShape: hidden.shape, dtype: hidden.dtype, backend: hidden.backend)
        out.backend.gruCell(inputGates: inputGates.operand, hiddenGates: hiddenGates.operand, hidden: hidden.operand,
                            into: out.operand)
        let inputs = [inputGates, hiddenGates, hidden]
        return out.recorded("gruCell", inputs) { g, _ in
            if ThreadState.current.gradientsEnabled {
                return recomputedGradients(inputs, seeds: [g]) { x in
                    [composedGRUCell(inputGates: x[0], hiddenGates: x[1], hidden: x[2])]
                }
            }
            let grads = gruCellBackward(inputGates: inputGates, hiddenGates: hiddenGates, hidden: hidden, gradient: g)
            return [inputGates.requiresGrad ? grads.inputGates : nil, hiddenGates.requiresGrad ? grads.hiddenGates : nil,
                    hidden.requiresGrad ? grads.hidden : nil]
        }
    }

    /// The GRU step from primitives, differentiable to any order.
    public static func composedGRUCell(inputGates: Tensor, hiddenGates: Tensor, hidden: Tensor) -> Tensor {
        let x = inputGates.chunked(3, axis: 1), hg = hiddenGates.chunked(3, axis: 1)
        let r = (x[0] + hg[0]).sigmoid(), z = (x[1] + hg[1]).sigmoid()
        let n = (x[2] + r * hg[2]).tanh()
        return n + z * (hidden - n)
    }

    /// The backward of `lstmCell` (not recorded): `gradient [2, b, h]` holds the gradients of
    /// the new hidden and cell states; `newCell` is the step's new cell state. For layers that
    /// run their own backpropagation through time.
    public static func lstmCellBackward(gates: Tensor, cell: Tensor, newCell: Tensor, gradient: Tensor)
        -> (gates: Tensor, cell: Tensor) {
        tensorCheck(gradient.shape == [2] + cell.shape && newCell.shape == cell.shape,
                    "[lstmCellBackward] gradient \(shapeText(gradient.shape)) and new cell \(shapeText(newCell.shape)) do not fit cell \(shapeText(cell.shape))")
        let gatesGradient = Tensor(uninitializedShape: gates.shape, dtype: gates.dtype, backend: gates.backend)
        let cellGradient = Tensor(uninitializedShape: cell.shape, dtype: cell.dtype, backend: cell.backend)
        gates.backend.lstmCellBackward(gates: gates.operand, cell: cell.operand, newCell: newCell.operand,
                                       gradient: gradient.contiguous().operand, gatesGradient: gatesGradient.operand,
                                       cellGradient: cellGradient.operand)
        return (gatesGradient, cellGradient)
    }

    /// What `lstmSequence` keeps for `lstmSequenceBackward`.
    public struct LSTMSequenceTape {
        /// `[T, b, 4h]` by time, in the backend's saved form.
        public let gates: Tensor
        /// `[T+1, b, h]` in processing order (entry 0 is `c0`, the last the final cell).
        public let cells: Tensor
        /// `[T, b, h]` by time.
        public let outputs: Tensor
        /// `[T, b, h]` by time: the hidden state each step read (for the W_hh gradient).
        public let previous: Tensor
        /// Whether the sequence ran backwards in time.
        public let reverse: Bool
        /// `outputs`, then the final `h` and `c`, as one vector `[(T + 2)·b·h]` sharing the
        /// outputs' storage: a layer's single autograd output without a copy.
        public let flat: Tensor
    }

    /// A whole LSTM layer-direction on the backend's `lstmSequence` (not recorded; layers
    /// record one node around it and call `lstmSequenceBackward`). `projection [T, b, 4h]` is
    /// `x W_ihᵀ + b_ih + b_hh` and is consumed: its storage becomes the tape's gates.
    public static func lstmSequence(projection: Tensor, weightHH: Tensor, h0: Tensor, c0: Tensor, reverse: Bool)
        -> LSTMSequenceTape {
        let steps = projection.shape[0], b = h0.shape[0], h = h0.shape[1]
        tensorCheck(projection.rank == 3 && projection.shape[1] == b && projection.shape[2] == 4 * h
                        && weightHH.shape == [4 * h, h] && c0.shape == h0.shape,
                    "[lstmSequence] projection \(shapeText(projection.shape)), weight \(shapeText(weightHH.shape)), h0 \(shapeText(h0.shape)) and c0 \(shapeText(c0.shape)) do not fit")
        checkRecurrentOperands("lstmSequence", [projection, weightHH, h0, c0])
        func make(_ shape: [Int]) -> Tensor { Tensor(uninitializedShape: shape, dtype: h0.dtype, backend: h0.backend) }
        let gates = projection.detached().contiguous()
        let n = steps * b * h, flat = make([n + 2 * b * h])
        let outputs = flat.narrowed(axis: 0, start: 0, length: n).reshaped(to: [steps, b, h])
        let cells = make([steps + 1, b, h]), previous = make([steps, b, h])
        let backend = gates.backend
        backend.copy(c0.operand, into: cells[0].operand)
        backend.lstmSequence(gates: gates.operand, weightHH: weightHH.detached().contiguous().operand,
                             h0: h0.detached().contiguous().operand, cells: cells.operand, outputs: outputs.operand,
                             previous: previous.operand, reverse: reverse)
        let tail = flat.narrowed(axis: 0, start: n, length: 2 * b * h).reshaped(to: [2, b, h])
        backend.copy(outputs[reverse ? 0 : steps - 1].operand, into: tail[0].operand)
        backend.copy(cells[steps].operand, into: tail[1].operand)
        return LSTMSequenceTape(gates: gates, cells: cells, outputs: outputs, previous: previous, reverse: reverse,
                                flat: flat)
    }

    /// What `lstmSequenceBackward` returns: the gradients of `h0` and `c0`, and those asked for
    /// (`bias` is the gradient of each of `b_ih` and `b_hh`).
    public struct LSTMSequenceGradients {
        /// Tensor: Gradient of the initial hidden state.
        public let hidden: Tensor
        /// Tensor: Gradient of the initial cell state.
        public let cell: Tensor
        /// Tensor?: Gradient of the input (when asked).
        public let input: Tensor?
        /// Tensor?: Gradient of the input-to-hidden weight (when asked).
        public let weightIH: Tensor?
        /// Tensor?: Gradient of the hidden-to-hidden weight (when asked).
        public let weightHH: Tensor?
        /// Tensor?: Gradient of the biases (when asked).
        public let bias: Tensor?
    }

    /// Backpropagation through time for `lstmSequence` (not recorded), with the input
    /// `x [T, b, in]` (by time) and `W_ih [4h, in]` of the projection: the gradients of `h0`
    /// and `c0`, and of `x`, `W_ih`, `W_hh` and the biases where `want` asks.
    public static func lstmSequenceBackward(_ tape: LSTMSequenceTape, input: Tensor, weightIH: Tensor, weightHH: Tensor,
                                            gradOutputs: Tensor, gradHidden: Tensor, gradCell: Tensor,
                                            want: (input: Bool, weightIH: Bool, weightHH: Bool, bias: Bool))
        -> LSTMSequenceGradients {
        let g = tape.gates
        tensorCheck(input.rank == 3 && input.shape[0] == g.shape[0] && input.shape[1] == g.shape[1]
                        && weightIH.shape == [g.shape[2], input.shape[2]],
                    "[lstmSequenceBackward] input \(shapeText(input.shape)) and weight \(shapeText(weightIH.shape)) do not fit gates \(shapeText(g.shape))")
        func make(_ shape: [Int]) -> Tensor { Tensor(uninitializedShape: shape, dtype: g.dtype, backend: g.backend) }
        let gradGates = make(g.shape), hidden = make(gradHidden.shape), cell = make(gradCell.shape)
        let dx = want.input ? make(input.shape) : nil, dWih = want.weightIH ? make(weightIH.shape) : nil
        let dWhh = want.weightHH ? make(weightHH.shape) : nil, db = want.bias ? make([g.shape[2]]) : nil
        let weights = LSTMWeightGradients(input: input.detached().contiguous().operand,
                                          weightIH: weightIH.detached().contiguous().operand,
                                          previous: tape.previous.operand, gradInput: dx?.operand,
                                          gradWeightIH: dWih?.operand, gradWeightHH: dWhh?.operand, gradBias: db?.operand)
        g.backend.lstmSequenceBackward(gates: g.operand, cells: tape.cells.operand,
                                       weightHH: weightHH.detached().contiguous().operand,
                                       gradOutputs: gradOutputs.detached().contiguous().operand,
                                       gradHidden: gradHidden.detached().contiguous().operand,
                                       gradCell: gradCell.detached().contiguous().operand, reverse: tape.reverse,
                                       gradGates: gradGates.operand, gradH0: hidden.operand, gradC0: cell.operand,
                                       weights: weights)
        return LSTMSequenceGradients(hidden: hidden, cell: cell, input: dx, weightIH: dWih, weightHH: dWhh, bias: db)
    }

    /// The backward of `gruCell` (not recorded), from the gradient of the new hidden state.
    public static func gruCellBackward(inputGates: Tensor, hiddenGates: Tensor, hidden: Tensor, gradient: Tensor)
        -> (inputGates: Tensor, hiddenGates: Tensor, hidden: Tensor) {
        tensorCheck(gradient.shape == hidden.shape,
                    "[gruCellBackward] gradient \(shapeText(gradient.shape)) does not fit hidden \(shapeText(hidden.shape))")
        let grads = [inputGates, hiddenGates, hidden].map {
            Tensor(uninitializedShape: $0.shape, dtype: $0.dtype, backend: $0.backend)
        }
        hidden.backend.gruCellBackward(inputGates: inputGates.operand, hiddenGates: hiddenGates.operand,
                                       hidden: hidden.operand, gradient: gradient.contiguous().operand,
                                       inputGatesGradient: grads[0].operand, hiddenGatesGradient: grads[1].operand,
                                       hiddenGradient: grads[2].operand)
        return (grads[0], grads[1], grads[2])
    }

    private static func checkRecurrentOperands(_ op: StaticString, _ operands: [Tensor]) {
        let first = operands[0]
        tensorCheck(first.dtype.isFloatingPoint, "[\(op)] needs floating-point tensors, got \(first.dtype)")
        for t in operands.dropFirst() {
            tensorCheck(t.dtype == first.dtype, "[\(op)] operands mix \(first.dtype) and \(t.dtype)")
            tensorCheck(t.device == first.device, "[\(op)] operands on \(first.device) and \(t.device)")
        }
    }

    /// Input gradients of `f` at `inputs` for output seeds, recorded so they can be
    /// differentiated again: the backward rule of a fused op under `createGraph`.
    static func recomputedGradients(_ inputs: [Tensor], seeds: [Tensor], _ f: ([Tensor]) -> [Tensor]) -> [Tensor?] {
        let outputs = f(inputs)
        let wanted = inputs.indices.filter { inputs[$0].requiresGrad }
        let grads = gradients(of: outputs, withRespectTo: wanted.map { inputs[$0] }, seeds: seeds, createGraph: true)
        var result = [Tensor?](repeating: nil, count: inputs.count)
        for (k, i) in wanted.enumerated() { result[i] = grads[k] }
        return result
    }
}
