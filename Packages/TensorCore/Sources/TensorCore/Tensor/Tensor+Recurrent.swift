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
        let out = Tensor(uninitializedShape: [2, b, h], dtype: cell.dtype, device: cell.device)
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
        let out = Tensor(uninitializedShape: hidden.shape, dtype: hidden.dtype, device: hidden.device)
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
        let gatesGradient = Tensor(uninitializedShape: gates.shape, dtype: gates.dtype, device: gates.device)
        let cellGradient = Tensor(uninitializedShape: cell.shape, dtype: cell.dtype, device: cell.device)
        gates.backend.lstmCellBackward(gates: gates.operand, cell: cell.operand, newCell: newCell.operand,
                                       gradient: gradient.contiguous().operand, gatesGradient: gatesGradient.operand,
                                       cellGradient: cellGradient.operand)
        return (gatesGradient, cellGradient)
    }

    /// The backward of `gruCell` (not recorded), from the gradient of the new hidden state.
    public static func gruCellBackward(inputGates: Tensor, hiddenGates: Tensor, hidden: Tensor, gradient: Tensor)
        -> (inputGates: Tensor, hiddenGates: Tensor, hidden: Tensor) {
        tensorCheck(gradient.shape == hidden.shape,
                    "[gruCellBackward] gradient \(shapeText(gradient.shape)) does not fit hidden \(shapeText(hidden.shape))")
        let grads = [inputGates, hiddenGates, hidden].map {
            Tensor(uninitializedShape: $0.shape, dtype: $0.dtype, device: $0.device)
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
