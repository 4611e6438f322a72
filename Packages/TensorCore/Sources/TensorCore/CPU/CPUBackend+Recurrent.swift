import CTesseraKernels

/// LSTM and GRU point-wise steps in one pass over each batch row, for float tensors whose
/// rows are contiguous; anything else goes to the composed defaults.
extension CPUBackend {
    /// The element type when every operand is float32/float64 with unit inner stride.
    private func rowKernelType(_ operands: [Operand]) -> DType? {
        guard let first = operands.first, first.dtype == .float32 || first.dtype == .float64 else { return nil }
        for o in operands where o.dtype != first.dtype || o.layout.strides.last != 1 { return nil }
        return first.dtype
    }

    public func lstmCell(gates: Operand, cell: Operand, into out: Operand) {
        let h = cell.shape[1]
        let hOut = out.first(0), cOut = out.first(1)
        switch rowKernelType([gates, cell, hOut, cOut]) {
        case .float32?: lstmForward(gates, cell, hOut, cOut, h, Float.self)
        case .float64?: lstmForward(gates, cell, hOut, cOut, h, Double.self)
        default: composedLSTMCell(gates: gates, cell: cell, into: out)
        }
    }

    public func lstmCellBackward(gates: Operand, cell: Operand, newCell: Operand, gradient: Operand,
                                 gatesGradient: Operand, cellGradient: Operand) {
        let ops = [gates, cell, newCell, gradient.first(0), gradient.first(1), gatesGradient, cellGradient]
        switch rowKernelType(ops) {
        case .float32?: lstmBackward(ops, cell.shape[1], Float.self)
        case .float64?: lstmBackward(ops, cell.shape[1], Double.self)
        default:
            composedLSTMCellBackward(gates: gates, cell: cell, newCell: newCell, gradient: gradient,
                                     gatesGradient: gatesGradient, cellGradient: cellGradient)
        }
    }

    public func gruCell(inputGates: Operand, hiddenGates: Operand, hidden: Operand, into out: Operand) {
        let ops = [inputGates, hiddenGates, hidden, out]
        switch rowKernelType(ops) {
        case .float32?: gruForward(ops, hidden.shape[1], Float.self)
        case .float64?: gruForward(ops, hidden.shape[1], Double.self)
        default: composedGRUCell(inputGates: inputGates, hiddenGates: hiddenGates, hidden: hidden, into: out)
        }
    }

    public func gruCellBackward(inputGates: Operand, hiddenGates: Operand, hidden: Operand, gradient: Operand,
                                inputGatesGradient: Operand, hiddenGatesGradient: Operand, hiddenGradient: Operand) {
        let ops = [inputGates, hiddenGates, hidden, gradient, inputGatesGradient, hiddenGatesGradient, hiddenGradient]
        switch rowKernelType(ops) {
        case .float32?: gruBackward(ops, hidden.shape[1], Float.self)
        case .float64?: gruBackward(ops, hidden.shape[1], Double.self)
        default:
            composedGRUCellBackward(inputGates: inputGates, hiddenGates: hiddenGates, hidden: hidden, gradient: gradient,
                                    inputGatesGradient: inputGatesGradient, hiddenGatesGradient: hiddenGatesGradient,
                                    hiddenGradient: hiddenGradient)
        }
    }

    /// Runs `body(pointers, scratch)` over batch rows, each pointer at the start of its
    /// operand's row; `scratch` holds `scratchCount` elements per thread for the gate
    /// activations, computed a row at a time by the vector kernels.
    @inline(__always)
    private func forEachRow<T>(_ operands: [Operand], _ t: T.Type, scratchCount: Int,
                               _ body: (_ row: [UnsafeMutablePointer<T>], _ scratch: UnsafeMutablePointer<T>) -> Void) {
        let bases = operands.map { $0.elements(T.self) }
        let rowStrides = operands.map { $0.layout.strides[0] }
        let rows = operands[0].shape[0]
        parallelChunks(count: rows, cost: scratchCount * 8) { range in
            let scratch = UnsafeMutablePointer<T>.allocate(capacity: scratchCount)
            defer { scratch.deallocate() }
            for r in range { body(zip(bases, rowStrides).map { $0 + r * $1 }, scratch) }
        }
    }

    /// σ(i), σ(f), tanh(g), σ(o) of one row of LSTM gates into `act[0..<4h]`.
    @inline(__always)
    private func lstmGates<T: FastActivations>(_ a: UnsafeMutablePointer<T>, _ act: UnsafeMutablePointer<T>, _ h: Int) {
        T.sigmoidRow(a, act, 2 * h)
        T.tanhRow(a + 2 * h, act + 2 * h, h)
        T.sigmoidRow(a + 3 * h, act + 3 * h, h)
    }

    private func lstmForward<T: FastActivations>(_ gates: Operand, _ cell: Operand, _ hOut: Operand, _ cOut: Operand,
                                                 _ h: Int, _ t: T.Type) {
        forEachRow([gates, cell, hOut, cOut], T.self, scratchCount: 5 * h) { p, act in
            let a = p[0], c = p[1], ho = p[2], co = p[3]
            lstmGates(a, act, h)
            for j in 0..<h { co[j] = act[h + j] * c[j] + act[j] * act[2 * h + j] }
            T.tanhRow(co, act + 4 * h, h)
            for j in 0..<h { ho[j] = act[3 * h + j] * act[4 * h + j] }
        }
    }

    private func lstmBackward<T: FastActivations>(_ ops: [Operand], _ h: Int, _ t: T.Type) {
        forEachRow(ops, T.self, scratchCount: 5 * h) { p, act in
            let a = p[0], c = p[1], cn = p[2], gh = p[3], gc = p[4], ga = p[5], gcPrev = p[6]
            lstmGates(a, act, h)
            T.tanhRow(cn, act + 4 * h, h)
            for j in 0..<h {
                let i = act[j], f = act[h + j], g = act[2 * h + j], o = act[3 * h + j], tc = act[4 * h + j]
                let total = gc[j] + gh[j] * o * (1 - tc * tc)
                ga[j] = total * g * i * (1 - i)
                ga[h + j] = total * c[j] * f * (1 - f)
                ga[2 * h + j] = total * i * (1 - g * g)
                ga[3 * h + j] = gh[j] * tc * o * (1 - o)
                gcPrev[j] = total * f
            }
        }
    }

    /// r, z into `act[0..<2h]` and n into `act[2h..<3h]` for one row of GRU gates.
    @inline(__always)
    private func gruGates<T: FastActivations>(_ x: UnsafeMutablePointer<T>, _ hg: UnsafeMutablePointer<T>,
                                              _ act: UnsafeMutablePointer<T>, _ h: Int) {
        for j in 0..<(2 * h) { act[j] = x[j] + hg[j] }
        T.sigmoidRow(act, act, 2 * h)
        for j in 0..<h { act[2 * h + j] = x[2 * h + j] + act[j] * hg[2 * h + j] }
        T.tanhRow(act + 2 * h, act + 2 * h, h)
    }

    private func gruForward<T: FastActivations>(_ ops: [Operand], _ h: Int, _ t: T.Type) {
        forEachRow(ops, T.self, scratchCount: 3 * h) { p, act in
            let x = p[0], hg = p[1], hp = p[2], out = p[3]
            gruGates(x, hg, act, h)
            for j in 0..<h {
                let z = act[h + j], n = act[2 * h + j]
                out[j] = n + z * (hp[j] - n)
            }
        }
    }

    private func gruBackward<T: FastActivations>(_ ops: [Operand], _ h: Int, _ t: T.Type) {
        forEachRow(ops, T.self, scratchCount: 3 * h) { p, act in
            let x = p[0], hg = p[1], hp = p[2], g = p[3], gx = p[4], ghg = p[5], gh = p[6]
            gruGates(x, hg, act, h)
            for j in 0..<h {
                let r = act[j], z = act[h + j], n = act[2 * h + j]
                gh[j] = g[j] * z
                let nPre = g[j] * (1 - z) * (1 - n * n)
                let zPre = g[j] * (hp[j] - n) * z * (1 - z)
                let rPre = nPre * hg[2 * h + j] * r * (1 - r)
                gx[j] = rPre; ghg[j] = rPre
                gx[h + j] = zPre; ghg[h + j] = zPre
                gx[2 * h + j] = nPre; ghg[2 * h + j] = nPre * r
            }
        }
    }
}

/// Whole LSTM sequences on CTesseraKernels' lstm.c (float32, contiguous): the recurrent
/// weights packed once per sequence, one GEMM and one cell pass per step. `gates` keeps the
/// activated gates for the backward. Other dtypes and layouts compose per step.
extension CPUBackend {
    public func lstmSequence(gates: Operand, weightHH: Operand, h0: Operand, cells: Operand, outputs: Operand,
                             previous: Operand, reverse: Bool) {
        guard fusedLSTMApplies([gates, weightHH, h0, cells, outputs, previous]) else {
            return composedLSTMSequence(gates: gates, weightHH: weightHH, h0: h0, cells: cells, outputs: outputs,
                                        previous: previous, reverse: reverse)
        }
        var args = lstmArguments(gates: gates, weightHH: weightHH, cells: cells, reverse: reverse)
        args.h0 = UnsafePointer(floats(h0))
        args.outputs = floats(outputs)
        args.previous = floats(previous)
        if tessera_lstm_forward_f32(&args) != 0 { tensorFailure("[lstmSequence] out of memory for scratch buffers") }
    }

    public func lstmSequenceBackward(gates: Operand, cells: Operand, weightHH: Operand, gradOutputs: Operand,
                                     gradHidden: Operand, gradCell: Operand, reverse: Bool,
                                     gradGates: Operand, gradH0: Operand, gradC0: Operand, weights w: LSTMWeightGradients) {
        let products = [w.gradInput, w.gradWeightIH, w.gradWeightHH, w.gradBias]
        guard fusedLSTMApplies([gates, cells, weightHH, gradOutputs, gradHidden, gradCell, gradGates, gradH0, gradC0,
                                w.input, w.weightIH, w.previous] + products.compactMap { $0 }) else {
            composedLSTMSequenceBackward(gates: gates, cells: cells, weightHH: weightHH, gradOutputs: gradOutputs,
                                         gradHidden: gradHidden, gradCell: gradCell, reverse: reverse,
                                         gradGates: gradGates, gradH0: gradH0, gradC0: gradC0)
            return composedLSTMWeightGradients(gradGates: gradGates, w)
        }
        var args = lstmArguments(gates: gates, weightHH: weightHH, cells: cells, reverse: reverse)
        args.grad_gates = floats(gradGates)
        args.previous = floats(w.previous)
        var targets = tessera_lstm_weight_grads()
        targets.input = UnsafePointer(floats(w.input))
        targets.weight_ih = UnsafePointer(floats(w.weightIH))
        targets.input_size = w.weightIH.shape[1]
        targets.grad_input = w.gradInput.map(floats)
        targets.grad_weight_ih = w.gradWeightIH.map(floats)
        targets.grad_weight_hh = w.gradWeightHH.map(floats)
        targets.grad_bias = w.gradBias.map(floats)
        if tessera_lstm_backward_f32(&args, floats(gradOutputs), floats(gradHidden), floats(gradCell),
                                     floats(gradH0), floats(gradC0), &targets) != 0 {
            tensorFailure("[lstmSequenceBackward] out of memory for scratch buffers")
        }
    }

    private func fusedLSTMApplies(_ operands: [Operand]) -> Bool {
        CPUBackend.fusedKernels && operands.allSatisfy { $0.dtype == .float32 && $0.layout.isContiguous }
    }

    private func floats(_ o: Operand) -> UnsafeMutablePointer<Float> {
        o.storage.pointer.assumingMemoryBound(to: Float.self) + o.layout.offset
    }

    private func lstmArguments(gates: Operand, weightHH: Operand, cells: Operand, reverse: Bool) -> tessera_lstm_args {
        var args = tessera_lstm_args()
        args.steps = gates.shape[0]
        args.batch = gates.shape[1]
        args.hidden = weightHH.shape[1]
        args.threads = CPUThreads.count
        args.reverse = reverse ? 1 : 0
        args.weight_hh = UnsafePointer(floats(weightHH))
        args.gates = floats(gates)
        args.cells = floats(cells)
        return args
    }
}
