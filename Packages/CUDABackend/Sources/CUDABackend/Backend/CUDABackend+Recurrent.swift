import TensorCore

/// The LSTM and GRU cells as one kernel each way (a thread per row and unit) instead of the
/// composed default's ~15 element-wise passes; the sequence-level requirements keep their
/// defaults, which run cuBLAS products and these cells step by step.
extension CUDABackend {
    /// Contiguous operands of one floating dtype; every one of `gates` is `[b, k·h]` for `state [b, h]`.
    private func cellsFit(_ operands: [Operand], gates: [Operand], state: Operand, gateCount: Int) -> Bool {
        operands.allSatisfy { $0.layout.isContiguous && $0.dtype.isFloatingPoint && $0.dtype == state.dtype }
            && state.shape.count == 2 && gates.allSatisfy { $0.shape == [state.shape[0], gateCount * state.shape[1]] }
    }

    public func lstmCell(gates: Operand, cell: Operand, into out: Operand) {
        guard cellsFit([gates, cell, out], gates: [gates], state: cell, gateCount: 4) else {
            return composedLSTMCell(gates: gates, cell: cell, into: out)
        }
        let (batch, hidden) = (cell.shape[0], cell.shape[1])
        launch(.lstmCell, cell.dtype, count: batch * hidden) { a in
            a.append(gates); a.append(cell); a.append(out); a.append(Int64(batch)); a.append(Int64(hidden))
        }
    }

    public func lstmCellBackward(gates: Operand, cell: Operand, newCell: Operand, gradient: Operand,
                                 gatesGradient: Operand, cellGradient: Operand) {
        guard cellsFit([gates, cell, newCell, gradient, gatesGradient, cellGradient], gates: [gates], state: cell, gateCount: 4) else {
            return composedLSTMCellBackward(gates: gates, cell: cell, newCell: newCell, gradient: gradient,
                                            gatesGradient: gatesGradient, cellGradient: cellGradient)
        }
        let (batch, hidden) = (cell.shape[0], cell.shape[1])
        launch(.lstmCellBackward, cell.dtype, count: batch * hidden) { a in
            a.append(gates); a.append(cell); a.append(newCell); a.append(gradient); a.append(gatesGradient); a.append(cellGradient)
            a.append(Int64(batch)); a.append(Int64(hidden))
        }
    }

    public func gruCell(inputGates: Operand, hiddenGates: Operand, hidden: Operand, into out: Operand) {
        guard cellsFit([inputGates, hiddenGates, hidden, out], gates: [inputGates, hiddenGates], state: hidden, gateCount: 3) else {
            return composedGRUCell(inputGates: inputGates, hiddenGates: hiddenGates, hidden: hidden, into: out)
        }
        let (batch, width) = (hidden.shape[0], hidden.shape[1])
        launch(.gruCell, hidden.dtype, count: batch * width) { a in
            a.append(inputGates); a.append(hiddenGates); a.append(hidden); a.append(out); a.append(Int64(batch)); a.append(Int64(width))
        }
    }

    public func gruCellBackward(inputGates: Operand, hiddenGates: Operand, hidden: Operand, gradient: Operand,
                                inputGatesGradient: Operand, hiddenGatesGradient: Operand, hiddenGradient: Operand) {
        guard cellsFit([inputGates, hiddenGates, hidden, gradient, inputGatesGradient, hiddenGatesGradient, hiddenGradient],
                       gates: [inputGates, hiddenGates], state: hidden, gateCount: 3) else {
            return composedGRUCellBackward(inputGates: inputGates, hiddenGates: hiddenGates, hidden: hidden, gradient: gradient,
                                           inputGatesGradient: inputGatesGradient, hiddenGatesGradient: hiddenGatesGradient,
                                           hiddenGradient: hiddenGradient)
        }
        let (batch, width) = (hidden.shape[0], hidden.shape[1])
        launch(.gruCellBackward, hidden.dtype, count: batch * width) { a in
            a.append(inputGates); a.append(hiddenGates); a.append(hidden); a.append(gradient)
            a.append(inputGatesGradient); a.append(hiddenGatesGradient); a.append(hiddenGradient)
            a.append(Int64(batch)); a.append(Int64(width))
        }
    }
}
