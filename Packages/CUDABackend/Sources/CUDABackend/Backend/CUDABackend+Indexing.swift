import TensorCore

extension CUDABackend {
    private func full(_ operand: Operand) -> StridedArgument {
        StridedArgument(shape: operand.shape.isEmpty ? [1] : operand.shape, strides: operand.shape.isEmpty ? [0] : operand.layout.strides, op: "index")
    }

    public func gather(_ x: Operand, axis: Int, index: Operand, into out: Operand) {
        let n = out.elementCount
        launch(.gather, x.dtype, count: n) { a in
            a.append(x); a.append(full(x)); a.append(Int32(axis)); a.append(index); a.append(full(index))
            a.append(out); a.append(full(out)); a.append(Int64(n))
        }
    }

    public func scatterAdd(_ source: Operand, axis: Int, index: Operand, into out: Operand) {
        let n = source.elementCount
        launch(.scatterAdd, out.dtype, count: n) { a in
            a.append(source); a.append(full(source)); a.append(Int32(axis)); a.append(index); a.append(full(index))
            a.append(out); a.append(full(out)); a.append(Int64(n))
        }
    }

    public func indexSelect(_ x: Operand, axis: Int, indices: Operand, into out: Operand) {
        let n = out.elementCount
        launch(.indexSelect, x.dtype, count: n) { a in
            a.append(x); a.append(full(x)); a.append(Int32(axis)); a.append(indices); a.append(Int64(indices.layout.strides.first ?? 1))
            a.append(out); a.append(full(out)); a.append(Int64(n))
        }
    }

    public func indexAdd(_ source: Operand, axis: Int, indices: Operand, into out: Operand) {
        let n = source.elementCount
        launch(.indexAdd, out.dtype, count: n) { a in
            a.append(source); a.append(full(source)); a.append(Int32(axis)); a.append(indices); a.append(Int64(indices.layout.strides.first ?? 1))
            a.append(out); a.append(full(out)); a.append(Int64(n))
        }
    }

    public func sort(_ x: Operand, axis: Int, descending: Bool, values: Operand, indices: Operand) {
        let keptAxes = (0..<x.shape.count).filter { $0 != axis }
        let length = x.shape.isEmpty ? 1 : x.shape[axis]
        let lines = keptAxes.reduce(1) { $0 * x.shape[$1] }
        guard lines > 0, length > 0 else { return }
        let (xs, vs) = keptLayouts(x, values, kept: keptAxes)
        let (_, indexLines) = keptLayouts(x, indices, kept: keptAxes)
        // Merge-sort scratch: two runs of (compute value, index) per line.
        let computeBytes = x.dtype == .float64 || x.dtype == .int64 ? 8 : 4
        let scratchValues = makeOperand(shape: [lines * 2 * length * computeBytes], dtype: .uint8)
        let scratchIndices = makeOperand(shape: [lines * 2 * length], dtype: .int64)
        launch(.sortLines, x.dtype, count: lines, threads: 64) { a in
            a.append(x); a.append(xs); a.append(Int64(x.layout.strides[axis]))
            a.append(values); a.append(vs); a.append(Int64(values.layout.strides[axis]))
            a.append(indices); a.append(indexLines); a.append(Int64(indices.layout.strides[axis]))
            a.append(Int64(length)); a.append(Int64(lines)); a.append(Int32(descending ? 1 : 0))
            a.append(scratchValues); a.append(scratchIndices)
        }
    }
}
