/// A sparse matrix in coordinate form (COO): `values[k]` at `(rows[k], columns[k])`, duplicates
/// summed, with its compressed-row form (CSR: row pointers, entries sorted by row) for
/// iteration. Products with dense matrices record gradients for the dense operand and for the
/// values (as `torch.sparse.mm`), through `indexSelect` and `indexAdding`.
public struct SparseMatrix {
    /// The matrix's shape `[rows, columns]`.
    public let shape: [Int]
    /// Row of each stored entry, int64 `[nnz]`.
    public let rows: Tensor
    /// Column of each stored entry, int64 `[nnz]`.
    public let columns: Tensor
    /// The stored values `[nnz]` (may require gradients).
    public let values: Tensor

    /// A matrix of `shape` from coordinates and values (int64 or int32 indices in range).
    public init(rows: Tensor, columns: Tensor, values: Tensor, shape: [Int]) {
        tensorCheck(shape.count == 2 && shape.allSatisfy { $0 >= 0 }, "[SparseMatrix] shape \(shape) should be [rows, columns]")
        tensorCheck(rows.rank == 1 && columns.shape == rows.shape && values.shape == rows.shape,
                    "[SparseMatrix] rows \(shapeText(rows.shape)), columns \(shapeText(columns.shape)) and values \(shapeText(values.shape)) should all be [nnz]")
        let r = rows.dtype == .int64 ? rows : rows.cast(to: .int64, differentiable: false)
        let c = columns.dtype == .int64 ? columns : columns.cast(to: .int64, differentiable: false)
        let rv = r.scalars(as: Int64.self), cv = c.scalars(as: Int64.self)
        tensorCheck(rv.allSatisfy { $0 >= 0 && $0 < Int64(shape[0]) } && cv.allSatisfy { $0 >= 0 && $0 < Int64(shape[1]) },
                    "[SparseMatrix] coordinates out of range for shape \(shape)")
        self.shape = shape
        self.rows = r
        self.columns = c
        self.values = values
    }

    /// The matrix with ones at the edges `(source, target)` of `edges` (int64 `[2, E]`).
    public init(edges: Tensor, nodeCount: Int, values: Tensor? = nil) {
        tensorCheck(edges.rank == 2 && edges.shape[0] == 2, "[SparseMatrix] edges \(shapeText(edges.shape)) should be [2, E]")
        let e = edges.shape[1]
        self.init(rows: edges.narrowed(axis: 0, start: 0, length: 1).reshaped(to: [e]),
                  columns: edges.narrowed(axis: 0, start: 1, length: 1).reshaped(to: [e]),
                  values: values ?? Tensor.ones([e]), shape: [nodeCount, nodeCount])
    }

    /// Stored entries.
    public var nonzeroCount: Int { values.shape[0] }

    /// `self · dense` for `dense [columns, F]`: `[rows, F]`.
    public func matmul(_ dense: Tensor) -> Tensor {
        tensorCheck(dense.rank == 2 && dense.shape[0] == shape[1],
                    "[SparseMatrix.matmul] dense \(shapeText(dense.shape)) should be [\(shape[1]), F] for a \(shape[0])×\(shape[1]) matrix")
        let gathered = dense.indexSelect(axis: 0, indices: columns) * values.cast(to: dense.dtype).reshaped(to: [-1, 1])
        return Tensor.zeros([shape[0], dense.shape[1]], dtype: dense.dtype, device: dense.device).indexAdding(axis: 0, indices: rows, source: gathered)
    }

    /// The dense matrix (duplicates summed).
    public func dense() -> Tensor {
        let r = rows.scalars(as: Int64.self), c = columns.scalars(as: Int64.self)
        let flat = Tensor(zip(r, c).map { $0 * Int64(shape[1]) + $1 }, shape: [r.count])
        return Tensor.zeros([shape[0] * shape[1]], dtype: values.dtype).indexAdding(axis: 0, indices: flat, source: values)
            .reshaped(to: shape)
    }

    /// The transpose.
    public func transposed() -> SparseMatrix { SparseMatrix(rows: columns, columns: rows, values: values, shape: [shape[1], shape[0]]) }

    /// Compressed rows: `rowPointers [rows + 1]` (entries of row i at `rowPointers[i]..<rowPointers[i+1]`),
    /// their columns and values, sorted by row (stable, so duplicates keep their order).
    public func compressedRows() -> (rowPointers: [Int], columns: [Int], values: Tensor) {
        let r = rows.scalars(as: Int64.self), c = columns.scalars(as: Int64.self)
        let order = r.indices.sorted { (r[$0], $0) < (r[$1], $1) }
        var pointers = [Int](repeating: 0, count: shape[0] + 1)
        for row in r { pointers[Int(row) + 1] += 1 }
        for i in 0..<shape[0] { pointers[i + 1] += pointers[i] }
        return (pointers, order.map { Int(c[$0]) }, values.indexSelect(axis: 0, indices: Tensor(order.map(Int64.init), shape: [order.count])))
    }
}
