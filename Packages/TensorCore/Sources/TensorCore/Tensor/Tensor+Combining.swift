extension Tensor {
    /// A view of `length` elements along `axis` starting at `start`.
    public func narrowed(axis: Int, start: Int, length: Int) -> Tensor {
        let a = normalizedAxis(axis, rank: rank, op: "narrow")
        tensorCheck(start >= 0 && length >= 0 && start + length <= shape[a],
                    "[narrow] \(start)..<\(start + length) is out of bounds for axis \(a) of size \(shape[a])")
        var items = [TensorIndex](repeating: TensorIndex.all, count: a)
        items.append(TensorIndex.slice(start: start, end: start + length, step: 1))
        return indexed(items)
    }

    /// Tensors joined along an existing axis. Shapes must match except on `axis`.
    public static func concatenated(_ tensors: [Tensor], axis: Int) -> Tensor {
        tensorCheck(!tensors.isEmpty, "[concatenate] needs at least one tensor")
        let first = tensors[0]
        let a = normalizedAxis(axis, rank: first.rank, op: "concatenate")
        var type = first.dtype
        for (i, t) in tensors.enumerated() {
            tensorCheck(t.rank == first.rank,
                        "[concatenate] tensor \(i) has shape \(shapeText(t.shape)), tensor 0 has \(shapeText(first.shape))")
            for d in 0..<t.rank where d != a {
                tensorCheck(t.shape[d] == first.shape[d],
                            "[concatenate] tensor \(i) has shape \(shapeText(t.shape)), tensor 0 has \(shapeText(first.shape)) (axis \(d) differs)")
            }
            tensorCheck(t.device == first.device, "[concatenate] tensor \(i) is on \(t.device), tensor 0 on \(first.device)")
            type = DType.promoted(type, t.dtype)
        }
        var shape = first.shape
        shape[a] = tensors.reduce(0) { $0 + $1.shape[a] }
        let out = Tensor(uninitializedShape: shape, dtype: type, backend: first.backend)
        var start = 0
        var ranges: [Range<Int>] = []
        for t in tensors {
            let length = t.shape[a]
            let region = out.narrowed(axis: a, start: start, length: length)
            out.backend.copy(t.operand, into: region.operand)
            ranges.append(start..<(start + length))
            start += length
        }
        return out.recorded("concatenate", tensors) { g, _ in
            zip(tensors, ranges).map { t, r in
                t.requiresGrad ? g.narrowed(axis: a, start: r.lowerBound, length: r.count).gradient(for: t) : nil
            }
        }
    }

    /// Tensors of one shape joined along a new axis.
    public static func stacked(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        tensorCheck(!tensors.isEmpty, "[stack] needs at least one tensor")
        for (i, t) in tensors.enumerated() {
            tensorCheck(t.shape == tensors[0].shape,
                        "[stack] tensor \(i) has shape \(shapeText(t.shape)), tensor 0 has \(shapeText(tensors[0].shape))")
        }
        let a = axis < 0 ? axis + tensors[0].rank + 1 : axis
        return concatenated(tensors.map { $0.unsqueezed(axis: a) }, axis: a)
    }

    /// Views of consecutive pieces with the given sizes along `axis`.
    public func split(sizes: [Int], axis: Int = 0) -> [Tensor] {
        let a = normalizedAxis(axis, rank: rank, op: "split")
        tensorCheck(sizes.reduce(0, +) == shape[a] && sizes.allSatisfy { $0 >= 0 },
                    "[split] sizes \(sizes) do not add up to \(shape[a]), the size of axis \(a)")
        var start = 0
        return sizes.map { size in
            defer { start += size }
            return narrowed(axis: a, start: start, length: size)
        }
    }

    /// `count` pieces of (nearly) equal size along `axis`; the last may be smaller.
    public func chunked(_ count: Int, axis: Int = 0) -> [Tensor] {
        tensorCheck(count > 0, "[chunk] count must be positive, got \(count)")
        let a = normalizedAxis(axis, rank: rank, op: "chunk")
        let size = (shape[a] + count - 1) / count
        guard size > 0 else { return [self] }
        var sizes: [Int] = []
        var remaining = shape[a]
        while remaining > 0 { sizes.append(Swift.min(size, remaining)); remaining -= size }
        return split(sizes: sizes, axis: a)
    }

    /// Pads with `value`: `widths[i]` elements before and after axis `i` (missing trailing
    /// axes are not padded).
    public func padded(_ widths: [(before: Int, after: Int)], value: Double = 0) -> Tensor {
        tensorCheck(widths.count <= rank, "[pad] \(widths.count) padding pairs for a tensor of rank \(rank)")
        for w in widths { tensorCheck(w.before >= 0 && w.after >= 0, "[pad] negative padding \(w)") }
        var shape = self.shape
        for (i, w) in widths.enumerated() { shape[i] += w.before + w.after }
        var out = Tensor.full(shape, value: value, dtype: dtype, device: device)
        let items: [TensorIndex] = widths.enumerated().map { i, w in TensorIndex.slice(start: w.before, end: w.before + self.shape[i], step: 1) }
        withoutGradients { out.assign(self, at: items) }
        return out.recorded("pad", self) { g, _ in [g.indexed(items)] }
    }
}
