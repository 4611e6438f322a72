/// Views share storage with their base; their backward rules undo the view.
extension Tensor {
    /// Same storage, another layout.
    func view(_ layout: Layout) -> Tensor {
        Tensor(storage: storage, layout: layout, dtype: dtype)
    }

    /// The same elements in another shape; one dimension may be -1 (inferred).
    /// A view when the tensor is contiguous, else a copy (as `torch.reshape`).
    public func reshaped(to newShape: [Int]) -> Tensor {
        var target = newShape
        let inferred = newShape.indices.filter { newShape[$0] == -1 }
        tensorCheck(inferred.count <= 1, "[reshape] at most one -1 allowed in \(shapeText(newShape))")
        for d in newShape { tensorCheck(d >= -1, "[reshape] invalid dimension \(d) in \(shapeText(newShape))") }
        if let i = inferred.first {
            var others = newShape
            others.remove(at: i)
            let known = Layout.checkedElementCount(others) ?? 0
            tensorCheck(known > 0 && elementCount % known == 0,
                        "[reshape] cannot reshape \(shapeText(shape)) (\(elementCount) elements) to \(shapeText(newShape))")
            target[i] = elementCount / known
        }
        let targetCount = Layout.checkedElementCount(target)
        tensorCheck(targetCount == elementCount,
                    "[reshape] cannot reshape \(shapeText(shape)) (\(elementCount) elements) to \(shapeText(newShape)) "
                    + (targetCount.map { "(\($0) elements)" } ?? "(more elements than can be counted)"))
        if target == shape { return self }
        let source = layout.isContiguous ? self : contiguous()
        let original = shape
        return source.view(Layout(shape: target, strides: Layout.contiguousStrides(for: target), offset: source.layout.offset))
            .recorded("reshape", source) { g, _ in [g.reshaped(to: original)] }
    }

    /// `reshaped(to:)` with the lengths listed.
    public func reshaped(to newShape: Int...) -> Tensor { reshaped(to: newShape) }

    /// Axes `start...end` merged into one.
    public func flattened(startAxis: Int = 0, endAxis: Int = -1) -> Tensor {
        if rank == 0 { return reshaped(to: [1]) }
        let s = normalizedAxis(startAxis, rank: rank, op: "flatten"), e = normalizedAxis(endAxis, rank: rank, op: "flatten")
        tensorCheck(s <= e, "[flatten] start axis \(startAxis) comes after end axis \(endAxis)")
        let merged = shape[s...e].reduce(1, *)
        return reshaped(to: Array(shape[..<s]) + [merged] + Array(shape[(e + 1)...]))
    }

    /// Axes reordered: result axis `i` is input axis `order[i]`.
    public func permuted(_ order: [Int]) -> Tensor {
        tensorCheck(order.count == rank, "[permute] order \(order) has \(order.count) axes, tensor has \(rank)")
        let axes = order.map { normalizedAxis($0, rank: rank, op: "permute") }
        tensorCheck(Set(axes).count == rank, "[permute] order \(order) repeats an axis")
        let newLayout = Layout(shape: axes.map { shape[$0] }, strides: axes.map { layout.strides[$0] }, offset: layout.offset)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, a) in axes.enumerated() { inverse[a] = i }
        return view(newLayout).recorded("permute", self) { g, _ in [g.permuted(inverse)] }
    }

    /// `permuted(_:)` with the axes listed.
    public func permuted(_ order: Int...) -> Tensor { permuted(order) }

    /// The last two axes swapped (a matrix transpose, batched).
    public func transposed() -> Tensor {
        tensorCheck(rank >= 2, "[transpose] needs at least 2 axes, got shape \(shapeText(shape))")
        return transposed(rank - 2, rank - 1)
    }

    /// Axes `a` and `b` swapped.
    public func transposed(_ a: Int, _ b: Int) -> Tensor {
        var order = Array(0..<rank)
        order.swapAt(normalizedAxis(a, rank: rank, op: "transpose"), normalizedAxis(b, rank: rank, op: "transpose"))
        return permuted(order)
    }

    /// Removes size-1 axes (all of them when `axes` is nil).
    public func squeezed(axes: [Int]? = nil) -> Tensor {
        let remove = axes.map { $0.map { normalizedAxis($0, rank: rank, op: "squeeze") } } ?? shape.indices.filter { shape[$0] == 1 }
        for a in remove { tensorCheck(shape[a] == 1, "[squeeze] axis \(a) has size \(shape[a]), not 1, in \(shapeText(shape))") }
        return reshaped(to: droppedShape(remove))
    }

    /// Removes `axis`, which must have length 1.
    public func squeezed(axis: Int) -> Tensor { squeezed(axes: [axis]) }

    /// Inserts a size-1 axis at `axis` (which may be `rank`, or negative from the end).
    public func unsqueezed(axis: Int) -> Tensor {
        let a = axis < 0 ? axis + rank + 1 : axis
        tensorCheck(a >= 0 && a <= rank, "[unsqueeze] axis \(axis) is out of range for a tensor of rank \(rank)")
        var s = layout.shape, st = layout.strides
        s.insert(1, at: a)
        st.insert(a < rank ? layout.strides[a] * shape[a] : 1, at: a)
        let original = shape
        return view(Layout(shape: s, strides: st, offset: layout.offset))
            .recorded("unsqueeze", self) { g, _ in [g.reshaped(to: original)] }
    }

    /// A broadcast view with `newShape` (-1 keeps a dimension); no memory is copied.
    public func expanded(to newShape: [Int]) -> Tensor {
        tensorCheck(newShape.count >= rank,
                    "[expand] cannot expand \(shapeText(shape)) to fewer axes \(shapeText(newShape))")
        var target = newShape
        let lead = newShape.count - rank
        for i in 0..<rank {
            if target[lead + i] == -1 { target[lead + i] = shape[i] }
            tensorCheck(shape[i] == target[lead + i] || shape[i] == 1,
                        "[expand] cannot expand \(shapeText(shape)) to \(shapeText(newShape))")
        }
        if target == shape { return self }
        let original = shape
        return view(layout.broadcast(to: target)).recorded("expand", self) { g, _ in [g.sumToShape(original)] }
    }

    /// Broadcasts to `shape` by NumPy rules.
    public func broadcast(to target: [Int]) -> Tensor {
        guard let s = broadcastShapes(shape, target), s == target else {
            tensorFailure("[broadcast] \(shapeText(shape)) cannot be broadcast to \(shapeText(target))")
        }
        return expanded(to: target)
    }

    /// Elements in reverse order along `axes` (a view with negative strides).
    public func flipped(axes: [Int]) -> Tensor {
        let normalized = axes.map { normalizedAxis($0, rank: rank, op: "flip") }
        var l = layout
        for a in normalized where shape[a] > 0 {
            l.offset += (shape[a] - 1) * l.strides[a]
            l.strides[a] = -l.strides[a]
        }
        return view(l).recorded("flip", self) { g, _ in [g.flipped(axes: normalized)] }
    }
}
