/// Layer norm forward and backward as row kernels (one pass per row in cache); other layouts
/// and dtypes take the reference formula.
extension CPUBackend {
    public func layerNorm(_ x: Operand, epsilon: Double, into out: Operand) {
        guard let n = contiguousRows(x, out, axis: x.shape.count - 1), n > 0 else {
            return composedLayerNorm(x, epsilon: epsilon, into: out)
        }
        if x.dtype == .float32 { layerNormRows(x, out, n, epsilon, Float.self) } else { layerNormRows(x, out, n, epsilon, Double.self) }
    }

    private func layerNormRows<T: TensorFloat>(_ x: Operand, _ out: Operand, _ n: Int, _ epsilon: Double, _ t: T.Type) {
        let xp = x.elements(T.self)
        let op = out.elements(T.self)
        let rows = x.elementCount / n
        parallelChunks(count: rows, cost: n * 3) { range in
            for row in range {
                let xr = xp + row * n, orow = op + row * n
                let mean = contiguousSum(xr, n) / T(n)
                var variance: T = 0
                for i in 0..<n { let d = xr[i] - mean; variance += d * d }
                let scale = 1 / (variance / T(n) + T(epsilon)).squareRoot()
                for i in 0..<n { orow[i] = (xr[i] - mean) * scale }
            }
        }
    }

    public func layerNormBackward(_ x: Operand, normalized y: Operand, gradient g: Operand, epsilon: Double,
                                  into out: Operand) {
        let axis = x.shape.count - 1
        guard let n = contiguousRows(x, out, axis: axis), n > 0, [y, g].allSatisfy({ $0.layout.isContiguous && $0.dtype == x.dtype }) else {
            return composedLayerNormBackward(x, normalized: y, gradient: g, epsilon: epsilon, into: out)
        }
        if x.dtype == .float32 { layerNormBackwardRows(x, y, g, out, n, epsilon, Float.self) }
        else { layerNormBackwardRows(x, y, g, out, n, epsilon, Double.self) }
    }

    /// One pass per row: σ from x, then the two row means of g and g·y, then the output.
    private func layerNormBackwardRows<T: TensorFloat>(_ x: Operand, _ y: Operand, _ g: Operand, _ out: Operand, _ n: Int,
                                                       _ epsilon: Double, _ t: T.Type) {
        let xp = x.elements(T.self), yp = y.elements(T.self), gp = g.elements(T.self), op = out.elements(T.self)
        parallelChunks(count: x.elementCount / n, cost: n * 6) { range in
            for row in range {
                let xr = xp + row * n, yr = yp + row * n, gr = gp + row * n, orow = op + row * n
                let mean = contiguousSum(xr, n) / T(n)
                var variance: T = 0, sumG: T = 0, sumGY: T = 0
                for i in 0..<n {
                    let d = xr[i] - mean
                    variance += d * d
                    sumG += gr[i]
                    sumGY += gr[i] * yr[i]
                }
                let inverseSigma = 1 / (variance / T(n) + T(epsilon)).squareRoot()
                let meanG = sumG / T(n), meanGY = sumGY / T(n)
                for i in 0..<n { orow[i] = (gr[i] - meanG - yr[i] * meanGY) * inverseSigma }
            }
        }
    }
}
