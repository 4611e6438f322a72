extension Linalg {
    /// The reduced singular value decomposition `a = u diag(s) vt` (`torch.linalg.svd` with
    /// `full_matrices=False`; LAPACK's divide and conquer).
    ///
    /// Shapes: `a [..., m, n]` -> `u [..., m, k]`, `s [..., k]` descending, `vt [..., k, n]`,
    /// k = min(m, n). Singular vectors are unique up to a sign per pair, so only functions
    /// invariant to it (as `u vt`, `s`, `u ∘ u`) have well-defined gradients; the gradient
    /// through `u` or `vt` also needs distinct singular values (it divides by `s_j² − s_i²`, and
    /// is infinite or NaN for repeated ones, as in PyTorch). `singularValues` differentiates
    /// `s` alone without that condition.
    public static func svd(_ a: Tensor) -> (u: Tensor, s: Tensor, vt: Tensor) {
        checkMatrix(a, "Linalg.svd")
        let (u, s, vt) = svdKernel(a)
        let parts = recordedParts("Linalg.svd", [u, s, vt], input: a) { g in
            svdBackward(gu: g[0], gs: g[1], gvt: g[2], u: u, s: s, vt: vt)
        }
        return (parts[0], parts[1], parts[2])
    }

    /// The singular values, descending (`torch.linalg.svdvals`): `[..., m, n] -> [..., k]`.
    /// Its gradient `u diag(g) vt` holds for repeated values too.
    public static func singularValues(_ a: Tensor) -> Tensor {
        checkMatrix(a, "Linalg.singularValues")
        let (u, s, vt) = svdKernel(a)
        return s.recorded("Linalg.singularValues", a) { g, _ in [(u * g.unsqueezed(axis: -2)).matmul(vt)] }
    }

    /// The eigenvalues (ascending) and orthonormal eigenvectors (the columns of `vectors`) of
    /// symmetric matrices, read from their lower triangle (`torch.linalg.eigh`).
    ///
    /// Shapes: `a [..., n, n]` -> `values [..., n]`, `vectors [..., n, n]`. As with `svd`,
    /// eigenvectors are unique up to sign and their gradient needs distinct eigenvalues;
    /// `eigenvalues` differentiates the values alone. The gradient is symmetric (PyTorch's),
    /// so a check perturbs symmetric inputs, e.g. `eigh(x + xᵀ)`.
    public static func eigh(_ a: Tensor) -> (values: Tensor, vectors: Tensor) {
        checkMatrix(a, "Linalg.eigh", square: true)
        let (values, vectors) = eighKernel(a)
        let parts = recordedParts("Linalg.eigh", [values, vectors], input: a) { g in
            eighBackward(gValues: g[0], gVectors: g[1], values: values, vectors: vectors)
        }
        return (parts[0], parts[1])
    }

    /// The eigenvalues of symmetric matrices, ascending (`torch.linalg.eigvalsh`):
    /// `[..., n, n] -> [..., n]`, with gradient `V diag(g) Vᵀ`.
    public static func eigenvalues(symmetric a: Tensor) -> Tensor {
        checkMatrix(a, "Linalg.eigenvalues", square: true)
        let (values, vectors) = eighKernel(a)
        return values.recorded("Linalg.eigenvalues", a) { g, _ in
            [(vectors * g.unsqueezed(axis: -2)).matmul(vectors.transposed())]
        }
    }

    /// The reduced QR decomposition `a = q r` (Householder; `torch.linalg.qr`, mode "reduced"):
    /// `a [..., m, n]` -> `q [..., m, k]` with orthonormal columns and upper-triangular
    /// `r [..., k, n]`, k = min(m, n). The gradient needs `r`'s leading k×k block to be
    /// invertible (`a` of full rank), as PyTorch's.
    public static func qr(_ a: Tensor) -> (q: Tensor, r: Tensor) {
        checkMatrix(a, "Linalg.qr")
        let batch = Array(a.shape.dropLast(2)), m = a.shape[a.rank - 2], n = a.shape[a.rank - 1], k = Swift.min(m, n)
        let q = Tensor(uninitializedShape: batch + [m, k], dtype: a.dtype, backend: a.backend)
        let r = Tensor(uninitializedShape: batch + [k, n], dtype: a.dtype, backend: a.backend)
        a.backend.qr(kernelInput(a, batch: batch).operand, q: q.operand, r: r.operand)
        let parts = recordedParts("Linalg.qr", [q, r], input: a) { g in
            qrBackward(gq: g[0], gr: g[1], q: q, r: r, a: a.detached())
        }
        return (parts[0], parts[1])
    }

    /// The Moore–Penrose pseudo-inverse from the SVD (`torch.linalg.pinv`): singular values at
    /// or below `rtol · s_max` count as zero; by default `rtol = eps · max(m, n)`.
    /// Shape `[..., m, n] -> [..., n, m]`. The gradient holds where the rank is locally constant.
    public static func pinv(_ a: Tensor, rtol: Double? = nil) -> Tensor {
        checkMatrix(a, "Linalg.pinv")
        let p = pinvValue(a, rtol: rtol)
        return p.recorded("Linalg.pinv", a) { g, _ in [pinvBackward(a.detached(), p, g)] }
    }

    /// The minimum-norm least-squares solution of `a x ≈ b` (LAPACK gelsd, as
    /// `torch.linalg.lstsq` with the "gelsd" driver): singular values below `rcond · s_max`
    /// count as zero (default `eps · max(m, n)`), so rank-deficient and wide systems get the
    /// solution of least norm.
    ///
    /// Shapes: `a [..., m, n]`; `b [..., m, k]` or `b [..., m]` -> `x [..., n, k]` or `[..., n]`.
    public static func lstsq(_ a: Tensor, _ b: Tensor, rcond: Double? = nil) -> Tensor {
        checkMatrix(a, "Linalg.lstsq")
        let vector = isVectorRHS(a, b)
        let b2 = vector ? b.unsqueezed(axis: -1) : b
        checkPair(a, b2, "Linalg.lstsq")
        let batch = batchShape(a, b2, "Linalg.lstsq")
        let m = a.shape[a.rank - 2], n = a.shape[a.rank - 1], k = b2.shape[b2.rank - 1]
        let x = Tensor(uninitializedShape: batch + [n, k], dtype: a.dtype, backend: a.backend)
        _ = a.backend.leastSquares(kernelInput(a, batch: batch).operand, kernelInput(b2, batch: batch).operand,
                                   rcond: rcond ?? defaultTolerance(a), into: x.operand)
        let out = x.recorded("Linalg.lstsq", a, b2) { g, _ in
            // x = A⁺ B: gB = A⁺ᵀ g, and A's through the pseudo-inverse's with gP = g Bᵀ.
            let p = pinvValue(a.detached(), rtol: rcond)
            return [a.requiresGrad ? pinvBackward(a.detached(), p, g.matmul(b2.detached().transposed())).sumToShape(a.shape) : nil,
                    b2.requiresGrad ? p.transposed().matmul(g).sumToShape(b2.shape) : nil]
        }
        return vector ? out.squeezed(axis: -1) : out
    }

    // MARK: kernels and backward rules

    /// eps · max(m, n) of `a`'s dtype: NumPy's and PyTorch's default rank tolerance.
    static func defaultTolerance(_ a: Tensor) -> Double {
        let eps = a.dtype == .float64 ? Double.ulpOfOne : Double(Float.ulpOfOne)
        return eps * Double(Swift.max(a.shape[a.rank - 2], a.shape[a.rank - 1]))
    }

    static func svdKernel(_ a: Tensor) -> (u: Tensor, s: Tensor, vt: Tensor) {
        let batch = Array(a.shape.dropLast(2)), m = a.shape[a.rank - 2], n = a.shape[a.rank - 1], k = Swift.min(m, n)
        let u = Tensor(uninitializedShape: batch + [m, k], dtype: a.dtype, backend: a.backend)
        let s = Tensor(uninitializedShape: batch + [k], dtype: a.dtype, backend: a.backend)
        let vt = Tensor(uninitializedShape: batch + [k, n], dtype: a.dtype, backend: a.backend)
        _ = a.backend.svd(kernelInput(a, batch: batch).operand, u: u.operand, s: s.operand, vt: vt.operand)
        return (u, s, vt)
    }

    static func eighKernel(_ a: Tensor) -> (values: Tensor, vectors: Tensor) {
        let batch = Array(a.shape.dropLast(2)), n = a.shape[a.rank - 1]
        let values = Tensor(uninitializedShape: batch + [n], dtype: a.dtype, backend: a.backend)
        let vectors = Tensor(uninitializedShape: batch + [n, n], dtype: a.dtype, backend: a.backend)
        _ = a.backend.eigh(kernelInput(a, batch: batch).operand, values: values.operand, vectors: vectors.operand)
        return (values, vectors)
    }

    /// `1 / (x_j − x_i)` off the diagonal, 0 on it: the spectral backward rules' divided
    /// differences (`[..., k] -> [..., k, k]`).
    static func inverseGaps(_ x: Tensor) -> Tensor {
        let k = x.shape[x.rank - 1]
        return Tensor.where(Tensor.triangleMask(k, k, device: x.device) { i, j in i == j },
                            Tensor.zeros([], dtype: x.dtype, device: x.device),
                            1.0 / (x.unsqueezed(axis: -2) - x.unsqueezed(axis: -1)))
    }

    /// Townsend (2016): gA = U[F∘(UᵀgU − gUᵀU) S + diag(gS) + S F∘(VᵀgV − gVᵀV)]Vᵀ
    /// + (I − UUᵀ) gU S⁻¹ Vᵀ + U S⁻¹ gVᵀ (I − VVᵀ), F_ij = 1 / (s_j² − s_i²). The terms of an
    /// unused `u` and `vt` are skipped, so `s` alone differentiates with repeated values.
    static func svdBackward(gu: Tensor, gs: Tensor, gvt: Tensor, u: Tensor, s: Tensor, vt: Tensor) -> Tensor {
        let v = vt.transposed(), gv = gvt.transposed()
        let m = u.shape[u.rank - 2], n = v.shape[v.rank - 2], k = s.shape[s.rank - 1]
        let useU = !isZero(gu), useV = !isZero(gv)
        var inner = gs.diagonalEmbedded()
        if useU || useV {
            let f = inverseGaps(s * s)
            let sRow = s.unsqueezed(axis: -2), sColumn = s.unsqueezed(axis: -1)
            if useU {
                let utgu = u.transposed().matmul(gu)
                inner = inner + (f * (utgu - utgu.transposed())) * sRow
            }
            if useV {
                let vtgv = vt.matmul(gv)
                inner = inner + sColumn * (f * (vtgv - vtgv.transposed()))
            }
        }
        var ga = u.matmul(inner).matmul(vt)
        let sInverse = 1.0 / s
        if useU && m > k {
            ga = ga + ((gu - u.matmul(u.transposed().matmul(gu))) * sInverse.unsqueezed(axis: -2)).matmul(vt)
        }
        if useV && n > k {
            let gvT = gv.transposed()
            ga = ga + u.matmul(sInverse.unsqueezed(axis: -1) * (gvT - gvT.matmul(v).matmul(vt)))
        }
        return ga
    }

    /// PyTorch's: gA = V (diag(gΛ) + ½(VᵀgV − gVᵀV) / E) Vᵀ with E_ij = λ_j − λ_i, symmetric.
    static func eighBackward(gValues: Tensor, gVectors: Tensor, values: Tensor, vectors: Tensor) -> Tensor {
        var inner = gValues.diagonalEmbedded()
        if !isZero(gVectors) {
            let vtgv = vectors.transposed().matmul(gVectors)
            inner = inner + inverseGaps(values) * (0.5 * (vtgv - vtgv.transposed()))
        }
        return vectors.matmul(inner).matmul(vectors.transposed())
    }

    /// TensorFlow's QR gradient (Walter & Lehmann; Liao et al.): for m ≥ n,
    /// gA = Q(gR + tril(QᵀgQ − gQᵀQ + R gRᵀ − gR Rᵀ) R⁻ᵀ) + (gQ − Q QᵀgQ) R⁻ᵀ; for m < n, with
    /// A = [X | Y] and R = [U | V], X's from the square case with gQ + Y gVᵀ, and gY = Q gV.
    static func qrBackward(gq: Tensor, gr: Tensor, q: Tensor, r: Tensor, a: Tensor) -> Tensor {
        let m = q.shape[q.rank - 2], n = r.shape[r.rank - 1]
        func square(_ gq: Tensor, _ gr: Tensor, _ r: Tensor) -> Tensor {
            let qdq = q.transposed().matmul(gq), rdr = r.matmul(gr.transposed())
            let tril = (qdq - qdq.transposed() + rdr - rdr.transposed()).lowerTriangle()
            // X R⁻ᵀ = (R⁻¹ Xᵀ)ᵀ: one upper-triangular solve.
            func timesRInverseT(_ x: Tensor) -> Tensor { triangularSolved(r, x.transposed(), upper: true).x.transposed() }
            return q.matmul(gr + timesRInverseT(tril)) + timesRInverseT(gq - q.matmul(qdq))
        }
        if m >= n { return square(gq, gr, r) }
        let y = a.narrowed(axis: -1, start: m, length: n - m)
        let u = r.narrowed(axis: -1, start: 0, length: m), gu = gr.narrowed(axis: -1, start: 0, length: m)
        let gv = gr.narrowed(axis: -1, start: m, length: n - m)
        let gx = square(gq + y.matmul(gv.transposed()), gu, u)
        return Tensor.concatenated([gx, q.matmul(gv)], axis: -1)
    }

    /// `V diag(s⁺) Uᵀ`, not recorded, `s⁺` the reciprocals of the values above the cutoff.
    static func pinvValue(_ a: Tensor, rtol: Double?) -> Tensor {
        withoutGradients {
            let (u, s, vt) = svdKernel(a)
            guard s.elementCount > 0 else {
                return Tensor.zeros(Array(a.shape.dropLast(2)) + [a.shape[a.rank - 1], a.shape[a.rank - 2]],
                                    dtype: a.dtype, device: a.device)
            }
            let cutoff = s.max(axes: [-1], keepDims: true) * (rtol ?? defaultTolerance(a))
            let sInverse = Tensor.where(s .> cutoff, 1.0 / s, Tensor.zeros([], dtype: a.dtype, device: a.device))
            return (vt.transposed() * sInverse.unsqueezed(axis: -2)).matmul(u.transposed())
        }
    }

    /// Golub & Pereyra's derivative of the pseudo-inverse P = A⁺ (constant rank), adjoint:
    /// gA = −Pᵀ G Pᵀ + (I − A P) Gᵀ P Pᵀ + Pᵀ P Gᵀ (I − P A).
    static func pinvBackward(_ a: Tensor, _ p: Tensor, _ g: Tensor) -> Tensor {
        let pt = p.transposed(), gt = g.transposed()
        return -pt.matmul(g).matmul(pt)
            + (gt - a.matmul(p).matmul(gt)).matmul(p).matmul(pt)
            + pt.matmul(p).matmul(gt - gt.matmul(p).matmul(a))
    }
}
