import COpenBLAS
#if canImport(Glibc)
import Glibc
#endif
import CTesseraKernels

/// The BLAS entry points per element type: the only per-dtype code of the CPU matmul.
protocol BLASScalar: TensorFloat {
    static func gemm(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
                     _ a: UnsafePointer<Self>, _ lda: Int, _ b: UnsafePointer<Self>, _ ldb: Int,
                     _ c: UnsafeMutablePointer<Self>, _ ldc: Int, beta: Self)
}

extension Float: BLASScalar {
    static func gemm(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
                     _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                     _ c: UnsafeMutablePointer<Float>, _ ldc: Int, beta: Float) {
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}

extension Double: BLASScalar {
    static func gemm(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
                     _ a: UnsafePointer<Double>, _ lda: Int, _ b: UnsafePointer<Double>, _ ldb: Int,
                     _ c: UnsafeMutablePointer<Double>, _ ldc: Int, beta: Double) {
        cblas_dgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}

/// How BLAS can read a strided matrix without a copy: transposed or not, and its leading dimension.
private func blasView(rows: Int, columns: Int, rowStride: Int, columnStride: Int) -> (transposed: Bool, ld: Int)? {
    if columnStride == 1 || columns == 1 {
        let ld = rows == 1 ? Swift.max(columns, 1) : rowStride
        if ld >= Swift.max(columns, 1) { return (false, ld) }
    }
    if rowStride == 1 || rows == 1 {
        let ld = columns == 1 ? Swift.max(rows, 1) : columnStride
        if ld >= Swift.max(rows, 1) { return (true, ld) }
    }
    return nil
}

extension CPUBackend {
    public func matmul(_ a: Operand, _ b: Operand, into out: Operand, accumulate: Bool) {
        if a.dtype.isReducedPrecision || out.dtype.isReducedPrecision {
            if accumulate {
                let wideOut = widened(out)
                matmul(widened(a), widened(b), into: wideOut, accumulate: true)
                return copy(wideOut, into: out)
            }
            return inFloat32([a, b], out) { inputs, wide in self.matmul(inputs[0], inputs[1], into: wide) }
        }
        switch a.dtype {
        case .float32: matmulBLAS(a, b, out, accumulate, Float.self)
        case .float64: matmulBLAS(a, b, out, accumulate, Double.self)
        case .int32: matmulNaive(a, b, out, accumulate, Int32.self)
        case .int64: matmulNaive(a, b, out, accumulate, Int64.self)
        case .uint8: matmulNaive(a, b, out, accumulate, UInt8.self)
        default: tensorFailure("[matmul] is not defined for \(a.dtype) tensors")
        }
    }

    /// Runs `body(aOffset, bOffset, outOffset)` for every matrix of the batch.
    private func forEachMatrix(_ a: Operand, _ b: Operand, _ out: Operand, _ body: (Int, Int, Int) -> Void) {
        let r = out.shape.count
        let batchShape = Array(out.shape.prefix(r - 2))
        func batchLayout(_ o: Operand) -> Layout {
            Layout(shape: batchShape, strides: Array(o.layout.strides.prefix(r - 2)), offset: o.layout.offset)
        }
        let plan = StridedPlan(shape: batchShape, layouts: [batchLayout(a), batchLayout(b), batchLayout(out)])
        let s = plan.innerStrides
        plan.forEachRow(in: 0..<plan.elementCount) { o, n in
            for i in 0..<n { body(o[0] + i * s[0], o[1] + i * s[1], o[2] + i * s[2]) }
        }
    }

    private func matmulBLAS<T: BLASScalar>(_ a: Operand, _ b: Operand, _ out: Operand, _ accumulate: Bool, _ t: T.Type) {
        let r = out.shape.count
        let m = out.shape[r - 2], n = out.shape[r - 1], k = a.shape[r - 1]
        if m == 0 || n == 0 { return }
        if k == 0 { if !accumulate { fill(out, with: 0) }; return }
        if T.self == Float.self, CPUBackend.ownGEMM {
            return matmulFloat(a, b, out, accumulate: accumulate, bias: nil, relu: false)
        }
        // Operands BLAS cannot read in place (or an output it cannot write) go through copies.
        let sa = a.layout.strides, sb = b.layout.strides, so = out.layout.strides
        guard let viewA = blasView(rows: m, columns: k, rowStride: sa[r - 2], columnStride: sa[r - 1]) else {
            let c = makeOperand(shape: a.shape, dtype: a.dtype); copy(a, into: c)
            return matmulBLAS(c, b, out, accumulate, t)
        }
        guard let viewB = blasView(rows: k, columns: n, rowStride: sb[r - 2], columnStride: sb[r - 1]) else {
            let c = makeOperand(shape: b.shape, dtype: b.dtype); copy(b, into: c)
            return matmulBLAS(a, c, out, accumulate, t)
        }
        guard let viewC = blasView(rows: m, columns: n, rowStride: so[r - 2], columnStride: so[r - 1]),
              !viewC.transposed else {
            let c = makeOperand(shape: out.shape, dtype: out.dtype)
            if accumulate { copy(out, into: c) }
            matmulBLAS(a, b, c, accumulate, t)
            return copy(c, into: out)
        }
        let ap = a.storage.pointer.assumingMemoryBound(to: T.self)
        let bp = b.storage.pointer.assumingMemoryBound(to: T.self)
        let cp = out.storage.pointer.assumingMemoryBound(to: T.self)
        forEachMatrix(a, b, out) { ao, bo, co in
            T.gemm(viewA.transposed, viewB.transposed, m, n, k, ap + ao, viewA.ld, bp + bo, viewB.ld, cp + co, viewC.ld,
                   beta: accumulate ? 1 : 0)
        }
    }

    public func linear(_ a: Operand, _ b: Operand, bias: Operand?, relu: Bool, into out: Operand) {
        let m = out.shape[0], n = out.shape[1], k = a.shape[1]
        // The fused epilogue reads a contiguous float32 bias.
        if a.dtype == .float32, CPUBackend.ownGEMM, m > 0, n > 0, k > 0,
           bias.map({ $0.dtype == .float32 && ($0.layout.strides == [1] || n == 1) }) ?? true {
            return matmulFloat(a, b, out, accumulate: false, bias: bias, relu: relu)
        }
        composedLinear(a, b, bias: bias, relu: relu, into: out)
    }

    /// Whether float32 products (matmul, linear, convolutions) run on `tessera_sgemm` instead of
    /// OpenBLAS: `GEMMChoice`, measured for this CPU unless `TESSERA_GEMM` says.
    static var ownGEMM: Bool { GEMMChoice.current.usesOwnKernel }

    /// Whether the fused kernels built on `tessera_sgemm` (LSTM, attention) can run: AVX2/FMA
    /// present and not turned off with `TESSERA_GEMM=openblas` (their products are a small part
    /// of their work, so they stay on when OpenBLAS is merely faster at large products).
    static let fusedKernels = tessera_sgemm_available() != 0 && getenv("TESSERA_GEMM").map { String(cString: $0) } != "openblas"

    /// float32 `out = a·b (+ out) (+ bias, ReLU)` on `tessera_sgemm`, which reads any strides, so
    /// transposed and broadcast views need no copies. Batches of matrices too small to split
    /// run one matrix per thread instead.
    func matmulFloat(_ a: Operand, _ b: Operand, _ out: Operand, accumulate: Bool, bias: Operand?, relu: Bool) {
        let r = out.shape.count
        let m = out.shape[r - 2], n = out.shape[r - 1], k = a.shape[r - 1]
        let sa = a.layout.strides, sb = b.layout.strides, so = out.layout.strides
        let ap = a.storage.pointer.assumingMemoryBound(to: Float.self)
        let bp = b.storage.pointer.assumingMemoryBound(to: Float.self)
        let cp = out.storage.pointer.assumingMemoryBound(to: Float.self)
        let biasPointer = bias.map { $0.storage.pointer.assumingMemoryBound(to: Float.self) + $0.layout.offset }
        let threads = Int32(CPUThreads.count)
        let batch = out.shape.prefix(r - 2).reduce(1, *)
        let small = 2 * m * n * k < 1 << 21
        var offsets: [(Int, Int, Int)] = []
        offsets.reserveCapacity(batch)
        forEachMatrix(a, b, out) { ao, bo, co in offsets.append((ao, bo, co)) }
        let run = { (index: Int, threads: Int32) in
            let (ao, bo, co) = offsets[index]
            tessera_sgemm(m, n, k, 1, ap + ao, sa[r - 2], sa[r - 1], bp + bo, sb[r - 2], sb[r - 1],
                          accumulate ? 1 : 0, cp + co, so[r - 2], so[r - 1], biasPointer, relu ? 1 : 0, threads)
        }
        if batch > 1 && small && threads > 1 {
            parallelTasks(count: batch) { run($0, 1) }
        } else {
            for index in 0..<batch { run(index, threads) }
        }
    }

    private func matmulNaive<T: ReducibleScalar>(_ a: Operand, _ b: Operand, _ out: Operand, _ accumulate: Bool, _ t: T.Type) {
        let r = out.shape.count
        let m = out.shape[r - 2], n = out.shape[r - 1], k = a.shape[r - 1]
        let sa = a.layout.strides, sb = b.layout.strides, so = out.layout.strides
        let ap = a.storage.pointer.assumingMemoryBound(to: T.self)
        let bp = b.storage.pointer.assumingMemoryBound(to: T.self)
        let cp = out.storage.pointer.assumingMemoryBound(to: T.self)
        forEachMatrix(a, b, out) { ao, bo, co in
            for i in 0..<m {
                for j in 0..<n {
                    var acc: T = accumulate ? cp[co + i * so[r - 2] + j * so[r - 1]] : 0
                    for p in 0..<k { acc += ap[ao + i * sa[r - 2] + p * sa[r - 1]] * bp[bo + p * sb[r - 2] + j * sb[r - 1]] }
                    cp[co + i * so[r - 2] + j * so[r - 1]] = acc
                }
            }
        }
    }
}
