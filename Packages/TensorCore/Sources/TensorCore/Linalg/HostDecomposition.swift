import COpenBLAS
import Dispatch

/// LAPACK over row-major batches in host memory. LAPACK is column-major, so each matrix is
/// transposed into a column-major scratch and its results transposed back: O(n²) moves against
/// the factorisation's O(n³). Every routine returns LAPACK's `info` per batch element.
enum HostDecomposition {
    /// `dst` (row-major `cols x rows`) = `src` (row-major `rows x cols`) transposed, which is
    /// `src` in column-major order.
    static func transpose<T>(_ src: UnsafePointer<T>, rows: Int, cols: Int, into dst: UnsafeMutablePointer<T>) {
        // 32×32 tiles: a plain double loop writes with a stride of `rows` elements and misses
        // the TLB on every element of a large matrix.
        let tile = 32
        for i0 in stride(from: 0, to: rows, by: tile) {
            for j0 in stride(from: 0, to: cols, by: tile) {
                for i in i0..<Swift.min(i0 + tile, rows) {
                    let row = src + i * cols
                    for j in j0..<Swift.min(j0 + tile, cols) { dst[j * rows + i] = row[j] }
                }
            }
        }
    }

    /// Whether all `count` values are finite. LAPACK's scaling routines reject NaN and
    /// infinity with a message on stderr (xerbla), so such matrices skip the call and get NaN.
    static func allFinite<T: LAPACKScalar>(_ p: UnsafePointer<T>, _ count: Int) -> Bool {
        for i in 0..<count where !p[i].isFinite { return false }
        return true
    }

    /// A LAPACK workspace size from a query (lwork = -1 writes the optimum into work[0]).
    private static func workspace<T: LAPACKScalar>(_ query: (UnsafeMutablePointer<T>) -> Void) -> Int32 {
        var best = T(0)
        query(&best)
        return Swift.max(1, Int32(best.tensorDouble.rounded(.up)))
    }

    /// LU with partial pivoting of each matrix's transpose: a row-major matrix read as
    /// column-major is its transpose, so LAPACK factors it in place with no reordering, and
    /// `luSolve` solves with the transposed factors. `lu` holds U's diagonal on its diagonal
    /// and `pivots` (1-based) the interchanges, so `det A = det Aᵀ` is their signed product.
    /// info > 0: that pivot (1-based) is exactly zero.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func luFactor<T: LAPACKScalar>(_ a: UnsafePointer<T>, batch: Int, n: Int,
                                          lu: UnsafeMutablePointer<T>, pivots: UnsafeMutablePointer<Int32>) -> [Int32] {
        guard n > 0 else { return [Int32](repeating: 0, count: batch) }
        var n32 = Int32(n)
        lu.update(from: a, count: batch * n * n)
        let threads = CPUThreads.count
        if n >= blockedThreshold && threads > 1 {
            return (0..<batch).map { b in blockedLU(lu + b * n * n, n: n, pivots: pivots + b * n, threads: threads) }
        }
        return (0..<batch).map { b in
            var info: Int32 = 0
            T.getrf(&n32, &n32, lu + b * n * n, &n32, pivots + b * n, &info)
            return info
        }
    }

    /// From this order, LU runs `blockedLU` on several cores.
    static let blockedThreshold = 192

    /// Right-looking blocked LU of a column-major n × n matrix in place with look-ahead: at
    /// each step the trailing columns are split over `threads` workers running single-threaded
    /// BLAS (row interchanges, triangular solve, GEMM update of their columns), and worker 0,
    /// whose share starts with the next panel and is smaller by `lookAheadShare`, factors that
    /// panel (`getrf`) while the others are still updating. LAPACK's own algorithm (same pivots,
    /// same factors to rounding), parallelised where OpenBLAS's threaded `getrf` spends two
    /// cores spinning (`sched_yield`): at n = 512 on two cores here 2.1 ms against its 3.6 ms
    /// (2.8 ms without the look-ahead, whose panels ran on one core while the other waited).
    static func blockedLU<T: LAPACKScalar>(_ a: UnsafeMutablePointer<T>, n: Int, pivots: UnsafeMutablePointer<Int32>,
                                           threads: Int) -> Int32 {
        openblas_set_num_threads(1)
        defer { openblas_set_num_threads(Int32(CPUThreads.count)) }
        let nb = 96, panels = (n + nb - 1) / nb
        // Each panel's info (its first exactly zero pivot, 1-based over the whole matrix).
        let infos = UnsafeMutablePointer<Int32>.allocate(capacity: panels)
        defer { infos.deallocate() }
        func factorPanel(_ j: Int) {
            var n32 = Int32(n), rows = Int32(n - j), cols = Int32(Swift.min(nb, n - j)), info: Int32 = 0
            T.getrf(&rows, &cols, a + j + j * n, &n32, pivots + j, &info)
            for i in j..<(j + Int(cols)) { pivots[i] += Int32(j) }
            infos[j / nb] = info > 0 ? info + Int32(j) : 0
        }
        factorPanel(0)
        for j in stride(from: nb, to: n, by: nb) {
            // Columns from j on take panel (j − nb)'s interchanges and update; worker 0's
            // share starts with panel j, which it then factors.
            let previous = j - nb, rest = n - j, next = Swift.min(nb, rest)
            let workers = Swift.min(threads, Swift.max(1, rest / 32))
            let spread = rest - next, first = next + Int(Double(spread) * lookAheadShare / Double(workers))
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                let c0 = w == 0 ? 0 : first + (spread - (first - next)) * (w - 1) / (workers - 1)
                let c1 = w == 0 ? (workers == 1 ? rest : first) : first + (spread - (first - next)) * w / (workers - 1)
                guard c1 > c0 else { return }
                var n32 = Int32(n), cols = Int32(c1 - c0), k1 = Int32(previous + 1), k2 = Int32(j), one: Int32 = 1
                let c = a + (j + c0) * n
                T.laswp(&cols, c, &n32, &k1, &k2, pivots, &one)
                T.trsm(CblasColMajor, CblasLeft, CblasLower, CblasNoTrans, CblasUnit, Int32(nb), cols, 1,
                       a + previous + previous * n, n32, c + previous, n32)
                T.gemm(CblasColMajor, CblasNoTrans, CblasNoTrans, Int32(rest), cols, Int32(nb), -1,
                       a + j + previous * n, n32, c + previous, n32, 1, c + j, n32)
                if w == 0 { factorPanel(j) }
            }
        }
        // The interchanges of each later panel, applied to the columns left of it.
        var n32 = Int32(n), one: Int32 = 1
        for j in stride(from: nb, to: n, by: nb) {
            var left = Int32(j), k1 = Int32(j + 1), k2 = Int32(Swift.min(j + nb, n))
            T.laswp(&left, a, &n32, &k1, &k2, pivots, &one)
        }
        return (0..<panels).lazy.map { infos[$0] }.first { $0 != 0 } ?? 0
    }

    /// The fraction of an even share of the trailing update worker 0 takes besides the next
    /// panel, whose factorisation it also runs (0.6 of an even share was fastest at n = 512 on
    /// two cores, over 0.4–1).
    static let lookAheadShare = 0.6

    /// Solves `A X = B` from `luFactor`'s output (the factors of Aᵀ, so `getrs` solves with
    /// their transpose); `b` and `x` are `[batch, n, k]`, reordered only when k > 1.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func luSolve<T: LAPACKScalar>(lu: UnsafePointer<T>, pivots: UnsafePointer<Int32>, _ b: UnsafePointer<T>,
                                         batch: Int, n: Int, k: Int, into x: UnsafeMutablePointer<T>) {
        guard n > 0, k > 0 else { return }
        let rhs = k == 1 ? nil : UnsafeMutablePointer<T>.allocate(capacity: n * k)
        defer { rhs?.deallocate() }
        var n32 = Int32(n), k32 = Int32(k), trans = CChar(UInt8(ascii: "T"))
        for i in 0..<batch {
            let xi = x + i * n * k
            if let rhs { transpose(b + i * n * k, rows: n, cols: k, into: rhs) } else { xi.update(from: b + i * n, count: n) }
            var info: Int32 = 0
            T.getrs(&trans, &n32, &k32, lu + i * n * n, &n32, pivots + i * n, rhs ?? xi, &n32, &info, 1)
            if let rhs { transpose(rhs, rows: k, cols: n, into: xi) }
        }
    }

    /// Lower Cholesky factor from the lower triangle of each matrix (the upper one is not read);
    /// info > 0: the leading minor of that order is not positive definite.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func cholesky<T: LAPACKScalar>(_ a: UnsafePointer<T>, batch: Int, n: Int,
                                          into l: UnsafeMutablePointer<T>) -> [Int32] {
        guard n > 0 else { return [Int32](repeating: 0, count: batch) }
        // Read as column-major the buffer is Aᵀ, whose upper triangle is A's lower one; its
        // factor U (Aᵀ = UᵀU, column-major) read back row-major is L = Uᵀ.
        var n32 = Int32(n), uplo = CChar(UInt8(ascii: "U"))
        l.update(from: a, count: batch * n * n)
        return (0..<batch).map { b in
            var info: Int32 = 0
            let out = l + b * n * n
            T.potrf(&uplo, &n32, out, &n32, &info, 1)
            for i in 0..<n { for j in (i + 1)..<Swift.max(i + 1, n) { out[i * n + j] = 0 } }
            return info
        }
    }

    /// Solves `op(A) X = B` for triangular `A` (`op` the transpose when `transposed`); only
    /// the named triangle is read. info > 0: a zero on the diagonal.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func triangularSolve<T: LAPACKScalar>(_ a: UnsafePointer<T>, _ b: UnsafePointer<T>, batch: Int, n: Int, k: Int,
                                                 upper: Bool, transposed: Bool, unitDiagonal: Bool,
                                                 into x: UnsafeMutablePointer<T>) -> [Int32] {
        guard n > 0, k > 0 else { return [Int32](repeating: 0, count: batch) }
        // The buffer read column-major is Aᵀ: its other triangle, solved with the other `op`.
        let rhs = k == 1 ? nil : UnsafeMutablePointer<T>.allocate(capacity: n * k)
        defer { rhs?.deallocate() }
        var n32 = Int32(n), k32 = Int32(k)
        var uplo = CChar(UInt8(ascii: upper ? "L" : "U")), trans = CChar(UInt8(ascii: transposed ? "N" : "T"))
        var diag = CChar(UInt8(ascii: unitDiagonal ? "U" : "N"))
        return (0..<batch).map { i in
            let xi = x + i * n * k
            if let rhs { transpose(b + i * n * k, rows: n, cols: k, into: rhs) } else { xi.update(from: b + i * n, count: n) }
            var info: Int32 = 0
            T.trtrs(&uplo, &trans, &diag, &n32, &k32, a + i * n * n, &n32, rhs ?? xi, &n32, &info, 1, 1, 1)
            if let rhs { transpose(rhs, rows: k, cols: n, into: xi) }
            return info
        }
    }

    /// Reduced QR: `q [m, kk]` with orthonormal columns and upper-triangular `r [kk, n]`,
    /// kk = min(m, n) (Householder, geqrf + orgqr). Always succeeds.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func qr<T: LAPACKScalar>(_ a: UnsafePointer<T>, batch: Int, m: Int, n: Int,
                                    q: UnsafeMutablePointer<T>, r: UnsafeMutablePointer<T>) {
        let kk = Swift.min(m, n)
        guard kk > 0 else { return }
        let col = UnsafeMutablePointer<T>.allocate(capacity: m * n)
        let tau = UnsafeMutablePointer<T>.allocate(capacity: kk)
        defer { col.deallocate(); tau.deallocate() }
        var m32 = Int32(m), n32 = Int32(n), k32 = Int32(kk), query: Int32 = -1, info: Int32 = 0
        let lwork = Swift.max(
            workspace { (w: UnsafeMutablePointer<T>) in T.geqrf(&m32, &n32, col, &m32, tau, w, &query, &info) },
            workspace { (w: UnsafeMutablePointer<T>) in T.orgqr(&m32, &k32, &k32, col, &m32, tau, w, &query, &info) })
        var lw = lwork
        let work = UnsafeMutablePointer<T>.allocate(capacity: Int(lwork))
        defer { work.deallocate() }
        for b in 0..<batch {
            transpose(a + b * m * n, rows: m, cols: n, into: col)
            T.geqrf(&m32, &n32, col, &m32, tau, work, &lw, &info)
            let rb = r + b * kk * n
            for i in 0..<kk { for j in 0..<n { rb[i * n + j] = j >= i ? col[i + j * m] : 0 } }
            T.orgqr(&m32, &k32, &k32, col, &m32, tau, work, &lw, &info)
            let qb = q + b * m * kk
            for i in 0..<m { for j in 0..<kk { qb[i * kk + j] = col[i + j * m] } }
        }
    }

    /// Reduced SVD `A = U diag(s) Vᵀ` (divide and conquer, gesdd): `u [m, kk]`, `s [kk]`
    /// descending, `vt [kk, n]`. info > 0: no convergence (that element is left NaN).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func svd<T: LAPACKScalar>(_ a: UnsafePointer<T>, batch: Int, m: Int, n: Int,
                                     u: UnsafeMutablePointer<T>, s: UnsafeMutablePointer<T>,
                                     vt: UnsafeMutablePointer<T>) -> [Int32] {
        let kk = Swift.min(m, n)
        guard kk > 0 else { return [Int32](repeating: 0, count: batch) }
        // Read as column-major the buffer is Aᵀ (n × m) = V S Uᵀ: LAPACK's left factor (V,
        // column-major n × k) is our Vᵀ row-major, its right factor (Uᵀ, k × m) our U: the
        // factors land in place with no reordering.
        let col = UnsafeMutablePointer<T>.allocate(capacity: m * n)
        let iwork = UnsafeMutablePointer<Int32>.allocate(capacity: 8 * kk)
        defer { col.deallocate(); iwork.deallocate() }
        var rows = Int32(n), cols = Int32(m), k32 = Int32(kk), query: Int32 = -1, info: Int32 = 0
        var jobz = CChar(UInt8(ascii: "S"))
        var lw = workspace { (w: UnsafeMutablePointer<T>) in
            T.gesdd(&jobz, &rows, &cols, col, &rows, s, vt, &rows, u, &k32, w, &query, iwork, &info, 1)
        }
        let work = UnsafeMutablePointer<T>.allocate(capacity: Int(lw))
        defer { work.deallocate() }
        return (0..<batch).map { b in
            col.update(from: a + b * m * n, count: m * n)
            var info: Int32 = allFinite(col, m * n) ? 0 : -1
            let ub = u + b * m * kk, vb = vt + b * kk * n
            if info == 0 { T.gesdd(&jobz, &rows, &cols, col, &rows, s + b * kk, vb, &rows, ub, &k32, work, &lw, iwork, &info, 1) }
            if info != 0 {
                ub.update(repeating: .nan, count: m * kk)
                (s + b * kk).update(repeating: .nan, count: kk)
                vb.update(repeating: .nan, count: kk * n)
            }
            return info
        }
    }

    /// Eigenvalues (ascending) and orthonormal eigenvectors (columns) of symmetric matrices
    /// from their lower triangle (syevd). info > 0: no convergence (left NaN).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func eigh<T: LAPACKScalar>(_ a: UnsafePointer<T>, batch: Int, n: Int,
                                      values: UnsafeMutablePointer<T>, vectors: UnsafeMutablePointer<T>) -> [Int32] {
        guard n > 0 else { return [Int32](repeating: 0, count: batch) }
        let col = UnsafeMutablePointer<T>.allocate(capacity: n * n)
        defer { col.deallocate() }
        var n32 = Int32(n), query: Int32 = -1, info: Int32 = 0, iquery: Int32 = 0
        // Read as column-major the buffer is Aᵀ, whose upper triangle is A's lower one.
        var jobz = CChar(UInt8(ascii: "V")), uplo = CChar(UInt8(ascii: "U"))
        var lw = workspace { (w: UnsafeMutablePointer<T>) in
            T.syevd(&jobz, &uplo, &n32, col, &n32, values, w, &query, &iquery, &query, &info, 1, 1)
        }
        var liw = Swift.max(1, iquery)
        let work = UnsafeMutablePointer<T>.allocate(capacity: Int(lw))
        let iwork = UnsafeMutablePointer<Int32>.allocate(capacity: Int(liw))
        defer { work.deallocate(); iwork.deallocate() }
        return (0..<batch).map { b in
            col.update(from: a + b * n * n, count: n * n)
            // Only the lower triangle is read: a NaN above the diagonal does not count.
            var finite = true
            for i in 0..<n { for j in 0...i where !col[j + i * n].isFinite { finite = false } }
            var info: Int32 = finite ? 0 : -1
            if finite { T.syevd(&jobz, &uplo, &n32, col, &n32, values + b * n, work, &lw, iwork, &liw, &info, 1, 1) }
            let vb = vectors + b * n * n
            if info != 0 {
                vb.update(repeating: .nan, count: n * n)
                (values + b * n).update(repeating: .nan, count: n)
                return info
            }
            transpose(col, rows: n, cols: n, into: vb)
            return info
        }
    }

    /// Minimum-norm least squares `min ‖A X − B‖` with singular values below `rcond · s_max`
    /// treated as zero (gelsd): `a [m, n]`, `b [m, k]`, `x [n, k]`. info > 0: no convergence.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func leastSquares<T: LAPACKScalar>(_ a: UnsafePointer<T>, _ b: UnsafePointer<T>, batch: Int,
                                              m: Int, n: Int, k: Int, rcond: Double,
                                              into x: UnsafeMutablePointer<T>) -> [Int32] {
        guard m > 0, n > 0, k > 0 else {
            x.update(repeating: 0, count: batch * n * k)
            return [Int32](repeating: 0, count: batch)
        }
        let ldb = Swift.max(m, n), kk = Swift.min(m, n)
        let col = UnsafeMutablePointer<T>.allocate(capacity: m * n)
        let rhs = UnsafeMutablePointer<T>.allocate(capacity: ldb * k)
        let s = UnsafeMutablePointer<T>.allocate(capacity: kk)
        defer { col.deallocate(); rhs.deallocate(); s.deallocate() }
        var m32 = Int32(m), n32 = Int32(n), k32 = Int32(k), ldb32 = Int32(ldb), query: Int32 = -1
        var rank: Int32 = 0, info: Int32 = 0, iquery: Int32 = 0, rc = T(rcond)
        var lw = workspace { (w: UnsafeMutablePointer<T>) in
            T.gelsd(&m32, &n32, &k32, col, &m32, rhs, &ldb32, s, &rc, &rank, w, &query, &iquery, &info)
        }
        let work = UnsafeMutablePointer<T>.allocate(capacity: Int(lw))
        let iwork = UnsafeMutablePointer<Int32>.allocate(capacity: Int(Swift.max(1, iquery)))
        defer { work.deallocate(); iwork.deallocate() }
        return (0..<batch).map { i in
            transpose(a + i * m * n, rows: m, cols: n, into: col)
            let bi = b + i * m * k
            rhs.update(repeating: 0, count: ldb * k)
            for r in 0..<m { for c in 0..<k { rhs[r + c * ldb] = bi[r * k + c] } }
            var info: Int32 = allFinite(col, m * n) && allFinite(bi, m * k) ? 0 : -1
            if info == 0 { T.gelsd(&m32, &n32, &k32, col, &m32, rhs, &ldb32, s, &rc, &rank, work, &lw, iwork, &info) }
            let xi = x + i * n * k
            for r in 0..<n { for c in 0..<k { xi[r * k + c] = info == 0 ? rhs[r + c * ldb] : .nan } }
            return info
        }
    }
}
