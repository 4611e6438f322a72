/// Matrix decompositions over the last two axes, batched over the leading ones (the kernels
/// under `Linalg`). Operands are contiguous row-major float32 or float64 with leading axes
/// already flattened or broadcast as the shapes say; outputs are fresh. The functions that can
/// fail return LAPACK's `info` per batch element: 0 on success, > 0 for that routine's
/// failure (a zero pivot, a minor that is not positive definite, no convergence).
///
/// Every requirement has a default that runs LAPACK on the host and copies through
/// `MemoryOps` (a copy of the bytes on the CPU backend); a GPU backend overrides them with
/// its solver library where it has one.
public protocol DecompositionOps: AnyObject {
    /// LU with partial pivoting of `a [..., n, n]` into `lu [..., n, n]` and int32
    /// `pivots [..., n]`, in the backend's own arrangement for `luSolve`, except that U's
    /// diagonal lies on `lu`'s diagonal and the pivots are 1-based row interchanges, so that
    /// the determinant is their signed product.
    func luFactor(_ a: Operand, lu: Operand, pivots: Operand) -> [Int32]
    /// `x = A⁻¹ b` from `luFactor`'s output; `b`, `x` `[..., n, k]`.
    func luSolve(lu: Operand, pivots: Operand, _ b: Operand, into x: Operand)
    /// Lower Cholesky factor of `a [..., n, n]` from its lower triangle.
    func cholesky(_ a: Operand, into l: Operand) -> [Int32]
    /// `x = op(A)⁻¹ b` for triangular `a [..., n, n]`, `b`, `x` `[..., n, k]`.
    func triangularSolve(_ a: Operand, _ b: Operand, upper: Bool, transposed: Bool, unitDiagonal: Bool,
                         into x: Operand) -> [Int32]
    /// Reduced QR of `a [..., m, n]`: `q [..., m, k]`, `r [..., k, n]`, k = min(m, n).
    func qr(_ a: Operand, q: Operand, r: Operand)
    /// Reduced SVD of `a [..., m, n]`: `u [..., m, k]`, `s [..., k]` descending, `vt [..., k, n]`.
    func svd(_ a: Operand, u: Operand, s: Operand, vt: Operand) -> [Int32]
    /// Ascending eigenvalues `[..., n]` and eigenvector columns `[..., n, n]` of symmetric
    /// `a [..., n, n]` from its lower triangle.
    func eigh(_ a: Operand, values: Operand, vectors: Operand) -> [Int32]
    /// Minimum-norm least-squares `x [..., n, k]` of `a [..., m, n] x ≈ b [..., m, k]`,
    /// singular values below `rcond · s_max` treated as zero.
    func leastSquares(_ a: Operand, _ b: Operand, rcond: Double, into x: Operand) -> [Int32]
}

extension DecompositionOps where Self: MemoryOps {
    public func luFactor(_ a: Operand, lu: Operand, pivots: Operand) -> [Int32] {
        let (batch, n) = (a.batchCount, a.shape.last ?? 0)
        return stagedOnHost(inputs: [a], outputs: [lu, pivots]) { i, o in
            a.lapackType.luFactor(i[0], batch: batch, n: n, lu: o[0], pivots: o[1])
        }
    }

    public func luSolve(lu: Operand, pivots: Operand, _ b: Operand, into x: Operand) {
        let (batch, n, k) = (b.batchCount, b.shape[b.rank - 2], b.shape[b.rank - 1])
        stagedOnHost(inputs: [lu, pivots, b], outputs: [x]) { i, o in
            lu.lapackType.luSolve(lu: i[0], pivots: i[1], i[2], batch: batch, n: n, k: k, into: o[0])
        }
    }

    public func cholesky(_ a: Operand, into l: Operand) -> [Int32] {
        let (batch, n) = (a.batchCount, a.shape.last ?? 0)
        return stagedOnHost(inputs: [a], outputs: [l]) { i, o in
            a.lapackType.cholesky(i[0], batch: batch, n: n, into: o[0])
        }
    }

    public func triangularSolve(_ a: Operand, _ b: Operand, upper: Bool, transposed: Bool, unitDiagonal: Bool,
                                into x: Operand) -> [Int32] {
        let (batch, n, k) = (b.batchCount, b.shape[b.rank - 2], b.shape[b.rank - 1])
        return stagedOnHost(inputs: [a, b], outputs: [x]) { i, o in
            a.lapackType.triangularSolve(i[0], i[1], batch: batch, n: n, k: k, upper: upper, transposed: transposed,
                                         unitDiagonal: unitDiagonal, into: o[0])
        }
    }

    public func qr(_ a: Operand, q: Operand, r: Operand) {
        let (batch, m, n) = (a.batchCount, a.shape[a.rank - 2], a.shape[a.rank - 1])
        stagedOnHost(inputs: [a], outputs: [q, r]) { i, o in
            a.lapackType.qr(i[0], batch: batch, m: m, n: n, q: o[0], r: o[1])
        }
    }

    public func svd(_ a: Operand, u: Operand, s: Operand, vt: Operand) -> [Int32] {
        let (batch, m, n) = (a.batchCount, a.shape[a.rank - 2], a.shape[a.rank - 1])
        return stagedOnHost(inputs: [a], outputs: [u, s, vt]) { i, o in
            a.lapackType.svd(i[0], batch: batch, m: m, n: n, u: o[0], s: o[1], vt: o[2])
        }
    }

    public func eigh(_ a: Operand, values: Operand, vectors: Operand) -> [Int32] {
        let (batch, n) = (a.batchCount, a.shape.last ?? 0)
        return stagedOnHost(inputs: [a], outputs: [values, vectors]) { i, o in
            a.lapackType.eigh(i[0], batch: batch, n: n, values: o[0], vectors: o[1])
        }
    }

    public func leastSquares(_ a: Operand, _ b: Operand, rcond: Double, into x: Operand) -> [Int32] {
        let (batch, m, n, k) = (a.batchCount, a.shape[a.rank - 2], a.shape[a.rank - 1], b.shape[b.rank - 1])
        return stagedOnHost(inputs: [a, b], outputs: [x]) { i, o in
            a.lapackType.leastSquares(i[0], i[1], batch: batch, m: m, n: n, k: k, rcond: rcond, into: o[0])
        }
    }
}

extension Operand {
    /// Matrices in a `[..., m, n]` operand.
    var batchCount: Int { shape.dropLast(2).reduce(1, *) }
    var rank: Int { shape.count }

    /// The LAPACK element type of a float32 or float64 operand (`Linalg` checks the dtype).
    var lapackType: any LAPACKScalar.Type {
        switch dtype {
        case .float32: return Float.self
        case .float64: return Double.self
        default: tensorFailure("[linalg] LAPACK needs float32 or float64, got \(dtype)")
        }
    }
}

extension MemoryOps {
    /// Runs a host kernel on copies of contiguous `inputs` (read from their offsets) and copies
    /// its results into `outputs` (fresh, contiguous, at offset 0): the bytes cross once each way.
    func stagedOnHost<R>(inputs: [Operand], outputs: [Operand],
                         _ body: ([UnsafeRawPointer], [UnsafeMutableRawPointer]) -> R) -> R {
        for x in inputs + outputs { precondition(x.layout.isContiguous, "[linalg] kernel operands are contiguous") }
        // Host memory already: the kernel works on the storages themselves.
        if device == .cpu {
            return body(inputs.map { UnsafeRawPointer($0.storage.pointer + $0.layout.offset * $0.dtype.byteSize) },
                        outputs.map { $0.storage.pointer + $0.layout.offset * $0.dtype.byteSize })
        }
        var buffers: [UnsafeMutableRawBufferPointer] = []
        defer { for b in buffers { b.deallocate() } }
        var ins: [UnsafeRawPointer] = []
        for x in inputs {
            precondition(x.layout.isContiguous, "[linalg] kernel inputs are contiguous")
            let size = x.dtype.byteSize, bytes = Swift.max(1, (x.layout.offset + x.layout.elementCount) * size)
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes, alignment: 64)
            buffers.append(buffer)
            copyToHost(x.storage, byteCount: (x.layout.offset + x.layout.elementCount) * size, into: buffer)
            ins.append(UnsafeRawPointer(buffer.baseAddress! + x.layout.offset * size))
        }
        let outs: [UnsafeMutableRawPointer] = outputs.map { y in
            precondition(y.layout.isContiguous && y.layout.offset == 0, "[linalg] kernel outputs are fresh")
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Swift.max(1, y.layout.elementCount * y.dtype.byteSize),
                                                                alignment: 64)
            buffers.append(buffer)
            return buffer.baseAddress!
        }
        let result = body(ins, outs)
        for (y, p) in zip(outputs, outs) {
            copyFromHost(UnsafeRawBufferPointer(start: p, count: y.layout.elementCount * y.dtype.byteSize), into: y.storage)
        }
        return result
    }
}

/// The host kernels on raw pointers, so that a backend's default can call them through the
/// operand's element type without a switch per decomposition.
extension LAPACKScalar {
    static func luFactor(_ a: UnsafeRawPointer, batch: Int, n: Int, lu: UnsafeMutableRawPointer,
                         pivots: UnsafeMutableRawPointer) -> [Int32] {
        HostDecomposition.luFactor(typed(a), batch: batch, n: n, lu: typed(lu), pivots: pivots.assumingMemoryBound(to: Int32.self))
    }
    static func luSolve(lu: UnsafeRawPointer, pivots: UnsafeRawPointer, _ b: UnsafeRawPointer, batch: Int, n: Int, k: Int,
                        into x: UnsafeMutableRawPointer) {
        HostDecomposition.luSolve(lu: typed(lu), pivots: pivots.assumingMemoryBound(to: Int32.self), typed(b),
                                  batch: batch, n: n, k: k, into: typed(x))
    }
    static func cholesky(_ a: UnsafeRawPointer, batch: Int, n: Int, into l: UnsafeMutableRawPointer) -> [Int32] {
        HostDecomposition.cholesky(typed(a), batch: batch, n: n, into: typed(l))
    }
    static func triangularSolve(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, batch: Int, n: Int, k: Int, upper: Bool,
                                transposed: Bool, unitDiagonal: Bool, into x: UnsafeMutableRawPointer) -> [Int32] {
        HostDecomposition.triangularSolve(typed(a), typed(b), batch: batch, n: n, k: k, upper: upper, transposed: transposed,
                                          unitDiagonal: unitDiagonal, into: typed(x))
    }
    static func qr(_ a: UnsafeRawPointer, batch: Int, m: Int, n: Int, q: UnsafeMutableRawPointer, r: UnsafeMutableRawPointer) {
        HostDecomposition.qr(typed(a), batch: batch, m: m, n: n, q: typed(q), r: typed(r))
    }
    static func svd(_ a: UnsafeRawPointer, batch: Int, m: Int, n: Int, u: UnsafeMutableRawPointer,
                    s: UnsafeMutableRawPointer, vt: UnsafeMutableRawPointer) -> [Int32] {
        HostDecomposition.svd(typed(a), batch: batch, m: m, n: n, u: typed(u), s: typed(s), vt: typed(vt))
    }
    static func eigh(_ a: UnsafeRawPointer, batch: Int, n: Int, values: UnsafeMutableRawPointer,
                     vectors: UnsafeMutableRawPointer) -> [Int32] {
        HostDecomposition.eigh(typed(a), batch: batch, n: n, values: typed(values), vectors: typed(vectors))
    }
    static func leastSquares(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, batch: Int, m: Int, n: Int, k: Int,
                             rcond: Double, into x: UnsafeMutableRawPointer) -> [Int32] {
        HostDecomposition.leastSquares(typed(a), typed(b), batch: batch, m: m, n: n, k: k, rcond: rcond, into: typed(x))
    }
    @inline(__always) private static func typed(_ p: UnsafeRawPointer) -> UnsafePointer<Self> {
        p.assumingMemoryBound(to: Self.self)
    }
    @inline(__always) private static func typed(_ p: UnsafeMutableRawPointer) -> UnsafeMutablePointer<Self> {
        p.assumingMemoryBound(to: Self.self)
    }
}
