import CTesseraKernels

/// Softmax, log-softmax and cross-entropy as row kernels: one pass over each row in cache
/// instead of the reference formula's five full-tensor passes with temporaries.
extension CPUBackend {
    /// Rows of `n` contiguous elements along the last axis, or nil when the layout is other.
    func contiguousRows(_ x: Operand, _ out: Operand, axis: Int) -> Int? {
        guard axis == x.shape.count - 1, x.layout.isContiguous, out.layout.isContiguous,
              x.dtype == .float32 || x.dtype == .float64, out.dtype == x.dtype else { return nil }
        return x.shape.last
    }

    public func softmax(_ x: Operand, axis: Int, log: Bool, into out: Operand) {
        guard let n = contiguousRows(x, out, axis: axis), n > 0 else {
            return composedSoftmax(x, axis: axis, log: log, into: out)
        }
        if x.dtype == .float32 {
            let xp = x.elements(Float.self)
            let op = out.elements(Float.self)
            parallelChunks(count: x.elementCount / n, cost: n * 4) { range in
                tessera_softmax_rows_f32(xp + range.lowerBound * n, op + range.lowerBound * n, range.count, n, log ? 1 : 0)
            }
        } else {
            softmaxRows(x, out, n, log, Double.self, exp: { expRow($0, shift: $1, $2, $3) })
        }
    }

    @inline(__always)
    private func softmaxRows<T: TensorFloat & ReducibleScalar>(
        _ x: Operand, _ out: Operand, _ n: Int, _ log: Bool, _ t: T.Type,
        exp: (UnsafePointer<T>, T, UnsafeMutablePointer<T>, Int) -> T
    ) {
        let xp = x.elements(T.self)
        let op = out.elements(T.self)
        let rows = x.elementCount / n
        parallelChunks(count: rows, cost: n * 4) { range in
            for row in range {
                let xr = xp + row * n, orow = op + row * n
                // NaN needs no special case: it reaches the sum and poisons the row.
                var m = xr[0]
                for i in 1..<n { m = Swift.max(m, xr[i]) }
                // A row of -inf has no maximum to shift by; keep exp finite-argument.
                if m == -T.infinity { m = 0 }
                let total = exp(xr, m, orow, n)
                if log {
                    let logTotal = T._log(total) + m
                    for i in 0..<n { orow[i] = xr[i] - logTotal }
                } else {
                    let scale = 1 / total
                    for i in 0..<n { orow[i] *= scale }
                }
            }
        }
    }

    public func crossEntropy(logits: Operand, targets: Operand, into out: Operand) {
        guard let n = contiguousRows(logits, logits, axis: 1), logits.shape.count == 2, n > 0,
              out.layout.isContiguous, out.dtype == logits.dtype else {
            return composedCrossEntropy(logits: logits, targets: targets, into: out)
        }
        if logits.dtype == .float32 { crossEntropyRows(logits, targets, out, n, Float.self) }
        else { crossEntropyRows(logits, targets, out, n, Double.self) }
    }

    private func crossEntropyRows<T: TensorFloat & ReducibleScalar>(_ logits: Operand, _ targets: Operand, _ out: Operand,
                                                                   _ n: Int, _ t: T.Type) {
        let xp = logits.elements(T.self)
        let tp = targets.storage.pointer.assumingMemoryBound(to: Int64.self)
        let ts = targets.layout.strides[0], to = targets.layout.offset
        let op = out.elements(T.self)
        let rows = logits.shape[0]
        parallelChunks(count: rows, cost: n * 2) { range in
            for row in range {
                let xr = xp + row * n
                let target = Int(tp[to + row * ts])
                tensorCheck(target >= 0 && target < n, "[crossEntropy] target \(target) is out of range for \(n) classes")
                var m = T.lowest
                for i in 0..<n where xr[i] > m { m = xr[i] }
                var total: T = 0
                for i in 0..<n { total += T._exp(xr[i] - m) }
                op[row] = T._log(total) + m - xr[target]
            }
        }
    }
}
