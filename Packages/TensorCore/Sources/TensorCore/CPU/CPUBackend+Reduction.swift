import CTesseraKernels

/// Element types reductions and comparisons run on.
protocol ReducibleScalar: TensorScalar, Numeric, Comparable {
    static var lowest: Self { get }
    static var highest: Self { get }
    var isNaNValue: Bool { get }
}

extension Float: ReducibleScalar {
    static var lowest: Float { -.infinity }
    static var highest: Float { .infinity }
    var isNaNValue: Bool { isNaN }
}
extension Double: ReducibleScalar {
    static var lowest: Double { -.infinity }
    static var highest: Double { .infinity }
    var isNaNValue: Bool { isNaN }
}
extension Int32: ReducibleScalar {
    static var lowest: Int32 { .min }
    static var highest: Int32 { .max }
    var isNaNValue: Bool { false }
}
extension Int64: ReducibleScalar {
    static var lowest: Int64 { .min }
    static var highest: Int64 { .max }
    var isNaNValue: Bool { false }
}
extension UInt8: ReducibleScalar {
    static var lowest: UInt8 { .min }
    static var highest: UInt8 { .max }
    var isNaNValue: Bool { false }
}

/// How a reduction's input splits into kept axes (one per output element) and reduced axes.
struct ReductionGeometry {
    let kept: StridedPlan      // lanes: x, out
    let reduced: StridedPlan   // lane: x
    let keptShape: [Int]

    init(x: Operand, out: Operand, axes: [Int]) {
        let reducedSet = Set(axes)
        var keptShape: [Int] = [], keptX: [Int] = [], keptOut: [Int] = []
        var reducedShape: [Int] = [], reducedX: [Int] = []
        for axis in 0..<x.shape.count {
            if reducedSet.contains(axis) {
                reducedShape.append(x.shape[axis]); reducedX.append(x.layout.strides[axis])
            } else {
                keptShape.append(x.shape[axis]); keptX.append(x.layout.strides[axis])
                keptOut.append(out.layout.strides[axis])
            }
        }
        self.keptShape = keptShape
        kept = StridedPlan(shape: keptShape, layouts: [
            Layout(shape: keptShape, strides: keptX, offset: x.layout.offset),
            Layout(shape: keptShape, strides: keptOut, offset: out.layout.offset),
        ])
        reduced = StridedPlan(shape: reducedShape, layouts: [Layout(shape: reducedShape, strides: reducedX)])
    }
}

extension CPUBackend {
    public func reduce(_ op: ReduceOp, _ x: Operand, axes: [Int], into out: Operand) {
        if x.dtype.isReducedPrecision || out.dtype.isReducedPrecision {
            return inFloat32([x], out) { inputs, wide in self.reduce(op, inputs[0], axes: axes, into: wide) }
        }
        switch x.dtype {
        case .float32: reduceFloat(op, x, axes, out, Float.self)
        case .float64: reduceFloat(op, x, axes, out, Double.self)
        case .int32: reduceTyped(op, x, axes, out, Int32.self)
        case .int64: reduceTyped(op, x, axes, out, Int64.self)
        case .uint8: reduceTyped(op, x, axes, out, UInt8.self)
        case .bool:
            tensorCheck(op == .max || op == .min, "[reduce] \(op) is not defined for bool tensors")
            let bytes = Operand(storage: x.storage, layout: x.layout, dtype: .uint8)
            reduceTyped(op, bytes, axes, Operand(storage: out.storage, layout: out.layout, dtype: .uint8), UInt8.self)
        case .float16, .bfloat16: break
        }
    }

    /// Floats: contiguous rows use SIMD partial sums, so sums are also more accurate than a
    /// running scalar sum.
    private func reduceFloat<T: TensorFloat & ReducibleScalar>(_ op: ReduceOp, _ x: Operand, _ axes: [Int],
                                                              _ out: Operand, _ t: T.Type) {
        let g = ReductionGeometry(x: x, out: out, axes: axes)
        if op == .sum, g.reduced.shape.count == 1, g.reduced.innerStrides[0] == 1 {
            let xp = x.storage.pointer.assumingMemoryBound(to: T.self)
            let op = out.storage.pointer.assumingMemoryBound(to: T.self)
            let n = g.reduced.shape[0]
            let kept = g.kept
            parallelChunks(count: kept.elementCount, cost: n) { range in
                kept.forEachRow(in: range) { o, count in
                    var xo = o[0], oo = o[1]
                    for _ in 0..<count {
                        op[oo] = T.self == Float.self
                            ? unsafeBitCast(tessera_sum_f32(UnsafeRawPointer(xp + xo).assumingMemoryBound(to: Float.self), n), to: T.self)
                            : contiguousSum(xp + xo, n)
                        xo += kept.innerStrides[0]; oo += kept.innerStrides[1]
                    }
                }
            }
            return
        }
        reduceTyped(op, x, axes, out, T.self)
    }

    func reduceTyped<T: ReducibleScalar>(_ op: ReduceOp, _ x: Operand, _ axes: [Int],
                                         _ out: Operand, _ t: T.Type) {
        switch op {
        case .sum: reduceWith(SumCombiner<T>(), x, axes, out)
        case .product: reduceWith(ProductCombiner<T>(), x, axes, out)
        case .max: reduceWith(MaxCombiner<T>(), x, axes, out)
        case .min: reduceWith(MinCombiner<T>(), x, axes, out)
        }
    }

    /// A contiguous run reduced with four independent accumulators (vector sums for float32):
    /// one accumulator chains every add on the previous one, ~4 cycles each, which made
    /// per-channel statistics (batch norm's sums over N, H, W) the slowest part of a ResNet step.
    @inline(__always)
    private func reduceRun<C: Combiner>(_ c: C.Type, _ p: UnsafeMutablePointer<C.Element>, _ n: Int) -> C.Element {
        if C.self == SumCombiner<Float>.self {
            let sum = tessera_sum_f32(UnsafeRawPointer(p).assumingMemoryBound(to: Float.self), n)
            return unsafeBitCast(sum, to: C.Element.self)
        }
        var a0 = C.initial, a1 = C.initial, a2 = C.initial, a3 = C.initial
        var i = 0
        while i + 4 <= n {
            a0 = C.combine(a0, p[i]); a1 = C.combine(a1, p[i + 1]); a2 = C.combine(a2, p[i + 2]); a3 = C.combine(a3, p[i + 3])
            i += 4
        }
        while i < n { a0 = C.combine(a0, p[i]); i += 1 }
        return C.combine(C.combine(a0, a1), C.combine(a2, a3))
    }

    /// Generic over the combiner type (not a closure) so that every loop is specialised
    /// and the combine step inlined.
    private func reduceWith<C: Combiner>(_ c: C, _ x: Operand, _ axes: [Int], _ out: Operand) {
        typealias T = C.Element
        let g = ReductionGeometry(x: x, out: out, axes: axes)
        let xp = x.storage.pointer.assumingMemoryBound(to: T.self)
        let outp = out.storage.pointer.assumingMemoryBound(to: T.self)
        let kept = g.kept, reduced = g.reduced
        let reducedCount = reduced.elementCount
        let ks = kept.innerStrides
        // When kept elements are adjacent in x, accumulate whole rows at once (column sums).
        if kept.shape.count >= 1, ks[0] == 1, reduced.shape.count >= 1, kept.elementCount > 1 {
            parallelChunks(count: kept.elementCount, cost: reducedCount) { range in
                kept.forEachRow(in: range) { o, count in
                    let acc = outp + o[1]
                    let os = ks[1]
                    for j in 0..<count { acc[j * os] = C.initial }
                    let rs = reduced.innerStrides[0]
                    reduced.forEachRow(in: 0..<reducedCount) { r, rn in
                        var base = xp + o[0] + r[0]
                        for _ in 0..<rn {
                            if os == 1 && C.self == SumCombiner<Float>.self {
                                tessera_accumulate_f32(UnsafeMutableRawPointer(acc).assumingMemoryBound(to: Float.self),
                                                       UnsafeRawPointer(base).assumingMemoryBound(to: Float.self), count)
                            } else if os == 1 {
                                for j in 0..<count { acc[j] = C.combine(acc[j], base[j]) }
                            } else {
                                for j in 0..<count { acc[j * os] = C.combine(acc[j * os], base[j]) }
                            }
                            base += rs
                        }
                    }
                }
            }
            return
        }
        parallelChunks(count: kept.elementCount, cost: reducedCount) { range in
            kept.forEachRow(in: range) { o, count in
                var xo = o[0], oo = o[1]
                for _ in 0..<count {
                    var acc = C.initial
                    let rs = reduced.innerStrides[0]
                    reduced.forEachRow(in: 0..<reducedCount) { r, rn in
                        var p = xp + xo + r[0]
                        if rs == 1 {
                            acc = C.combine(acc, reduceRun(C.self, p, rn))
                        } else {
                            for _ in 0..<rn { acc = C.combine(acc, p.pointee); p += rs }
                        }
                    }
                    outp[oo] = acc
                    xo += ks[0]; oo += ks[1]
                }
            }
        }
    }

    public func argReduce(_ op: ArgReduceOp, _ x: Operand, axis: Int, into out: Operand) {
        let xs = x.dtype.isReducedPrecision ? widened(x) : x
        switch xs.dtype {
        case .float32: argReduceTyped(op, xs, axis, out, Float.self)
        case .float64: argReduceTyped(op, xs, axis, out, Double.self)
        case .int32: argReduceTyped(op, xs, axis, out, Int32.self)
        case .int64: argReduceTyped(op, xs, axis, out, Int64.self)
        case .uint8: argReduceTyped(op, xs, axis, out, UInt8.self)
        case .bool: argReduceTyped(op, Operand(storage: xs.storage, layout: xs.layout, dtype: .uint8), axis, out, UInt8.self)
        case .float16, .bfloat16: break
        }
    }

    private func argReduceTyped<T: ReducibleScalar>(_ op: ArgReduceOp, _ x: Operand, _ axis: Int,
                                                    _ out: Operand, _ t: T.Type) {
        let g = ReductionGeometry(x: x, out: out, axes: [axis])
        let xp = x.storage.pointer.assumingMemoryBound(to: T.self)
        let outp = out.storage.pointer.assumingMemoryBound(to: Int64.self)
        let n = x.shape[axis], step = x.layout.strides[axis]
        let kept = g.kept, ks = kept.innerStrides
        let wantMax = op == .argmax
        parallelChunks(count: kept.elementCount, cost: n) { range in
            kept.forEachRow(in: range) { o, count in
                var xo = o[0], oo = o[1]
                for _ in 0..<count {
                    var best = xp[xo], bestIndex = 0
                    if !best.isNaNValue {
                        for i in 1..<Swift.max(n, 1) {
                            let v = xp[xo + i * step]
                            if v.isNaNValue { best = v; bestIndex = i; break }
                            if wantMax ? v > best : v < best { best = v; bestIndex = i }
                        }
                    }
                    outp[oo] = Int64(bestIndex)
                    xo += ks[0]; oo += ks[1]
                }
            }
        }
    }

    public func cumulativeSum(_ x: Operand, axis: Int, into out: Operand) {
        if x.dtype.isReducedPrecision || out.dtype.isReducedPrecision {
            return inFloat32([x], out) { inputs, wide in self.cumulativeSum(inputs[0], axis: axis, into: wide) }
        }
        switch x.dtype {
        case .float32: cumulativeSumTyped(x, axis, out, Float.self)
        case .float64: cumulativeSumTyped(x, axis, out, Double.self)
        case .int32: cumulativeSumTyped(x, axis, out, Int32.self)
        case .int64: cumulativeSumTyped(x, axis, out, Int64.self)
        case .uint8: cumulativeSumTyped(x, axis, out, UInt8.self)
        default: tensorFailure("[cumulativeSum] is not defined for \(x.dtype) tensors")
        }
    }

    private func cumulativeSumTyped<T: ReducibleScalar>(_ x: Operand, _ axis: Int, _ out: Operand, _ t: T.Type) {
        let g = ReductionGeometry(x: x, out: Operand(storage: out.storage, layout: out.layout, dtype: out.dtype), axes: [axis])
        let xp = x.storage.pointer.assumingMemoryBound(to: T.self)
        let outp = out.storage.pointer.assumingMemoryBound(to: T.self)
        let n = x.shape[axis], xstep = x.layout.strides[axis], ostep = out.layout.strides[axis]
        let kept = g.kept, ks = kept.innerStrides
        parallelChunks(count: kept.elementCount, cost: n) { range in
            kept.forEachRow(in: range) { o, count in
                var xo = o[0], oo = o[1]
                for _ in 0..<count {
                    var running: T = 0
                    for i in 0..<n {
                        running += xp[xo + i * xstep]
                        outp[oo + i * ostep] = running
                    }
                    xo += ks[0]; oo += ks[1]
                }
            }
        }
    }
}

/// Sum of `n` contiguous floats with SIMD partial sums in blocks, block totals in Double.
@inline(__always)
func contiguousSum<T: TensorFloat>(_ p: UnsafePointer<T>, _ n: Int) -> T {
    var total = 0.0
    var i = 0
    let raw = UnsafeRawPointer(p)
    while i < n {
        let blockEnd = Swift.min(n, i + 4096)
        var a0 = SIMD8<T>(repeating: 0), a1 = SIMD8<T>(repeating: 0)
        while i + 16 <= blockEnd {
            a0 += raw.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.stride, as: SIMD8<T>.self)
            a1 += raw.loadUnaligned(fromByteOffset: (i + 8) * MemoryLayout<T>.stride, as: SIMD8<T>.self)
            i += 16
        }
        var s = (a0 + a1).sum()
        while i < blockEnd { s += p[i]; i += 1 }
        total += s.tensorDouble
    }
    return T(tensorDouble: total)
}

/// How a reduction folds two values; static so that loops specialise on it.
protocol Combiner {
    associatedtype Element: ReducibleScalar
    static var initial: Element { get }
    static func combine(_ a: Element, _ b: Element) -> Element
}

struct SumCombiner<Element: ReducibleScalar>: Combiner {
    static var initial: Element { 0 }
    @inline(__always) static func combine(_ a: Element, _ b: Element) -> Element { a + b }
}

struct ProductCombiner<Element: ReducibleScalar>: Combiner {
    static var initial: Element { 1 }
    @inline(__always) static func combine(_ a: Element, _ b: Element) -> Element { a * b }
}

/// NaN wins, as in PyTorch.
struct MaxCombiner<Element: ReducibleScalar>: Combiner {
    static var initial: Element { Element.lowest }
    @inline(__always) static func combine(_ a: Element, _ b: Element) -> Element {
        (b > a || b.isNaNValue) && !a.isNaNValue ? b : a
    }
}

struct MinCombiner<Element: ReducibleScalar>: Combiner {
    static var initial: Element { Element.highest }
    @inline(__always) static func combine(_ a: Element, _ b: Element) -> Element {
        (b < a || b.isNaNValue) && !a.isNaNValue ? b : a
    }
}
