import Foundation
import Testing
import TensorCore
import TensorCoreTesting

@Suite("Sparse matrices and segment reductions")
struct SparseTests {
    /// A 3 × 4 matrix with a duplicate entry (summed) and an empty row.
    static let matrix = SparseMatrix(rows: Tensor([0, 0, 2, 2, 0] as [Int64]), columns: Tensor([1, 3, 0, 3, 1] as [Int64]),
                                     values: Tensor([1, 2, 3, 4, 0.5] as [Double]), shape: [3, 4])

    @Test func productsMatchTheDenseMatrix() {
        let dense = Self.matrix.dense()
        #expect(dense.scalars(as: Double.self) == [0, 1.5, 0, 2, 0, 0, 0, 0, 3, 0, 0, 4])
        let b = Tensor.randn([4, 5], dtype: .float64, generator: RandomGenerator(seed: 1))
        expectClose(Self.matrix.matmul(b), dense.matmul(b), tolerance: Tolerance(absolute: 1e-12, relative: 1e-12))
        expectClose(Self.matrix.transposed().dense(), dense.transposed(), tolerance: Tolerance(absolute: 0, relative: 0))
        let csr = Self.matrix.compressedRows()
        #expect(csr.rowPointers == [0, 3, 3, 5] && csr.columns == [1, 3, 1, 0, 3])
        #expect(csr.values.scalars(as: Double.self) == [1, 2, 0.5, 3, 4])
        let edges = SparseMatrix(edges: Tensor([0, 1, 1, 2] as [Int64], shape: [2, 2]), nodeCount: 3)
        #expect(edges.dense().scalars(as: Float.self) == [0, 1, 0, 0, 0, 1, 0, 0, 0])
    }

    @Test func productGradientsForTheDenseSideAndTheValues() {
        let m = Self.matrix
        GradientCheck.check([Tensor.randn([4, 3], dtype: .float64, generator: RandomGenerator(seed: 2)), m.values], "sparse × dense") {
            SparseMatrix(rows: m.rows, columns: m.columns, values: $0[1], shape: m.shape).matmul($0[0]).tanh()
        }
    }

    @Test func segmentReductionsMatchHandComputation() {
        let x = Tensor([1, -2, 3, 4, 5, -6] as [Double], shape: [3, 2]), ids = Tensor([2, 0, 2] as [Int64])
        #expect(x.segmentSum(ids, count: 4).scalars(as: Double.self) == [3, 4, 0, 0, 6, -8, 0, 0])
        #expect(x.segmentMean(ids, count: 4).scalars(as: Double.self) == [3, 4, 0, 0, 3, -4, 0, 0])
        #expect(x.segmentMax(ids, count: 4).scalars(as: Double.self) == [3, 4, 0, 0, 5, -2, 0, 0])
        let soft = x.segmentSoftmax(ids, count: 4).scalars(as: Double.self)
        let e1 = 1 / (1 + Foundation.exp(4.0)), e2 = 1 / (1 + Foundation.exp(-4.0))  // segment 2, column 0: softmax(1, 5)
        #expect(Swift.abs(soft[0] - e1) < 1e-12 && Swift.abs(soft[4] - e2) < 1e-12 && soft[2] == 1 && soft[3] == 1)
    }

    @Test func segmentGradients() {
        let ids = Tensor([1, 0, 1, 1, 3] as [Int64])
        let x = Tensor.randn([5, 3], dtype: .float64, generator: RandomGenerator(seed: 3))
        GradientCheck.check([x], "segment sum") { $0[0].segmentSum(ids, count: 4).squared() }
        GradientCheck.check([x], "segment mean") { $0[0].segmentMean(ids, count: 4).squared() }
        GradientCheck.check([x], "segment max") { $0[0].segmentMax(ids, count: 4).squared() }
        GradientCheck.check([x], "segment softmax") { $0[0].segmentSoftmax(ids, count: 4) * $0[0] }
    }
}
