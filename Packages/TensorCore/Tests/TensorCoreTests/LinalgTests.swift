import Foundation
import Testing
@testable import TensorCore
import TensorCoreTesting

/// `Linalg` against NumPy's LAPACK (Fixtures/generate_linalg_fixtures.py writes linalg_ops.json):
/// float64 to 1e-10 of the largest expected element, float32 to 1e-4.
@Suite("Linalg matches NumPy")
struct LinalgTests {
    static let fixtures: [String: [String: Any]] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/linalg_ops.json")
        return try! JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: [String: Any]]
    }()

    static func tensor(_ name: String, _ key: String) -> Tensor {
        let json = fixtures[name]![key] as! [String: Any]
        return Tensor((json["data"] as! [NSNumber]).map { $0.doubleValue }, shape: json["shape"] as! [Int])
    }

    /// Normwise: every element within `relative` of the largest expected magnitude.
    static func expectNear(_ actual: Tensor, _ expected: Tensor, relative: Double = 1e-10, _ comment: Comment? = nil,
                           sourceLocation: SourceLocation = #_sourceLocation) {
        let scale = Swift.max(expected.abs().max().item(as: Double.self), 1e-300)
        expectClose(actual.cast(to: .float64), expected, tolerance: Tolerance(absolute: relative * scale, relative: relative),
                    comment, sourceLocation: sourceLocation)
    }

    /// `x` with each column (last axis) flipped to point the way `reference`'s does: singular
    /// and eigen vectors are unique up to sign. Returns the signs too, for the partner factor.
    static func aligned(_ x: Tensor, to reference: Tensor) -> (Tensor, Tensor) {
        let signs = (x.cast(to: .float64) * reference).sum(axes: [-2], keepDims: true).sign()
        return (x.cast(to: .float64) * signs, signs)
    }

    @Test(arguments: ["solve_square", "solve_batched", "solve_vector"])
    func solve(_ name: String) throws {
        let a = Self.tensor(name, "a"), b = Self.tensor(name, "b"), x = Self.tensor(name, "x")
        Self.expectNear(try Linalg.solve(a, b), x)
        Self.expectNear(try Linalg.solve(a.cast(to: .float32), b.cast(to: .float32)), x, relative: 1e-4)
    }

    @Test func solveIllConditioned() throws {
        // Hilbert 8x8 (cond ≈ 1.5e10): the solution itself is only determined to ~cond · eps ≈
        // 3e-6, so it is compared to that; LU's backward error ‖Ax − b‖ / (‖A‖‖x‖ + ‖b‖) is
        // what stays at rounding level.
        let a = Self.tensor("solve_hilbert", "a"), b = Self.tensor("solve_hilbert", "b")
        let x = try Linalg.solve(a, b)
        Self.expectNear(x, Self.tensor("solve_hilbert", "x"), relative: 1e-4)
        func inf(_ t: Tensor) -> Double { Linalg.norm(t, ord: .infinity).item(as: Double.self) }
        let backwardError = inf(a.matmul(x) - b) / (inf(a) * inf(x) + inf(b))
        #expect(backwardError < 1e-14, "backward error \(backwardError)")
    }

    @Test func triangular() throws {
        let a = Self.tensor("triangular_upper", "a"), b = Self.tensor("triangular_upper", "b")
        Self.expectNear(try Linalg.solveTriangular(a, b, upper: true), Self.tensor("triangular_upper", "x"))
        let name = "triangular_lower_unit_right"
        let a2 = Self.tensor(name, "a"), b2 = Self.tensor(name, "b")
        Self.expectNear(try Linalg.solveTriangular(a2, b2, upper: false, left: false, unitDiagonal: true),
                        Self.tensor(name, "x"))
        Self.expectNear(try Linalg.solveTriangular(a2.cast(to: .float32), b2.cast(to: .float32), upper: false, left: false,
                                                   unitDiagonal: true), Self.tensor(name, "x"), relative: 1e-4)
    }

    @Test func choleskyInverseDeterminant() throws {
        let spd = Self.tensor("cholesky", "a")
        Self.expectNear(try Linalg.cholesky(spd), Self.tensor("cholesky", "l"))
        Self.expectNear(try Linalg.cholesky(spd.cast(to: .float32)), Self.tensor("cholesky", "l"), relative: 1e-4)
        let a = Self.tensor("inverse", "a")
        Self.expectNear(try Linalg.inverse(a), Self.tensor("inverse", "x"))
        Self.expectNear(Linalg.determinant(a), Self.tensor("determinant", "det"))
        Self.expectNear(Linalg.determinant(a.cast(to: .float32)), Self.tensor("determinant", "det"), relative: 1e-4)
        let (sign, logAbs) = Linalg.slogdet(a)
        Self.expectNear(sign, Self.tensor("determinant", "sign"))
        Self.expectNear(logAbs, Self.tensor("determinant", "logabs"))
        // |det| ≈ 1e-30 per matrix: still exact in log form.
        let small = Self.tensor("slogdet_small", "a")
        let (s2, l2) = Linalg.slogdet(small)
        Self.expectNear(s2, Self.tensor("slogdet_small", "sign"))
        Self.expectNear(l2, Self.tensor("slogdet_small", "logabs"))
    }

    @Test(arguments: ["tall", "wide", "batched"])
    func qr(_ shape: String) {
        let name = "qr_" + shape
        let a = Self.tensor(name, "a")
        for dtype in [DType.float64, .float32] {
            let (q, r) = Linalg.qr(a.cast(to: dtype))
            let tolerance = dtype == .float64 ? 1e-10 : 1e-4
            // Householder QR is unique once R's diagonal signs are fixed; LAPACK's convention
            // is NumPy's, so the factors are compared directly.
            Self.expectNear(q, Self.tensor(name, "q"), relative: tolerance, "q \(dtype)")
            Self.expectNear(r, Self.tensor(name, "r"), relative: tolerance, "r \(dtype)")
        }
    }

    @Test(arguments: ["tall", "wide", "batched", "illconditioned"])
    func svd(_ shape: String) {
        let name = "svd_" + shape
        let a = Self.tensor(name, "a"), s0 = Self.tensor(name, "s")
        for dtype in [DType.float64, .float32] {
            let (u, s, vt) = Linalg.svd(a.cast(to: dtype))
            let tolerance = dtype == .float64 ? 1e-10 : 1e-4
            Self.expectNear(s, s0, relative: tolerance, "s \(dtype)")
            Self.expectNear((u * s.unsqueezed(axis: -2)).matmul(vt).cast(to: .float64), a, relative: tolerance, "u s vt \(dtype)")
            if shape == "illconditioned" { continue }  // vectors of values 1e-9 apart from 0 are ill-determined in float32
            let (ua, signs) = Self.aligned(u, to: Self.tensor(name, "u"))
            Self.expectNear(ua, Self.tensor(name, "u"), relative: tolerance, "u \(dtype)")
            Self.expectNear(vt.cast(to: .float64) * signs.transposed(), Self.tensor(name, "vt"), relative: tolerance, "vt \(dtype)")
        }
        Self.expectNear(Linalg.singularValues(a), s0)
    }

    @Test(arguments: ["single", "batched"])
    func eigh(_ shape: String) {
        let name = "eigh_" + shape
        let a = Self.tensor(name, "a")
        for dtype in [DType.float64, .float32] {
            let (values, vectors) = Linalg.eigh(a.cast(to: dtype))
            let tolerance = dtype == .float64 ? 1e-10 : 1e-4
            Self.expectNear(values, Self.tensor(name, "values"), relative: tolerance, "values \(dtype)")
            Self.expectNear(Self.aligned(vectors, to: Self.tensor(name, "vectors")).0, Self.tensor(name, "vectors"),
                            relative: tolerance, "vectors \(dtype)")
        }
        Self.expectNear(Linalg.eigenvalues(symmetric: a), Self.tensor(name, "values"))
    }

    @Test(arguments: ["tall", "wide", "rank3"])
    func pinvAndLeastSquares(_ shape: String) {
        let a = Self.tensor("pinv_" + shape, "a"), b = Self.tensor("lstsq_" + shape, "b")
        // The rank-3 case's zero singular values are ~1e-16 in the data; its result depends on
        // the cutoff, not on rounding, so the same tolerance applies.
        Self.expectNear(Linalg.pinv(a), Self.tensor("pinv_" + shape, "p"), relative: 1e-9)
        Self.expectNear(Linalg.lstsq(a, b), Self.tensor("lstsq_" + shape, "x"), relative: 1e-9)
        Self.expectNear(Linalg.lstsq(a.cast(to: .float32), b.cast(to: .float32)), Self.tensor("lstsq_" + shape, "x"),
                        relative: 1e-4)
        // A vector right-hand side gives a vector.
        let column = b.narrowed(axis: 1, start: 0, length: 1)
        #expect(Linalg.lstsq(a, column.squeezed(axis: 1)).shape == [a.shape[1]])
    }

    @Test func norms() {
        let x = Self.tensor("norm", "x")
        let vector = Self.fixtures["norm"]!["vector_axis1"] as! [String: [String: Any]]
        let orders: [(String, NormOrder)] = [("1", 1), ("2", 2), ("3", 3), ("0.5", 0.5), ("0", 0), ("inf", .infinity),
                                             ("-inf", .negativeInfinity)]
        for (key, ord) in orders {
            let expected = Tensor((vector[key]!["data"] as! [NSNumber]).map { $0.doubleValue }, shape: [3])
            Self.expectNear(Linalg.norm(x, ord: ord, axes: [1]), expected, "vector ord \(key)")
        }
        let matrix = Self.fixtures["norm"]!["matrix"] as! [String: Double]
        let matrixOrders: [(String, NormOrder)] = [("fro", .frobenius), ("nuc", .nuclear), ("1", 1), ("-1", -1), ("2", 2),
                                                   ("-2", -2), ("inf", .infinity), ("-inf", .negativeInfinity)]
        for (key, ord) in matrixOrders {
            Self.expectNear(Linalg.norm(x, ord: ord), Tensor(scalar: matrix[key]!), "matrix ord \(key)")
        }
        Self.expectNear(Linalg.norm(x), Tensor(scalar: Self.fixtures["norm"]!["all"] as! Double))
        #expect(Linalg.norm(x, ord: 2, axes: [1], keepDims: true).shape == [3, 1])
        #expect(Linalg.matrixNorm(x.unsqueezed(axis: 0), ord: .nuclear, axes: (1, 2), keepDims: true).shape == [1, 1, 1])
    }

    @Test func pairwiseDistances() {
        let x = Self.tensor("cdist", "x"), y = Self.tensor("cdist", "y")
        Self.expectNear(Linalg.pairwiseDistances(x, y), Self.tensor("cdist", "p2"), relative: 1e-12)
        Self.expectNear(Linalg.pairwiseDistances(x, y, p: 1), Self.tensor("cdist", "p1"))
        Self.expectNear(Linalg.pairwiseDistances(x.cast(to: .float32), y.cast(to: .float32)), Self.tensor("cdist", "p2"),
                        relative: 1e-4)
    }

    @Test func conjugateGradientsMatchTheDirectSolve() throws {
        let m = Tensor.randn([30, 30], dtype: .float64, generator: RandomGenerator(seed: 3))
        let a = m.matmul(m.transposed()) + 30 * Tensor.eye(30, dtype: .float64)
        let b = Tensor.randn([30], dtype: .float64, generator: RandomGenerator(seed: 4))
        let solution = Linalg.conjugateGradient({ a.matmul($0) }, b, tolerance: 1e-12)
        #expect(solution.converged && solution.iterations <= 30)
        #expect(solution.residualNorms.count == solution.iterations + 1)
        #expect(solution.residualNorms.last! <= 1e-12 * solution.residualNorms.first!)
        Self.expectNear(solution.x, try Linalg.solve(a, b), relative: 1e-9)
        // Jacobi preconditioning reaches the same answer.
        let diagonal = a.diagonal()
        let preconditioned = Linalg.conjugateGradient({ a.matmul($0) }, b, tolerance: 1e-12, preconditioner: { $0 / diagonal })
        Self.expectNear(preconditioned.x, solution.x, relative: 1e-9)
        // A budget too small to converge says so.
        let short = Linalg.conjugateGradient({ a.matmul($0) }, b, tolerance: 1e-14, maxIterations: 2)
        #expect(!short.converged && short.iterations == 2)
    }

    @Test func cglsMatchesLeastSquaresAndTikhonov() throws {
        let a = Tensor.randn([40, 12], dtype: .float64, generator: RandomGenerator(seed: 5))
        let b = Tensor.randn([40], dtype: .float64, generator: RandomGenerator(seed: 6))
        let plain = Linalg.cgls(apply: { a.matmul($0) }, applyTransposed: { a.transposed().matmul($0) }, b, tolerance: 1e-12)
        #expect(plain.converged)
        Self.expectNear(plain.x, Linalg.lstsq(a, b), relative: 1e-9)
        // With damping λ: the normal equations (AᵀA + λI) x = Aᵀb.
        let lambda = 2.5
        let damped = Linalg.cgls(apply: { a.matmul($0) }, applyTransposed: { a.transposed().matmul($0) }, b,
                                 damping: lambda, tolerance: 1e-12)
        let normal = a.transposed().matmul(a) + lambda * Tensor.eye(12, dtype: .float64)
        Self.expectNear(damped.x, try Linalg.solve(normal, a.transposed().matmul(b)), relative: 1e-9)
    }

    @Test func singularInputThrowsNamingTheBatchElement() {
        var a = Tensor.eye(3, dtype: .float64).unsqueezed(axis: 0).expanded(to: [4, 3, 3]).contiguous().scalars(as: Double.self)
        for j in 0..<3 { a[2 * 9 + 1 * 3 + j] = 0 }  // matrix 2: a zero row
        let batch = Tensor(a, shape: [4, 3, 3])
        #expect(throws: LinalgError(operation: "Linalg.solve", batchIndex: 2, batchShape: [4], reason: .singular(pivot: 1))) {
            try Linalg.solve(batch, Tensor.ones([4, 3], dtype: .float64))
        }
        #expect(throws: LinalgError.self) { try Linalg.inverse(batch) }
        do {
            _ = try Linalg.inverse(batch)
        } catch {
            #expect("\(error)".contains("[Linalg.inverse] matrix 2 of the batch [4] is singular"))
        }
        #expect(Linalg.determinant(batch).scalars(as: Double.self) == [1, 1, 0, 1])
        let notPD = Tensor([1, 2, 2, 1] as [Double], shape: [2, 2])
        #expect(throws: LinalgError(operation: "Linalg.cholesky", batchIndex: 0, batchShape: [],
                                    reason: .notPositiveDefinite(order: 2))) { try Linalg.cholesky(notPD) }
        let zeroDiagonal = Tensor([1, 2, 0, 0] as [Double], shape: [2, 2])
        #expect(throws: LinalgError.self) { try Linalg.solveTriangular(zeroDiagonal, Tensor.eye(2, dtype: .float64), upper: true) }
    }

    @Test(arguments: [192, 300])
    func blockedParallelLUMatchesLAPACK(_ n: Int) throws {
        // Above `blockedThreshold` with several threads, LU runs blocked with a parallel
        // trailing update and look-ahead; with one thread, LAPACK's getrf. Same pivots, same
        // answers, whether the last panel is whole (192) or not (300).
        let a = Tensor.randn([n, n], dtype: .float64, generator: RandomGenerator(seed: 21))
        let b = Tensor.randn([n, 2], dtype: .float64, generator: RandomGenerator(seed: 22))
        let saved = CPUThreads.count
        defer { CPUThreads.count = saved }
        CPUThreads.count = 2
        let blocked = try Linalg.solve(a, b), blockedDet = Linalg.slogdet(a)
        CPUThreads.count = 1
        let plain = try Linalg.solve(a, b), plainDet = Linalg.slogdet(a)
        Self.expectNear(blocked, plain, relative: 1e-10)
        #expect(blockedDet.sign.item(as: Double.self) == plainDet.sign.item(as: Double.self))
        #expect(Swift.abs(blockedDet.logAbs.item(as: Double.self) - plainDet.logAbs.item(as: Double.self)) < 1e-9)
        func inf(_ t: Tensor) -> Double { Linalg.norm(t, ord: .infinity).item(as: Double.self) }
        let backwardError = inf(a.matmul(blocked) - b) / (inf(a) * inf(blocked) + inf(b))
        #expect(backwardError < 1e-14, "backward error \(backwardError)")
        // An exactly singular matrix (a zero row gives an exactly zero pivot) is still reported.
        var rows = a.scalars(as: Double.self)
        for j in 0..<n { rows[(n - 50) * n + j] = 0 }
        CPUThreads.count = 2
        #expect(throws: LinalgError.self) { try Linalg.solve(Tensor(rows, shape: [n, n]), b) }
    }

    @Test func nonFiniteInputGivesNaNNotACrash() {
        let bad = Tensor([1, .nan, 3, 4] as [Double], shape: [2, 2])
        #expect(Linalg.svd(bad).s.isNaN().any().item(as: Bool.self))
        // eigh reads the lower triangle: a NaN above the diagonal is not seen, one below is.
        #expect(!Linalg.eigh(bad).values.isNaN().any().item(as: Bool.self))
        #expect(Linalg.eigh(bad.transposed()).values.isNaN().all().item(as: Bool.self))
        #expect(Linalg.determinant(bad).isNaN().item(as: Bool.self))
        #expect(Linalg.lstsq(bad, Tensor([1, 2] as [Double])).isNaN().any().item(as: Bool.self))
    }

    @Test func emptyAndOnDevice() throws {
        let empty = Tensor.zeros([0, 3, 3], dtype: .float64)
        #expect(try Linalg.inverse(empty).shape == [0, 3, 3])
        #expect(Linalg.svd(Tensor.zeros([4, 0], dtype: .float64)).s.shape == [0])
        #expect(Linalg.determinant(Tensor.zeros([2, 0, 0], dtype: .float64)).scalars(as: Double.self) == [1, 1])
        // Through the registry on a non-CPU backend: staged through host memory by default.
        EmulatedDevice.register()
        let a = Self.tensor("inverse", "a")
        let onDevice = try Linalg.inverse(a.moved(to: EmulatedDevice.device))
        #expect(onDevice.device == EmulatedDevice.device)
        Self.expectNear(onDevice.moved(to: .cpu), Self.tensor("inverse", "x"))
    }
}
