extension CPUBackend {
    /// `index` seen over the output's shape: a 1-D index list becomes a broadcast along `axis`.
    private func broadcastIndices(_ indices: Operand, axis: Int, shape: [Int]) -> Layout {
        var strides = [Int](repeating: 0, count: shape.count)
        strides[axis] = indices.layout.strides[0]
        return Layout(shape: shape, strides: strides, offset: indices.layout.offset)
    }

    /// `x`'s layout with the indexed axis zeroed: the index supplies that coordinate.
    private func withoutAxis(_ layout: Layout, _ axis: Int, shape: [Int]) -> Layout {
        var strides = layout.strides
        strides[axis] = 0
        return Layout(shape: shape, strides: strides, offset: layout.offset)
    }

    public func gather(_ x: Operand, axis: Int, index: Operand, into out: Operand) {
        gatherElements(x, axis, index.layout, index.storage, out, op: "gather")
    }

    public func indexSelect(_ x: Operand, axis: Int, indices: Operand, into out: Operand) {
        gatherElements(x, axis, broadcastIndices(indices, axis: axis, shape: out.shape), indices.storage, out,
                       op: "indexSelect")
    }

    public func scatterAdd(_ source: Operand, axis: Int, index: Operand, into out: Operand) {
        scatterElements(source, axis, index.layout, index.storage, out, op: "scatterAdd")
    }

    public func indexAdd(_ source: Operand, axis: Int, indices: Operand, into out: Operand) {
        scatterElements(source, axis, broadcastIndices(indices, axis: axis, shape: source.shape), indices.storage,
                        out, op: "indexAdd")
    }

    private func gatherElements(_ x: Operand, _ axis: Int, _ indexLayout: Layout, _ indexStorage: Storage,
                                _ out: Operand, op: StaticString) {
        func run<T>(_ t: T.Type) {
            let xp = x.storage.pointer.assumingMemoryBound(to: T.self)
            let ip = indexStorage.pointer.assumingMemoryBound(to: Int64.self)
            let outp = out.storage.pointer.assumingMemoryBound(to: T.self)
            let limit = Int64(x.shape[axis]), step = x.layout.strides[axis]
            let plan = StridedPlan(shape: out.shape,
                                   layouts: [indexLayout, out.layout, withoutAxis(x.layout, axis, shape: out.shape)])
            let s = plan.innerStrides
            parallelChunks(count: plan.elementCount) { range in
                plan.forEachRow(in: range) { o, n in
                    var io = o[0], oo = o[1], xo = o[2]
                    for _ in 0..<n {
                        var i = ip[io]
                        if i < 0 { i += limit }
                        tensorCheck(i >= 0 && i < limit, "[\(op)] index \(ip[io]) is out of range for axis \(axis) of size \(limit)")
                        outp[oo] = xp[xo + Int(i) * step]
                        io += s[0]; oo += s[1]; xo += s[2]
                    }
                }
            }
        }
        switch x.dtype.byteSize {
        case 1: run(UInt8.self)
        case 2: run(UInt16.self)
        case 4: run(UInt32.self)
        default: run(UInt64.self)
        }
    }

    private func scatterElements(_ source: Operand, _ axis: Int, _ indexLayout: Layout, _ indexStorage: Storage,
                                 _ out: Operand, op: StaticString) {
        if source.dtype.isReducedPrecision {
            let wideOut = widened(out)
            scatterElements(widened(source), axis, indexLayout, indexStorage, wideOut, op: op)
            return copy(wideOut, into: out)
        }
        func run<T: ReducibleScalar>(_ t: T.Type) {
            let sp = source.storage.pointer.assumingMemoryBound(to: T.self)
            let ip = indexStorage.pointer.assumingMemoryBound(to: Int64.self)
            let outp = out.storage.pointer.assumingMemoryBound(to: T.self)
            let limit = Int64(out.shape[axis]), step = out.layout.strides[axis]
            let plan = StridedPlan(shape: source.shape,
                                   layouts: [indexLayout, source.layout, withoutAxis(out.layout, axis, shape: source.shape)])
            let s = plan.innerStrides
            // Serial: two source elements may land on the same output element.
            plan.forEachRow(in: 0..<plan.elementCount) { o, n in
                var io = o[0], so = o[1], oo = o[2]
                for _ in 0..<n {
                    var i = ip[io]
                    if i < 0 { i += limit }
                    tensorCheck(i >= 0 && i < limit, "[\(op)] index \(ip[io]) is out of range for axis \(axis) of size \(limit)")
                    outp[oo + Int(i) * step] += sp[so]
                    io += s[0]; so += s[1]; oo += s[2]
                }
            }
        }
        switch source.dtype {
        case .float32: run(Float.self)
        case .float64: run(Double.self)
        case .int32: run(Int32.self)
        case .int64: run(Int64.self)
        case .uint8: run(UInt8.self)
        default: tensorFailure("[\(op)] is not defined for \(source.dtype) tensors")
        }
    }

    public func sort(_ x: Operand, axis: Int, descending: Bool, values: Operand, indices: Operand) {
        if x.dtype.isReducedPrecision {
            let wideValues = makeOperand(shape: values.shape, dtype: .float32)
            sort(widened(x), axis: axis, descending: descending, values: wideValues, indices: indices)
            return copy(wideValues, into: values)
        }
        func run<T: ReducibleScalar>(_ t: T.Type) {
            let g = ReductionGeometry(x: x, out: values, axes: [axis])
            let ig = ReductionGeometry(x: x, out: indices, axes: [axis])
            let xp = x.storage.pointer.assumingMemoryBound(to: T.self)
            let vp = values.storage.pointer.assumingMemoryBound(to: T.self)
            let ip = indices.storage.pointer.assumingMemoryBound(to: Int64.self)
            let n = x.shape[axis]
            let xs = x.layout.strides[axis], vs = values.layout.strides[axis], iss = indices.layout.strides[axis]
            let kept = g.kept, ks = kept.innerStrides, iks = ig.kept.innerStrides
            // NaN sorts above every number, as in PyTorch.
            func before(_ a: T, _ b: T) -> Bool {
                if a.isNaNValue { return false }
                if b.isNaNValue { return true }
                return a < b
            }
            var lineStarts: [(Int, Int, Int)] = []
            var indexOffsets: [Int] = []
            ig.kept.forEachRow(in: 0..<ig.kept.elementCount) { o, count in
                for j in 0..<count { indexOffsets.append(o[1] + j * iks[1]) }
            }
            kept.forEachRow(in: 0..<kept.elementCount) { o, count in
                for j in 0..<count { lineStarts.append((o[0] + j * ks[0], o[1] + j * ks[1], 0)) }
            }
            parallelChunks(count: lineStarts.count, cost: n * 8) { range in
                var order = [Int](repeating: 0, count: n)
                for line in range {
                    let (xo, vo, _) = lineStarts[line]
                    let io = indexOffsets[line]
                    for i in 0..<n { order[i] = i }
                    // Stable: ties keep their original order.
                    order.sort { p, q in
                        let a = xp[xo + p * xs], b = xp[xo + q * xs]
                        let ab = descending ? before(b, a) : before(a, b)
                        let ba = descending ? before(a, b) : before(b, a)
                        return ab || (!ba && p < q)
                    }
                    for i in 0..<n {
                        vp[vo + i * vs] = xp[xo + order[i] * xs]
                        ip[io + i * iss] = Int64(order[i])
                    }
                }
            }
        }
        switch x.dtype {
        case .float32: run(Float.self)
        case .float64: run(Double.self)
        case .int32: run(Int32.self)
        case .int64: run(Int64.self)
        case .uint8, .bool: run(UInt8.self)
        default: break
        }
    }
}
