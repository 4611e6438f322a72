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

    /// Runs `body(row, pointers)` over batch rows, each pointer at the start of its operand's row.
    @inline(__always)
    private func forEachRow<T>(_ operands: [Operand], _ t: T.Type, cost: Int,
                               _ body: (_ row: [UnsafeMutablePointer<T>]) -> Void) {
        let bases = operands.map { $0.elements(T.self) }
        let rowStrides = operands.map { $0.layout.strides[0] }
        let rows = operands[0].shape[0]
        parallelChunks(count: rows, cost: cost) { range in
            for r in range { body(zip(bases, rowStrides).map { $0 + r * $1 }) }
        }
    }

    private func lstmForward<T: FastActivations>(_ gates: Operand, _ cell: Operand, _ hOut: Operand, _ cOut: Operand,
                                                      _ h: Int, _ t: T.Type) {
        forEachRow([gates, cell, hOut, cOut], T.self, cost: h * 40) { p in
            let a = p[0], c = p[1], ho = p[2], co = p[3]
            for j in 0..<h {
                let i = T.fastSigmoid(a[j]), f = T.fastSigmoid(a[h + j]), g = T.fastTanh(a[2 * h + j]), o = T.fastSigmoid(a[3 * h + j])
                let cn = f * c[j] + i * g
                co[j] = cn
                ho[j] = o * T.fastTanh(cn)
            }
        }
    }

    private func lstmBackward<T: FastActivations>(_ ops: [Operand], _ h: Int, _ t: T.Type) {
        forEachRow(ops, T.self, cost: h * 50) { p in
            let a = p[0], c = p[1], cn = p[2], gh = p[3], gc = p[4], ga = p[5], gcPrev = p[6]
            for j in 0..<h {
                let i = T.fastSigmoid(a[j]), f = T.fastSigmoid(a[h + j]), g = T.fastTanh(a[2 * h + j]), o = T.fastSigmoid(a[3 * h + j])
                let tc = T.fastTanh(cn[j])
                let total = gc[j] + gh[j] * o * (1 - tc * tc)
                ga[j] = total * g * i * (1 - i)
                ga[h + j] = total * c[j] * f * (1 - f)
                ga[2 * h + j] = total * i * (1 - g * g)
                ga[3 * h + j] = gh[j] * tc * o * (1 - o)
                gcPrev[j] = total * f
            }
        }
    }

    private func gruForward<T: FastActivations>(_ ops: [Operand], _ h: Int, _ t: T.Type) {
        forEachRow(ops, T.self, cost: h * 30) { p in
            let x = p[0], hg = p[1], hp = p[2], out = p[3]
            for j in 0..<h {
                let r = T.fastSigmoid(x[j] + hg[j]), z = T.fastSigmoid(x[h + j] + hg[h + j])
                let n = T.fastTanh(x[2 * h + j] + r * hg[2 * h + j])
                out[j] = n + z * (hp[j] - n)
            }
        }
    }

    private func gruBackward<T: FastActivations>(_ ops: [Operand], _ h: Int, _ t: T.Type) {
        forEachRow(ops, T.self, cost: h * 40) { p in
            let x = p[0], hg = p[1], hp = p[2], g = p[3], gx = p[4], ghg = p[5], gh = p[6]
            for j in 0..<h {
                let r = T.fastSigmoid(x[j] + hg[j]), z = T.fastSigmoid(x[h + j] + hg[h + j])
                let n = T.fastTanh(x[2 * h + j] + r * hg[2 * h + j])
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

