import Testing
import TensorCore
import TensorCoreTesting

/// Every `Linalg` function's gradient against central differences in float64, on batched,
/// broadcast and non-square inputs where the function takes them.
@Suite("Linalg gradients match central differences")
struct LinalgGradientTests {
    /// Well-conditioned square matrices (diagonally shifted).
    static func regular(_ shape: [Int], seed: UInt64) -> Tensor {
        sample(shape, seed: seed) + 3 * Tensor.eye(shape[shape.count - 1], dtype: .float64)
    }

    @Test func solveAndInverse() {
        let a = Self.regular([2, 3, 3], seed: 1), b = sample([3, 2], seed: 2)
        GradientCheck.check([a, b], "solve, broadcast b") { try! Linalg.solve($0[0], $0[1]) }
        GradientCheck.check([a, sample([2, 3], seed: 3)], "solve, vector b") { try! Linalg.solve($0[0], $0[1]) }
        GradientCheck.check([a], "inverse") { try! Linalg.inverse($0[0]) }
    }

    @Test func triangularSolve() {
        let a = Self.regular([2, 3, 3], seed: 4), b = sample([2, 3, 2], seed: 5)
        for upper in [true, false] {
            for unit in [false, true] {
                GradientCheck.check([a, b], "upper \(upper) unit \(unit)") {
                    try! Linalg.solveTriangular($0[0], $0[1], upper: upper, unitDiagonal: unit)
                }
            }
        }
        GradientCheck.check([a, sample([2, 2, 3], seed: 6)], "right side") {
            try! Linalg.solveTriangular($0[0], $0[1], upper: false, left: false)
        }
    }

    @Test func cholesky() {
        // Through x xᵀ + 3I, so perturbations stay symmetric positive definite.
        let x = sample([2, 3, 3], seed: 7)
        GradientCheck.check([x]) { x in
            try! Linalg.cholesky(x[0].matmul(x[0].transposed()) + 3 * Tensor.eye(3, dtype: .float64))
        }
    }

    @Test func determinants() {
        let a = sample([3, 3, 3], seed: 8)
        GradientCheck.check([a], "determinant") { Linalg.determinant($0[0]) }
        GradientCheck.check([a], "slogdet") { Linalg.slogdet($0[0]).logAbs }
        // A singular matrix: the gradient is the cofactor matrix, through the SVD.
        let singular = Tensor([1, 2, 3, 2, 4, 6, 1, 0, 1] as [Double], shape: [3, 3])
        GradientCheck.check([singular], "singular determinant") { Linalg.determinant($0[0]) }
    }

    @Test(arguments: [[4, 3], [3, 5], [2, 3, 3]])
    func qr(_ shape: [Int]) {
        let a = sample(shape, seed: 9)
        GradientCheck.check([a], "qr \(shape)") { x in
            let (q, r) = Linalg.qr(x[0])
            return Tensor.concatenated([q.reshaped(to: [-1]), r.reshaped(to: [-1])], axis: 0)
        }
        GradientCheck.check([a], "r alone") { Linalg.qr($0[0]).r }
    }

    @Test(arguments: [[4, 3], [3, 5], [2, 3, 3]])
    func svd(_ shape: [Int]) {
        // Sign-invariant functions of every output: the polar factor u vt, s, and u², vt².
        let a = sample(shape, seed: 10)
        GradientCheck.check([a], "svd \(shape)") { x in
            let (u, s, vt) = Linalg.svd(x[0])
            return Tensor.concatenated([u.matmul(vt).reshaped(to: [-1]), s.reshaped(to: [-1]),
                                        u.squared().reshaped(to: [-1]), vt.squared().reshaped(to: [-1])], axis: 0)
        }
        GradientCheck.check([a], "singular values") { Linalg.singularValues($0[0]) }
        GradientCheck.check([a], "s through svd") { Linalg.svd($0[0]).s }
    }

    @Test func svdOfRepeatedValuesDifferentiatesTheValues() {
        // The identity's singular values all coincide: the vectors' gradient is undefined there,
        // the values' is u vᵀ.
        let a = Tensor.eye(3, dtype: .float64).requiringGrad()
        let g = gradients(of: [Linalg.svd(a).s.sum()], withRespectTo: [a])[0]
        expectClose(g, Tensor.eye(3, dtype: .float64))
    }

    @Test func eigh() {
        let x = sample([2, 4, 4], seed: 11)
        GradientCheck.check([x], "eigh") { x in
            let (values, vectors) = Linalg.eigh(x[0] + x[0].transposed())
            return Tensor.concatenated([values.reshaped(to: [-1]), vectors.squared().reshaped(to: [-1])], axis: 0)
        }
        GradientCheck.check([x], "eigenvalues") { Linalg.eigenvalues(symmetric: $0[0] + $0[0].transposed()) }
    }

    @Test(arguments: [[4, 3], [3, 5]])
    func pinvAndLeastSquares(_ shape: [Int]) {
        let a = sample(shape, seed: 12), b = sample([shape[0], 2], seed: 13)
        GradientCheck.check([a], "pinv \(shape)") { Linalg.pinv($0[0]) }
        GradientCheck.check([a, b], "lstsq \(shape)") { Linalg.lstsq($0[0], $0[1]) }
    }

    @Test func pairwiseDistances() {
        let x = sample([2, 4, 3], seed: 15), y = sample([3, 3], seed: 16)
        GradientCheck.check([x, y], "p = 2, broadcast y") { Linalg.pairwiseDistances($0[0], $0[1]) }
        GradientCheck.check([x, y], "p = 1.5") { Linalg.pairwiseDistances($0[0], $0[1], p: 1.5) }
        // A point against itself: distance 0 with a zero gradient, not NaN.
        let z = sample([3, 2], seed: 17).requiringGrad()
        let g = gradients(of: [Linalg.pairwiseDistances(z, z).sum()], withRespectTo: [z])[0]
        #expect(g.isFinite().all().item(as: Bool.self))
    }

    @Test func norms() {
        let x = sample([3, 4], seed: 14)
        for ord: NormOrder in [1, 2, 3, 0.5, .infinity, .negativeInfinity] {
            GradientCheck.check([x], "vector norm \(ord)") { Linalg.norm($0[0], ord: ord, axes: [1]) }
        }
        for ord: NormOrder in [.frobenius, .nuclear, 1, -1, 2, -2, .infinity, .negativeInfinity] {
            GradientCheck.check([x], "matrix norm \(ord)") { Linalg.norm($0[0], ord: ord) }
        }
        // The 2-norm at the origin: zero, not NaN (PyTorch's subgradient).
        let zero = Tensor.zeros([3], dtype: .float64).requiringGrad()
        let g = gradients(of: [Linalg.norm(zero)], withRespectTo: [zero])[0]
        #expect(g.scalars(as: Double.self) == [0, 0, 0])
    }
}
