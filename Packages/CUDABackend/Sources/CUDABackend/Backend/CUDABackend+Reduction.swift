import TensorCore

extension CUDABackend {
    /// The layout over the axes in `axes` only (shape and the operand's strides), coalesced.
    func subLayout(_ operand: Operand, axes: [Int]) -> StridedArgument {
        let shape = axes.map { operand.shape[$0] }
        let (s, strides) = coalesced(shape: shape, strides: [axes.map { operand.layout.strides[$0] }])
        return StridedArgument(shape: s, strides: strides[0])
    }

    /// Kept axes of `x` and `out` walked together (out's reduced axes have extent 1).
    func keptLayouts(_ x: Operand, _ out: Operand, kept: [Int]) -> (x: StridedArgument, out: StridedArgument) {
        let shape = kept.map { x.shape[$0] }
        let (s, strides) = coalesced(shape: shape, strides: [kept.map { x.layout.strides[$0] }, kept.map { out.layout.strides[$0] }])
        return (StridedArgument(shape: s, strides: strides[0]), StridedArgument(shape: s, strides: strides[1]))
    }

    public func reduce(_ op: ReduceOp, _ x: Operand, axes: [Int], into out: Operand) {
        let rank = x.shape.count
        let reducedAxes = axes.map { $0 < 0 ? $0 + rank : $0 }.sorted()
        let keptAxes = (0..<rank).filter { !reducedAxes.contains($0) }
        let outputs = out.elementCount
        let reducedCount = reducedAxes.reduce(1) { $0 * x.shape[$1] }
        let code: Int32 = op == .sum ? 0 : (op == .product ? 1 : (op == .max ? 2 : 3))
        writing(out, as: x.dtype) { out in
            if reducedCount == 0 { return fill(out, with: op == .sum ? 0 : (op == .product ? 1 : .nan)) }
            let kept = keptLayouts(x, out, kept: keptAxes)
            let reduced = subLayout(x, axes: reducedAxes)
            // A block per output for long reductions or few outputs, a thread per output otherwise.
            let perBlock = reducedCount >= 1024 || outputs < 2 * multiprocessorCount * 32
            launch(perBlock ? .reduceBlock : .reduceThread, x.dtype, count: perBlock ? outputs * 256 : outputs,
                   blocks: perBlock ? min(outputs, 65_535) : nil) { a in
                a.append(x); a.append(kept.x); a.append(reduced); a.append(Int64(reducedCount))
                a.append(out); a.append(kept.out); a.append(Int64(outputs)); a.append(code)
            }
        }
    }

    public func argReduce(_ op: ArgReduceOp, _ x: Operand, axis: Int, into out: Operand) {
        tensorCheck(out.dtype == .int64, "[\(op)] writes int64 indices, got an output of \(out.dtype)")
        let keptAxes = (0..<x.shape.count).filter { $0 != axis }
        let kept = keptLayouts(x, out, kept: keptAxes)
        let outputs = out.elementCount
        launch(.argReduce, x.dtype, count: outputs) { a in
            a.append(x); a.append(kept.x); a.append(Int64(x.shape[axis])); a.append(Int64(x.layout.strides[axis]))
            a.append(out); a.append(kept.out); a.append(Int64(outputs)); a.append(Int32(op == .argmax ? 0 : 1))
        }
    }

    public func cumulativeSum(_ x: Operand, axis: Int, into out: Operand) {
        let keptAxes = (0..<x.shape.count).filter { $0 != axis }
        writing(out, as: x.dtype) { out in
            let lines = keptLayouts(x, out, kept: keptAxes)
            let count = keptAxes.reduce(1) { $0 * x.shape[$1] }
            launch(.cumulativeSum, x.dtype, count: count) { a in
                a.append(x); a.append(lines.x); a.append(Int64(x.layout.strides[axis]))
                a.append(out); a.append(lines.out); a.append(Int64(out.layout.strides[axis]))
                a.append(Int64(x.shape[axis])); a.append(Int64(count))
            }
        }
    }

    // MARK: RandomOps

    public func fillRandom(_ out: Operand, distribution: RandomDistribution, seed: UInt64, counter: UInt64) {
        guard out.layout.isContiguous else {
            let temporary = makeOperand(shape: out.shape, dtype: out.dtype)
            fillRandom(temporary, distribution: distribution, seed: seed, counter: counter)
            return copy(temporary, into: out)
        }
        let kind: Int32, a: Double, b: Double, lo: Int64, hi: Int64
        switch distribution {
        case .uniform(let low, let high): (kind, a, b, lo, hi) = (0, low, high, 0, 0)
        case .normal(let mean, let sd): (kind, a, b, lo, hi) = (1, mean, sd, 0, 0)
        case .bernoulli(let p): (kind, a, b, lo, hi) = (2, p, 0, 0, 0)
        case .integers(let low, let high): (kind, a, b, lo, hi) = (3, 0, 0, low, high)
        }
        // As the CPU backend: float64 and int64 draw 53-bit uniforms from two words.
        let wide: Int32 = out.dtype == .float64 || out.dtype == .int64 ? 1 : 0
        let n = out.elementCount
        launch(.fillRandom, out.dtype, count: (n + 1) / 2) { args in
            args.append(out); args.append(Int64(n)); args.append(kind); args.append(a); args.append(b)
            args.append(lo); args.append(hi); args.append(seed); args.append(counter); args.append(wide)
        }
    }
}
