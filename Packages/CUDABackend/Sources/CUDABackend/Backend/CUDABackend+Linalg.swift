import TensorCore

/// How cuBLAS can read a stack of matrices in place: row-major or transposed with a leading
/// dimension, and one stride between consecutive matrices of the (flattened) batch.
struct MatrixStack {
    var operand: Operand
    var transposed: Bool
    var leading: Int
    var batchStride: Int

    /// nil when the layout needs a copy first (neither axis unit-stride, or batch axes that do
    /// not flatten to one stride).
    init?(_ operand: Operand, rows: Int, columns: Int, batchShape: [Int]) {
        let rank = operand.shape.count
        let rowStride = operand.layout.strides[rank - 2], columnStride = operand.layout.strides[rank - 1]
        if columnStride == 1 || columns == 1, rowStride >= max(columns, 1) || rows == 1 {
            transposed = false
            leading = rows == 1 ? max(columns, 1) : rowStride
        } else if rowStride == 1 || rows == 1, columnStride >= max(rows, 1) || columns == 1 {
            transposed = true
            leading = columns == 1 ? max(rows, 1) : columnStride
        } else {
            return nil
        }
        // The operand's batch axes, broadcast to the output's (zero strides where expanded).
        let lead = batchShape.count - (rank - 2)
        let strides = batchShape.indices.map { d -> Int in
            d < lead || operand.shape[d - lead] == 1 ? 0 : operand.layout.strides[d - lead]
        }
        let (shape, merged) = coalesced(shape: batchShape, strides: [strides])
        if shape.count == 1 { batchStride = shape[0] == 1 ? 0 : merged[0][0] }
        else if shape.allSatisfy({ $0 == 1 }) { batchStride = 0 }
        else { return nil }
        self.operand = operand
    }
}

extension CUDABackend {
    public func matmul(_ a: Operand, _ b: Operand, into out: Operand, accumulate: Bool) {
        let rank = out.shape.count
        tensorCheck(rank >= 2 && a.shape.count >= 2 && b.shape.count >= 2,
                    "[matmul] \(device) kernels take operands of rank ≥ 2, got \(a.shape), \(b.shape) into \(out.shape)")
        tensorCheck(a.dtype == b.dtype, "[matmul] lhs \(a.dtype) and rhs \(b.dtype)")
        if !a.dtype.isFloatingPoint {
            // Integers through float64 (exact below 2^53): cuBLAS has no integer GEMM.
            let wide = { (x: Operand) -> Operand in let w = self.makeOperand(shape: x.shape, dtype: .float64); self.copy(x, into: w); return w }
            let result = makeOperand(shape: out.shape, dtype: .float64)
            if accumulate { copy(out, into: result) }
            matmul(wide(a), wide(b), into: result, accumulate: accumulate)
            return copy(result, into: out)
        }
        let m = out.shape[rank - 2], n = out.shape[rank - 1], k = a.shape[a.shape.count - 1]
        let batchShape = Array(out.shape.dropLast(2))
        let batch = batchShape.reduce(1, *)
        guard m > 0, n > 0 else { return }
        if k == 0 { if !accumulate { fill(out, with: 0) }; return }
        func stack(_ x: Operand, _ rows: Int, _ columns: Int) -> MatrixStack {
            if let s = MatrixStack(x, rows: rows, columns: columns, batchShape: batchShape) { return s }
            return MatrixStack(contiguous(x), rows: rows, columns: columns, batchShape: batchShape)
                ?? MatrixStack(materialized(x, batchShape: batchShape), rows: rows, columns: columns, batchShape: batchShape)!
        }
        let sa = stack(a, m, k), sb = stack(b, k, n)
        // The output must be row-major with one batch stride; otherwise compute into a copy.
        if let so = MatrixStack(out, rows: m, columns: n, batchShape: batchShape), !so.transposed,
           out.dtype == a.dtype {
            gemm(sa, sb, so, m: m, n: n, k: k, batch: batch, beta: accumulate ? 1 : 0)
        } else {
            let temporary = makeOperand(shape: out.shape, dtype: a.dtype)
            if accumulate { copy(out, into: temporary) }
            let so = MatrixStack(temporary, rows: m, columns: n, batchShape: batchShape)!
            gemm(sa, sb, so, m: m, n: n, k: k, batch: batch, beta: accumulate ? 1 : 0)
            copy(temporary, into: out)
        }
    }

    /// A contiguous copy with the batch axes expanded to `batchShape` (for broadcasts whose
    /// strides do not flatten).
    private func materialized(_ x: Operand, batchShape: [Int]) -> Operand {
        let shape = batchShape + x.shape.suffix(2)
        let expanded = x.with(layout: x.layout.broadcast(to: shape))
        let copy = makeOperand(shape: shape, dtype: x.dtype)
        self.copy(expanded, into: copy)
        return copy
    }

    func gemm(_ a: MatrixStack, _ b: MatrixStack, _ c: MatrixStack, m: Int, n: Int, k: Int, batch: Int, beta: Double) {
        makeCurrent()
        blas.gemm(dtype: a.operand.dtype, transposeA: a.transposed, transposeB: b.transposed, m: m, n: n, k: k,
                  a: a.operand.deviceAddress, lda: a.leading, strideA: a.batchStride,
                  b: b.operand.deviceAddress, ldb: b.leading, strideB: b.batchStride,
                  c: c.operand.deviceAddress, ldc: c.leading, strideC: c.batchStride, batch: batch, beta: beta,
                  tf32: allowTF32)
    }
}
