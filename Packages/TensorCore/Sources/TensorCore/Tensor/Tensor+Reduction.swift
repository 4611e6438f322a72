extension Tensor {
    /// Sorted, unique, non-negative axes; all axes when nil.
    func normalizedAxes(_ axes: [Int]?, _ op: StaticString) -> [Int] {
        guard let axes else { return Array(0..<rank) }
        var result: [Int] = []
        for axis in axes {
            let a = normalizedAxis(axis, rank: rank, op: op)
            tensorCheck(!result.contains(a), "[\(op)] axis \(axis) appears twice in \(axes)")
            result.append(a)
        }
        return result.sorted()
    }

    /// The shape with `axes` set to 1.
    func keptShape(_ axes: [Int]) -> [Int] {
        var s = shape
        for a in axes { s[a] = 1 }
        return s
    }

    /// The shape with `axes` removed.
    func droppedShape(_ axes: [Int]) -> [Int] {
        shape.enumerated().filter { !axes.contains($0.offset) }.map { $0.element }
    }

    func reduceKernel(_ op: ReduceOp, _ axes: [Int], keepDims: Bool, _ name: StaticString) -> Tensor {
        var x = self
        if op == .sum || op == .product, !dtype.isFloatingPoint { x = cast(to: .int64, differentiable: false) }
        let out = Tensor(uninitializedShape: keptShape(axes), dtype: x.dtype, backend: backend)
        if elementCount == 0 {
            // Empty reductions give the identity (sum 0, product 1), as NumPy.
            tensorCheck(op == .sum || op == .product, "[\(name)] cannot reduce an empty tensor of shape \(shapeText(shape))")
            backend.fill(out.operand, with: op == .sum ? 0 : 1)
        } else {
            backend.reduce(op, x.operand, axes: axes, into: out.operand)
        }
        return keepDims ? out : out.reshaped(to: droppedShape(axes))
    }

    /// Broadcasts a reduced gradient back over the reduced axes.
    func expandReduced(_ g: Tensor, _ axes: [Int], from input: Tensor) -> Tensor {
        g.reshaped(to: input.keptShape(axes)).expanded(to: input.shape)
    }

    /// Sum of all elements (a scalar).
    public func sum() -> Tensor { sum(axes: nil, keepDims: false) }

    /// Sum over `axes` (all when nil); `keepDims` keeps them with size 1.
    public func sum(axes: [Int]?, keepDims: Bool = false) -> Tensor {
        let x = self
        let axes = normalizedAxes(axes, "sum")
        if axes.isEmpty { return self }
        return reduceKernel(.sum, axes, keepDims: keepDims, "sum").recorded("sum", x) { g, _ in
            [x.expandReduced(g, axes, from: x)]
        }
    }

    /// The sum along `axis`.
    public func sum(axis: Int, keepDims: Bool = false) -> Tensor { sum(axes: [axis], keepDims: keepDims) }

    /// Mean of all elements.
    public func mean() -> Tensor { mean(axes: nil, keepDims: false) }

    /// The mean over `axes` (all when nil).
    public func mean(axes: [Int]?, keepDims: Bool = false) -> Tensor {
        let normalized = normalizedAxes(axes, "mean")
        tensorCheck(dtype.isFloatingPoint, "[mean] needs a floating-point tensor, got \(dtype); cast first")
        let count = normalized.reduce(1) { $0 * shape[$1] }
        // 0 / 0 gives NaN for an empty mean, as PyTorch.
        return sum(axes: normalized, keepDims: keepDims) / Double(count)
    }

    /// The mean along `axis`.
    public func mean(axis: Int, keepDims: Bool = false) -> Tensor { mean(axes: [axis], keepDims: keepDims) }

    /// Product over `axes`; the gradient is exact when elements are zero.
    public func product(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let x = self
        let axes = normalizedAxes(axes, "product")
        if axes.isEmpty { return self }
        return reduceKernel(.product, axes, keepDims: keepDims, "product").recorded("product", x, saveOutput: true) { g, y in
            let gx = x.expandReduced(g, axes, from: x)
            let yx = x.expandReduced(y, axes, from: x)
            let isZero = x .== 0
            // Where x is 0, d(prod)/dx is the product of the others: non-zero only for a lone zero.
            let withoutZeros = Tensor.where(isZero, Tensor.ones([], dtype: x.dtype), x)
            let othersProduct = x.expandReduced(withoutZeros.product(axes: axes, keepDims: true), axes, from: x)
            let zeroCount = x.expandReduced(isZero.cast(to: x.dtype).sum(axes: axes, keepDims: true), axes, from: x)
            let atZero = Tensor.where(zeroCount .== 1, othersProduct, Tensor.zeros([], dtype: x.dtype))
            let safeX = Tensor.where(isZero, Tensor.ones([], dtype: x.dtype), x)
            return [gx * Tensor.where(isZero, atZero, yx / safeX)]
        }
    }

    /// Extreme over `axes`; ties share the gradient equally.
    func extreme(_ op: ReduceOp, _ axes: [Int]?, keepDims: Bool, _ name: StaticString) -> Tensor {
        let x = self
        let axes = normalizedAxes(axes, name)
        if axes.isEmpty { return self }
        tensorCheck(elementCount > 0, "[\(name)] cannot reduce an empty tensor of shape \(shapeText(shape))")
        return reduceKernel(op, axes, keepDims: keepDims, name).recorded(name, [x], saveOutput: true) { g, y in
            let hit = (x .== x.expandReduced(y.detached(), axes, from: x)).cast(to: g.dtype)
            let ties = hit.sum(axes: axes, keepDims: true)
            return [x.expandReduced(g, axes, from: x) * hit / x.expandReduced(ties, axes, from: x)]
        }
    }

    /// Maximum of all elements.
    public func max() -> Tensor { extreme(.max, nil, keepDims: false, "max") }
    /// The maximum over `axes` (gradient split among ties).
    public func max(axes: [Int], keepDims: Bool = false) -> Tensor { extreme(.max, axes, keepDims: keepDims, "max") }
    /// The maximum along `axis`.
    public func max(axis: Int, keepDims: Bool = false) -> Tensor { extreme(.max, [axis], keepDims: keepDims, "max") }
    /// The smallest element.
    public func min() -> Tensor { extreme(.min, nil, keepDims: false, "min") }
    /// The minimum over `axes` (gradient split among ties).
    public func min(axes: [Int], keepDims: Bool = false) -> Tensor { extreme(.min, axes, keepDims: keepDims, "min") }
    /// The minimum along `axis`.
    public func min(axis: Int, keepDims: Bool = false) -> Tensor { extreme(.min, [axis], keepDims: keepDims, "min") }

    func argExtreme(_ op: ArgReduceOp, axis: Int?, keepDims: Bool, _ name: StaticString) -> Tensor {
        tensorCheck(elementCount > 0, "[\(name)] cannot reduce an empty tensor of shape \(shapeText(shape))")
        guard let axis else { return reshaped(to: [elementCount]).argExtreme(op, axis: 0, keepDims: false, name) }
        let a = normalizedAxis(axis, rank: rank, op: name)
        if rank == 0 { return Tensor.zeros([], dtype: .int64, device: device) }
        let out = Tensor(uninitializedShape: keptShape([a]), dtype: .int64, backend: backend)
        backend.argReduce(op, operand, axis: a, into: out.operand)
        return keepDims ? out : out.reshaped(to: droppedShape([a]))
    }

    /// Index (int64) of the maximum along `axis`, or into the flattened tensor when nil.
    public func argmax(axis: Int? = nil, keepDims: Bool = false) -> Tensor {
        argExtreme(.argmax, axis: axis, keepDims: keepDims, "argmax")
    }

    /// Index (int64) of the first minimum along `axis` (of the flattened tensor when nil).
    public func argmin(axis: Int? = nil, keepDims: Bool = false) -> Tensor {
        argExtreme(.argmin, axis: axis, keepDims: keepDims, "argmin")
    }

    /// Variance with Bessel's `correction` (1: unbiased, as `torch.var`; 0: population).
    public func variance(axes: [Int]? = nil, correction: Int = 1, keepDims: Bool = false) -> Tensor {
        let normalized = normalizedAxes(axes, "variance")
        let count = normalized.reduce(1) { $0 * shape[$1] }
        let centered = self - mean(axes: normalized, keepDims: true)
        return centered.squared().sum(axes: normalized, keepDims: keepDims) / Double(Swift.max(count - correction, 0))
    }

    /// The standard deviation over `axes` with Bessel's `correction` (as `torch.std`).
    public func standardDeviation(axes: [Int]? = nil, correction: Int = 1, keepDims: Bool = false) -> Tensor {
        variance(axes: axes, correction: correction, keepDims: keepDims).sqrt()
    }

    /// `log(sum(exp(x)))` over `axes`, computed without overflow.
    public func logSumExp(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let normalized = normalizedAxes(axes, "logSumExp")
        let m = withoutGradients { () -> Tensor in
            let raw = max(axes: normalized, keepDims: true)
            return Tensor.where(raw.isFinite(), raw, Tensor.zeros([], dtype: raw.dtype, device: raw.device))
        }
        let shifted = (self - m).exp().sum(axes: normalized, keepDims: true).log() + m
        return keepDims ? shifted : shifted.reshaped(to: droppedShape(normalized))
    }

    /// True when every element is non-zero.
    public func all(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let b = dtype == .bool ? self : (self .!= 0)
        let normalized = normalizedAxes(axes, "all")
        if b.elementCount == 0 { return Tensor.full(keptShape(normalized), value: 1, dtype: .bool, device: device).reshaped(to: keepDims ? keptShape(normalized) : droppedShape(normalized)) }
        return b.reduceKernel(.min, normalized, keepDims: keepDims, "all")
    }

    /// True when some element is non-zero.
    public func any(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let b = dtype == .bool ? self : (self .!= 0)
        let normalized = normalizedAxes(axes, "any")
        if b.elementCount == 0 { return Tensor.zeros(keepDims ? keptShape(normalized) : droppedShape(normalized), dtype: .bool, device: device) }
        return b.reduceKernel(.max, normalized, keepDims: keepDims, "any")
    }

    /// Running sum along `axis`.
    public func cumulativeSum(axis: Int) -> Tensor {
        let a = normalizedAxis(axis, rank: rank, op: "cumulativeSum")
        let x = dtype.isFloatingPoint || dtype == .int64 ? self : cast(to: .int64, differentiable: false)
        let out = Tensor(uninitializedShape: shape, dtype: x.dtype, backend: backend)
        if elementCount > 0 { backend.cumulativeSum(x.operand, axis: a, into: out.operand) }
        return out.recorded("cumulativeSum", self) { g, _ in
            [g.flipped(axes: [a]).cumulativeSum(axis: a).flipped(axes: [a])]
        }
    }
}
