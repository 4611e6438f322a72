/// Batch norm forward and backward per channel: a channel's values are `N` runs of the
/// spatial size, visited in place (no transposition), channels spread over the threads.
/// Forward: the mean, then the squared deviations (two passes, for accuracy, the second from
/// cache), then `x · scale + shift`. Backward: `Σg` and `Σg·(x - mean)` in one pass, then
/// `dx = g · a + x · b + c`. Other layouts and dtypes take the reference formula.
extension CPUBackend {
    private func batchNormFits(_ operands: Operand...) -> Bool {
        let dtype = operands[0].dtype
        return (dtype == .float32 || dtype == .float64) && operands.allSatisfy { $0.layout.isContiguous && $0.dtype == dtype }
    }

    public func batchNorm(_ x: Operand, weight: Operand, bias: Operand, epsilon: Double, into out: Operand,
                          mean: Operand, variance: Operand) {
        guard batchNormFits(x, weight, bias, out, mean, variance) else {
            return composedBatchNorm(x, weight: weight, bias: bias, epsilon: epsilon, into: out, mean: mean, variance: variance)
        }
        if x.dtype == .float32 { batchNormTyped(x, weight, bias, epsilon, out, mean, variance, Float.self) }
        else { batchNormTyped(x, weight, bias, epsilon, out, mean, variance, Double.self) }
    }

    public func batchNormBackward(_ x: Operand, gradient g: Operand, mean: Operand, variance: Operand, weight: Operand,
                                  epsilon: Double, into inputGradient: Operand, weightGradient: Operand, biasGradient: Operand) {
        guard batchNormFits(x, g, mean, variance, weight, inputGradient, weightGradient, biasGradient) else {
            return composedBatchNormBackward(x, gradient: g, weight: weight, epsilon: epsilon, into: inputGradient,
                                             weightGradient: weightGradient, biasGradient: biasGradient)
        }
        if x.dtype == .float32 {
            batchNormBackwardTyped(x, g, mean, variance, weight, epsilon, inputGradient, weightGradient, biasGradient, Float.self)
        } else {
            batchNormBackwardTyped(x, g, mean, variance, weight, epsilon, inputGradient, weightGradient, biasGradient, Double.self)
        }
    }

    /// `(N, C, spatial)` of a `[N, C, *]` operand.
    private func channelRuns(_ x: Operand) -> (n: Int, c: Int, spatial: Int) {
        let n = x.shape[0], c = x.shape[1]
        return (n, c, n * c == 0 ? 0 : x.elementCount / (n * c))
    }

    private func batchNormTyped<T: TensorFloat>(_ x: Operand, _ weight: Operand, _ bias: Operand, _ epsilon: Double, _ out: Operand,
                                                _ mean: Operand, _ variance: Operand, _ t: T.Type) {
        let (n, c, spatial) = channelRuns(x)
        let (xp, op, wp, bp) = (x.elements(T.self), out.elements(T.self), weight.elements(T.self), bias.elements(T.self))
        let (mp, vp) = (mean.elements(T.self), variance.elements(T.self))
        let count = Double(n * spatial)
        parallelChunks(count: c, cost: n * spatial * 4) { channels in
            for channel in channels {
                var total = 0.0
                for i in 0..<n { total += Double(contiguousSum(xp + (i * c + channel) * spatial, spatial)) }
                let m = T(total / count)
                var squares = 0.0
                for i in 0..<n { squares += Double(squaredDeviations(xp + (i * c + channel) * spatial, spatial, m)) }
                let v = T(squares / count)
                let scale = wp[channel] / (v + T(epsilon)).squareRoot(), shift = bp[channel] - m * scale
                for i in 0..<n {
                    let at = (i * c + channel) * spatial
                    combine(op + at, xp + at, scale, nil, 0, shift, spatial)
                }
                mp[channel] = m
                vp[channel] = v
            }
        }
    }

    private func batchNormBackwardTyped<T: TensorFloat>(_ x: Operand, _ g: Operand, _ mean: Operand, _ variance: Operand, _ weight: Operand,
                                                        _ epsilon: Double, _ dx: Operand, _ dw: Operand, _ db: Operand, _ t: T.Type) {
        let (n, c, spatial) = channelRuns(x)
        let (xp, gp, dxp) = (x.elements(T.self), g.elements(T.self), dx.elements(T.self))
        let (mp, vp, wp, dwp, dbp) = (mean.elements(T.self), variance.elements(T.self), weight.elements(T.self),
                                      dw.elements(T.self), db.elements(T.self))
        let count = T(n * spatial)
        parallelChunks(count: c, cost: n * spatial * 5) { channels in
            for channel in channels {
                let m = mp[channel], inverseStd = 1 / (vp[channel] + T(epsilon)).squareRoot()
                var sumG = 0.0, sumGC = 0.0
                for i in 0..<n {
                    let at = (i * c + channel) * spatial
                    let (a, b) = gradientSums(gp + at, xp + at, spatial, m)
                    sumG += Double(a)
                    sumGC += Double(b)
                }
                // dx = scale · (g - Σg/M - x̂ · Σg·x̂/M) with x̂ = (x - m)/σ, scale = w/σ:
                // g · scale + x · k + (-scale · Σg/M - m · k), k = -scale · Σg·(x-m) / (σ² M).
                let scale = wp[channel] * inverseStd
                let k = -scale * inverseStd * inverseStd * T(sumGC) / count
                let constant = -scale * T(sumG) / count - m * k
                for i in 0..<n {
                    let at = (i * c + channel) * spatial
                    combine(dxp + at, gp + at, scale, xp + at, k, constant, spatial)
                }
                dwp[channel] = T(sumGC) * inverseStd
                dbp[channel] = T(sumG)
            }
        }
    }
}

/// `Σ (p[i] - m)²`, eight lanes at a time.
func squaredDeviations<T: TensorFloat>(_ p: UnsafePointer<T>, _ n: Int, _ m: T) -> T {
    let raw = UnsafeRawPointer(p), center = SIMD8<T>(repeating: m)
    var a0 = SIMD8<T>(repeating: 0), a1 = a0, i = 0
    while i + 16 <= n {
        let d0 = raw.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.stride, as: SIMD8<T>.self) - center
        let d1 = raw.loadUnaligned(fromByteOffset: (i + 8) * MemoryLayout<T>.stride, as: SIMD8<T>.self) - center
        a0 += d0 * d0
        a1 += d1 * d1
        i += 16
    }
    var total = (a0 + a1).sum()
    while i < n { let d = p[i] - m; total += d * d; i += 1 }
    return total
}

/// `(Σ g[i], Σ g[i] · (x[i] - m))` in one pass.
func gradientSums<T: TensorFloat>(_ g: UnsafePointer<T>, _ x: UnsafePointer<T>, _ n: Int, _ m: T) -> (T, T) {
    let rg = UnsafeRawPointer(g), rx = UnsafeRawPointer(x), center = SIMD8<T>(repeating: m)
    var s = SIMD8<T>(repeating: 0), d = s, i = 0
    while i + 8 <= n {
        let gv = rg.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.stride, as: SIMD8<T>.self)
        s += gv
        d += gv * (rx.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.stride, as: SIMD8<T>.self) - center)
        i += 8
    }
    var sum = s.sum(), dot = d.sum()
    while i < n { sum += g[i]; dot += g[i] * (x[i] - m); i += 1 }
    return (sum, dot)
}

/// `out[i] = a[i] · p + b[i] · q + r` (`b` nil: no second term), eight lanes at a time.
func combine<T: TensorFloat>(_ out: UnsafeMutablePointer<T>, _ a: UnsafePointer<T>, _ p: T, _ b: UnsafePointer<T>?, _ q: T, _ r: T, _ n: Int) {
    let ro = UnsafeMutableRawPointer(out), ra = UnsafeRawPointer(a), stride = MemoryLayout<T>.stride
    let pv = SIMD8<T>(repeating: p), qv = SIMD8<T>(repeating: q), rv = SIMD8<T>(repeating: r)
    var i = 0
    if let b {
        let rb = UnsafeRawPointer(b)
        while i + 8 <= n {
            let v = ra.loadUnaligned(fromByteOffset: i * stride, as: SIMD8<T>.self) * pv
                + rb.loadUnaligned(fromByteOffset: i * stride, as: SIMD8<T>.self) * qv + rv
            ro.storeBytes(of: v, toByteOffset: i * stride, as: SIMD8<T>.self)
            i += 8
        }
        while i < n { out[i] = a[i] * p + b[i] * q + r; i += 1 }
    } else {
        while i + 8 <= n {
            ro.storeBytes(of: ra.loadUnaligned(fromByteOffset: i * stride, as: SIMD8<T>.self) * pv + rv, toByteOffset: i * stride, as: SIMD8<T>.self)
            i += 8
        }
        while i < n { out[i] = a[i] * p + r; i += 1 }
    }
}
