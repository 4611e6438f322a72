extension Tensor {
    /// Integer indices as int64 on this tensor's device.
    func indexOperand(_ index: Tensor, _ op: StaticString) -> Tensor {
        tensorCheck(index.dtype == .int64 || index.dtype == .int32,
                    "[\(op)] indices must be int64 or int32, got \(index.dtype)")
        tensorCheck(index.device == device, "[\(op)] indices on \(index.device), tensor on \(device)")
        return index.dtype == .int64 ? index : index.cast(to: .int64, differentiable: false)
    }

    /// `out[i][j][k] = self[i][index[i][j][k]][k]` for axis 1 (torch.gather).
    public func gather(axis: Int, index: Tensor) -> Tensor {
        let a = normalizedAxis(axis, rank: rank, op: "gather")
        let idx = indexOperand(index, "gather")
        tensorCheck(idx.rank == rank, "[gather] index \(shapeText(index.shape)) must have the rank of input \(shapeText(shape))")
        for d in 0..<rank where d != a {
            tensorCheck(idx.shape[d] <= shape[d],
                        "[gather] index \(shapeText(index.shape)) is larger than input \(shapeText(shape)) on axis \(d)")
        }
        let out = Tensor(uninitializedShape: idx.shape, dtype: dtype, backend: backend)
        backend.gather(operand, axis: a, index: idx.operand, into: out.operand)
        let x = self
        return out.recorded("gather", x) { g, _ in
            [Tensor.zeros(x.shape, dtype: g.dtype, device: g.device).scatterAdding(axis: a, index: idx, source: g)]
        }
    }

    /// A copy with `source[i][j][k]` added at `[i][index[i][j][k]][k]` for axis 1 (torch.scatter_add).
    public func scatterAdding(axis: Int, index: Tensor, source: Tensor) -> Tensor {
        let a = normalizedAxis(axis, rank: rank, op: "scatterAdd")
        let idx = indexOperand(index, "scatterAdd")
        tensorCheck(idx.shape == source.shape,
                    "[scatterAdd] index \(shapeText(index.shape)) and source \(shapeText(source.shape)) differ")
        tensorCheck(source.rank == rank, "[scatterAdd] source \(shapeText(source.shape)) must have the rank of \(shapeText(shape))")
        for d in 0..<rank where d != a {
            tensorCheck(source.shape[d] <= shape[d],
                        "[scatterAdd] source \(shapeText(source.shape)) is larger than \(shapeText(shape)) on axis \(d)")
        }
        let src = source.dtype == dtype ? source : source.cast(to: dtype)
        let out = Tensor(uninitializedShape: shape, dtype: dtype, backend: backend)
        backend.copy(operand, into: out.operand)
        backend.scatterAdd(src.operand, axis: a, index: idx.operand, into: out.operand)
        let x = self
        return out.recorded("scatterAdd", x, src) { g, _ in
            [x.requiresGrad ? g : nil, src.requiresGrad ? g.gather(axis: a, index: idx) : nil]
        }
    }

    /// The slices `indices` (1-D) along `axis`, in that order.
    public func indexSelect(axis: Int, indices: Tensor) -> Tensor {
        let a = normalizedAxis(axis, rank: rank, op: "indexSelect")
        let idx = indexOperand(indices, "indexSelect")
        tensorCheck(idx.rank == 1, "[indexSelect] indices must be 1-D, got \(shapeText(indices.shape))")
        var s = shape
        s[a] = idx.shape[0]
        let out = Tensor(uninitializedShape: s, dtype: dtype, backend: backend)
        backend.indexSelect(operand, axis: a, indices: idx.operand, into: out.operand)
        let x = self
        return out.recorded("indexSelect", x) { g, _ in
            [Tensor.zeros(x.shape, dtype: g.dtype, device: g.device).indexAdding(axis: a, indices: idx, source: g)]
        }
    }

    /// A copy with slice `j` of `source` added to slice `indices[j]` along `axis`.
    public func indexAdding(axis: Int, indices: Tensor, source: Tensor) -> Tensor {
        let a = normalizedAxis(axis, rank: rank, op: "indexAdd")
        let idx = indexOperand(indices, "indexAdd")
        tensorCheck(idx.rank == 1, "[indexAdd] indices must be 1-D, got \(shapeText(indices.shape))")
        var expected = shape
        expected[a] = idx.shape[0]
        tensorCheck(source.shape == expected,
                    "[indexAdd] source \(shapeText(source.shape)) should be \(shapeText(expected)) for \(idx.shape[0]) indices into \(shapeText(shape))")
        let src = source.dtype == dtype ? source : source.cast(to: dtype)
        let out = Tensor(uninitializedShape: shape, dtype: dtype, backend: backend)
        backend.copy(operand, into: out.operand)
        backend.indexAdd(src.operand, axis: a, indices: idx.operand, into: out.operand)
        let x = self
        return out.recorded("indexAdd", x, src) { g, _ in
            [x.requiresGrad ? g : nil, src.requiresGrad ? g.indexSelect(axis: a, indices: idx) : nil]
        }
    }

    /// One-hot encoding: a new last axis of `classCount` with 1 at each index.
    public static func oneHot(_ indices: Tensor, classCount: Int, dtype: DType = .float32) -> Tensor {
        tensorCheck(!indices.dtype.isFloatingPoint && indices.dtype != .bool,
                    "[oneHot] indices must be integers, got \(indices.dtype)")
        if indices.elementCount > 0 {
            let lo = indices.min().item(as: Int64.self), hi = indices.max().item(as: Int64.self)
            tensorCheck(lo >= 0 && hi < classCount, "[oneHot] indices span \(lo)...\(hi), outside 0..<\(classCount)")
        }
        let classes = Tensor.arange(0, Double(classCount), dtype: .int64, device: indices.device)
        return (indices.cast(to: .int64, differentiable: false).unsqueezed(axis: -1) .== classes).cast(to: dtype)
    }
}

extension Tensor {
    /// Sorted values and their original indices (int64) along `axis`; stable.
    public func sorted(axis: Int = -1, descending: Bool = false) -> (values: Tensor, indices: Tensor) {
        let a = normalizedAxis(axis, rank: Swift.max(rank, 1), op: "sort")
        if rank == 0 { return (self, Tensor.zeros([], dtype: .int64, device: device)) }
        let values = Tensor(uninitializedShape: shape, dtype: dtype, backend: backend)
        let indices = Tensor(uninitializedShape: shape, dtype: .int64, backend: backend)
        if elementCount > 0 {
            backend.sort(operand, axis: a, descending: descending, values: values.operand, indices: indices.operand)
        }
        let x = self
        let tracked = values.recorded("sort", x) { g, _ in
            [Tensor.zeros(x.shape, dtype: g.dtype, device: g.device).scatterAdding(axis: a, index: indices, source: g)]
        }
        return (tracked, indices)
    }

    /// The indices that sort along `axis`.
    public func argsort(axis: Int = -1, descending: Bool = false) -> Tensor {
        withoutGradients { sorted(axis: axis, descending: descending).indices }
    }

    /// The `k` largest (or smallest) values along `axis`, in order, with their indices.
    public func topK(_ k: Int, axis: Int = -1, largest: Bool = true) -> (values: Tensor, indices: Tensor) {
        let a = normalizedAxis(axis, rank: rank, op: "topK")
        tensorCheck(k >= 0 && k <= shape[a], "[topK] k = \(k) is out of range for axis \(a) of size \(shape[a])")
        let (values, indices) = sorted(axis: a, descending: largest)
        return (values.narrowed(axis: a, start: 0, length: k), indices.narrowed(axis: a, start: 0, length: k))
    }
}
