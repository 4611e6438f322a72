extension Linalg {
    /// The solution of `a x = b` (LU with partial pivoting, `torch.linalg.solve`).
    ///
    /// Shapes: `a [..., n, n]`; `b [..., n, k]`, or `b [..., n]` (a vector per matrix: 1-D, or
    /// `a`'s shape without the last axis); batch axes broadcast.
    /// - Throws: `LinalgError` (`.singular`) naming the first singular matrix of the batch.
    public static func solve(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        checkMatrix(a, "Linalg.solve", square: true)
        let vector = isVectorRHS(a, b)
        let b2 = vector ? b.unsqueezed(axis: -1) : b
        checkPair(a, b2, "Linalg.solve")
        let (x, infos, batch) = solved(a, b2)
        try throwing(infos, "Linalg.solve", batchShape: batch) { .singular(pivot: $0 - 1) }
        return vector ? x.squeezed(axis: -1) : x
    }

    /// `a⁻¹` (`solve(a, I)`): its gradient comes through `solve`'s.
    /// - Throws: `LinalgError` (`.singular`) naming the first singular matrix of the batch.
    public static func inverse(_ a: Tensor) throws -> Tensor {
        checkMatrix(a, "Linalg.inverse", square: true)
        let n = a.shape[a.rank - 1]
        let (x, infos, batch) = solved(a, identity(n, like: a).expanded(to: a.shape))
        try throwing(infos, "Linalg.inverse", batchShape: batch) { .singular(pivot: $0 - 1) }
        return x
    }

    /// `solve` without the error check, for backward passes (whose matrices the forward pass
    /// already found regular): `a [..., n, n]`, `b [..., n, k]`, recording gradients.
    static func solved(_ a: Tensor, _ b: Tensor) -> (x: Tensor, infos: [Int32], batch: [Int]) {
        let batch = batchShape(a, b, "Linalg.solve")
        let n = a.shape[a.rank - 1], k = b.shape[b.rank - 1]
        let (lu, pivots, infos) = luFactored(kernelInput(a, batch: batch))
        let rhs = kernelInput(b, batch: batch)
        let x = Tensor(uninitializedShape: batch + [n, k], dtype: a.dtype, backend: a.backend)
        a.backend.luSolve(lu: lu.operand, pivots: pivots.operand, rhs.operand, into: x.operand)
        let out = x.recorded("Linalg.solve", a, b, saveOutput: true) { g, x in
            // x = A⁻¹B: gB = A⁻ᵀ g, gA = −gB xᵀ.
            let gb = solved(a.transposed(), g).x
            return [a.requiresGrad ? (-gb.matmul(x.transposed())).sumToShape(a.shape) : nil,
                    b.requiresGrad ? gb.sumToShape(b.shape) : nil]
        }
        return (out, infos, batch)
    }

    /// LU of a contiguous `[..., n, n]` kernel input: (lu, int32 pivots, info per matrix).
    static func luFactored(_ a: Tensor) -> (lu: Tensor, pivots: Tensor, infos: [Int32]) {
        let lu = Tensor(uninitializedShape: a.shape, dtype: a.dtype, backend: a.backend)
        let pivots = Tensor(uninitializedShape: Array(a.shape.dropLast()), dtype: .int32, backend: a.backend)
        let infos = a.backend.luFactor(a.operand, lu: lu.operand, pivots: pivots.operand)
        return (lu, pivots, infos)
    }

    /// The solution of `a x = b` for triangular `a` (`torch.linalg.solve_triangular`); only
    /// the triangle named by `upper` is read, and its diagonal taken as ones when
    /// `unitDiagonal`. With `left: false` solves `x a = b` instead.
    ///
    /// Shapes: `a [..., n, n]`, `b [..., n, k]` (`[..., k, n]` when `left` is false).
    /// - Throws: `LinalgError` (`.zeroDiagonal`) naming the first singular matrix.
    public static func solveTriangular(_ a: Tensor, _ b: Tensor, upper: Bool, left: Bool = true,
                                       unitDiagonal: Bool = false) throws -> Tensor {
        checkMatrix(a, "Linalg.solveTriangular", square: true)
        checkMatrix(b, "Linalg.solveTriangular")
        // x a = b  ⇔  aᵀ xᵀ = bᵀ, with the triangle flipped.
        let (x, infos, batch) = left
            ? triangularSolved(a, b, upper: upper, unitDiagonal: unitDiagonal)
            : triangularSolved(a.transposed(), b.transposed(), upper: !upper, unitDiagonal: unitDiagonal)
        try throwing(infos, "Linalg.solveTriangular", batchShape: batch) { .zeroDiagonal(row: $0 - 1) }
        return left ? x : x.transposed()
    }

    /// The left triangular solve without the error check, recording gradients.
    static func triangularSolved(_ a: Tensor, _ b: Tensor, upper: Bool,
                                 unitDiagonal: Bool = false) -> (x: Tensor, infos: [Int32], batch: [Int]) {
        checkPair(a, b, "Linalg.solveTriangular")
        let batch = batchShape(a, b, "Linalg.solveTriangular")
        let n = a.shape[a.rank - 1], k = b.shape[b.rank - 1]
        let x = Tensor(uninitializedShape: batch + [n, k], dtype: a.dtype, backend: a.backend)
        let infos = a.backend.triangularSolve(kernelInput(a, batch: batch).operand, kernelInput(b, batch: batch).operand,
                                              upper: upper, transposed: false, unitDiagonal: unitDiagonal, into: x.operand)
        let out = x.recorded("Linalg.solveTriangular", a, b, saveOutput: true) { g, x in
            // As solve's, with gA kept to the triangle the forward pass read.
            let gb = triangularSolved(a.transposed(), g, upper: !upper, unitDiagonal: unitDiagonal).x
            var ga: Tensor?
            if a.requiresGrad {
                let full = -gb.matmul(x.transposed())
                let offset = unitDiagonal ? 1 : 0
                ga = (upper ? full.upperTriangle(offset) : full.lowerTriangle(-offset)).sumToShape(a.shape)
            }
            return [ga, b.requiresGrad ? gb.sumToShape(b.shape) : nil]
        }
        return (out, infos, batch)
    }

    /// The lower Cholesky factor `L` of symmetric positive-definite `a = L Lᵀ`
    /// (`torch.linalg.cholesky`), from `a`'s lower triangle. Shape `[..., n, n]`.
    /// - Throws: `LinalgError` (`.notPositiveDefinite`) naming the first failing matrix.
    public static func cholesky(_ a: Tensor) throws -> Tensor {
        checkMatrix(a, "Linalg.cholesky", square: true)
        let input = kernelInput(a, batch: Array(a.shape.dropLast(2)))
        let l = Tensor(uninitializedShape: a.shape, dtype: a.dtype, backend: a.backend)
        let infos = a.backend.cholesky(input.operand, into: l.operand)
        try throwing(infos, "Linalg.cholesky", batchShape: Array(a.shape.dropLast(2))) { .notPositiveDefinite(order: $0) }
        return l.recorded("Linalg.cholesky", a, saveOutput: true) { g, l in
            // Murray (2016), as PyTorch: gA = L⁻ᵀ Φ L⁻¹ with Φ = ½(tril(Lᵀg) + tril(Lᵀg, −1)ᵀ),
            // symmetric since A's two triangles are one variable.
            let m = l.transposed().matmul(g).lowerTriangle()
            let phi = 0.5 * (m + m.lowerTriangle(-1).transposed())
            let left = triangularSolved(l.transposed(), phi, upper: true).x           // L⁻ᵀ Φ
            let ga = triangularSolved(l.transposed(), left.transposed(), upper: true).x.transposed()  // (L⁻ᵀ Φ) L⁻¹
            return [ga]
        }
    }

    /// The determinant of each matrix, from its LU factorisation. Shape `[..., n, n] -> [...]`.
    /// Its gradient `det(A) A⁻ᵀ` is taken through the SVD where a matrix is singular.
    public static func determinant(_ a: Tensor) -> Tensor {
        checkMatrix(a, "Linalg.determinant", square: true)
        let (parity, u) = luDiagonal(a)
        let det = withoutGradients { parity * u.product(axes: [-1]) }
        return det.recorded("Linalg.determinant", a, saveOutput: true) { g, det in
            let g2 = g.unsqueezed(axis: -1).unsqueezed(axis: -1)
            if withoutGradients({ (det .== 0).any().item(as: Bool.self) }) {
                return [(g2 * cofactor(a.detached())).sumToShape(a.shape)]
            }
            return [(g2 * det.unsqueezed(axis: -1).unsqueezed(axis: -1) * inverseTransposed(a)).sumToShape(a.shape)]
        }
    }

    /// The sign (±1, or 0 for a singular matrix) and the log of the absolute value of the
    /// determinant, which stays finite where the determinant under- or overflows
    /// (`torch.linalg.slogdet`). Shapes `[..., n, n] -> [...]`; `logAbs` is differentiable
    /// (`A⁻ᵀ`), `sign` piecewise constant.
    public static func slogdet(_ a: Tensor) -> (sign: Tensor, logAbs: Tensor) {
        checkMatrix(a, "Linalg.slogdet", square: true)
        let (parity, u) = luDiagonal(a)
        let (sign, logAbs) = withoutGradients { (parity * u.sign().product(axes: [-1]), u.abs().log().sum(axes: [-1])) }
        let out = logAbs.recorded("Linalg.slogdet", a) { g, _ in
            [(g.unsqueezed(axis: -1).unsqueezed(axis: -1) * inverseTransposed(a)).sumToShape(a.shape)]
        }
        return (sign, out)
    }

    /// `A⁻ᵀ` for gradients (recorded, unchecked).
    static func inverseTransposed(_ a: Tensor) -> Tensor {
        solved(a, identity(a.shape[a.rank - 1], like: a).expanded(to: a.shape)).x.transposed()
    }

    /// The parity of LU's row interchanges (±1) and U's diagonal, not recorded: the
    /// determinant is their product.
    static func luDiagonal(_ a: Tensor) -> (parity: Tensor, diagonal: Tensor) {
        withoutGradients {
            let batch = Array(a.shape.dropLast(2)), n = a.shape[a.rank - 1]
            let (lu, pivots, _) = luFactored(kernelInput(a, batch: batch))
            let p = pivots.scalars(as: Int32.self)
            let flips = (0..<batch.reduce(1, *)).map { b -> Double in
                var odd = false
                for i in 0..<n where p[b * n + i] != Int32(i + 1) { odd.toggle() }
                return odd ? -1 : 1
            }
            return (Tensor(flips, shape: batch, device: a.device).cast(to: a.dtype), lu.diagonal())
        }
    }

    /// The cofactor matrix `det(A) A⁻ᵀ`, defined for singular `A` too: with `A = U S Vᵀ`, it is
    /// `det(U) det(V) U diag(∏_{j≠i} s_j) Vᵀ`.
    static func cofactor(_ a: Tensor) -> Tensor {
        let (u, s, vt) = svd(a)
        let k = s.shape[s.rank - 1]
        let others = Tensor.where(Tensor.triangleMask(k, k, device: a.device) { i, j in i == j },
                                  Tensor.ones([], dtype: a.dtype, device: a.device),
                                  s.unsqueezed(axis: -2).expanded(to: s.shape + [k])).product(axes: [-1])
        let sign = (determinant(u.detached()) * determinant(vt.detached())).unsqueezed(axis: -1).unsqueezed(axis: -1)
        return sign * (u * others.unsqueezed(axis: -2)).matmul(vt)
    }
}
