import CTesseraKernels

/// exp for Float without a libm call (Cephes' expf: range reduction by ln 2, degree-6
/// polynomial, exponent assembled in the bits). Within 2 ulp of expf; exp(-inf) is exactly
/// 0 and NaN stays NaN, which masked softmax relies on. Written branch-light so that loops
/// over it vectorise.
@inline(__always)
func fastExp(_ v: Float) -> Float {
    // NaN would trap in the Int32 conversion below; it is put back at the end.
    let x = v.isNaN ? 0 : Swift.min(Swift.max(v, -87.33654), 88.72283)
    // floor by truncation: `rounded(.down)` becomes a floorf call on baseline x86-64
    // (roundss needs SSE4.1), which would stop the loop from vectorising.
    let t = x * 1.442695040888963 + 0.5
    let truncated = Int32(t)
    let k = truncated &- (t < Float(truncated) ? 1 : 0)
    let n = Float(k)
    var r = x - n * 0.693359375
    r = r - n * -2.12194440e-4
    var y: Float = 1.9875691500e-4
    y = y * r + 1.3981999507e-3
    y = y * r + 8.3334519073e-3
    y = y * r + 4.1665795894e-2
    y = y * r + 1.6666665459e-1
    y = y * r + 5.0000001201e-1
    y = y * (r * r) + r + 1
    let scale = Float(bitPattern: UInt32(bitPattern: (k &+ 127) &<< 23))
    var result = y * scale
    if v < -87.33654 { result = 0 }
    if v > 88.72283 { result = .infinity }
    if v.isNaN { result = v }
    return result
}

/// Writes `exp(x[i] - shift)` for a contiguous run and returns their sum (AVX2 when present).
@inline(__always)
func expRow(_ x: UnsafePointer<Float>, shift: Float, _ out: UnsafeMutablePointer<Float>, _ n: Int) -> Float {
    tessera_exp_shifted_sum_f32(x, shift, out, n)
}

@inline(__always)
func expRow(_ x: UnsafePointer<Double>, shift: Double, _ out: UnsafeMutablePointer<Double>, _ n: Int) -> Double {
    var total = 0.0
    for i in 0..<n {
        let e = Double._exp(x[i] - shift)
        out[i] = e
        total += e
    }
    return total
}

/// tanh and σ for element-wise kernels: Float through the polynomial `fastExp` (glibc's
/// tanhf goes through expm1f and was a fifth of a GPT step), Double through libm.
protocol FastActivations: TensorFloat {
    static func fastTanh(_ x: Self) -> Self
    static func fastSigmoid(_ x: Self) -> Self
    /// `out[i] = tanh(x[i])` / `σ(x[i])` for a contiguous run (vectorised for Float); `out` may be `x`.
    static func tanhRow(_ x: UnsafePointer<Self>, _ out: UnsafeMutablePointer<Self>, _ n: Int)
    static func sigmoidRow(_ x: UnsafePointer<Self>, _ out: UnsafeMutablePointer<Self>, _ n: Int)
}

extension Float: FastActivations {
    /// `sign(x)·(1 - e)/(1 + e)` with `e = exp(-2|x|)`; an odd Taylor polynomial below 0.125
    /// where `1 - e` would lose bits. Relative error below 5e-7 everywhere.
    @inline(__always) static func fastTanh(_ x: Float) -> Float {
        let a = Swift.abs(x)
        let e = fastExp(-2 * a)
        let large = (1 - e) / (1 + e)
        let x2 = x * x
        let small = a * (1 + x2 * (-1.0 / 3 + x2 * (2.0 / 15 + x2 * (-17.0 / 315))))
        let magnitude = a < 0.125 ? small : large
        return x.isNaN ? x : (x < 0 ? -magnitude : magnitude)
    }

    @inline(__always) static func fastSigmoid(_ x: Float) -> Float { 1 / (1 + fastExp(-x)) }

    @inline(__always) static func tanhRow(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int) {
        tessera_activation_f32(Int32(TESSERA_TANH), x, out, n)
    }

    @inline(__always) static func sigmoidRow(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int) {
        tessera_activation_f32(Int32(TESSERA_SIGMOID), x, out, n)
    }
}

extension Double: FastActivations {
    @inline(__always) static func fastTanh(_ x: Double) -> Double { Double._tanh(x) }
    @inline(__always) static func fastSigmoid(_ x: Double) -> Double { 1 / (1 + Double._exp(-x)) }

    static func tanhRow(_ x: UnsafePointer<Double>, _ out: UnsafeMutablePointer<Double>, _ n: Int) {
        for i in 0..<n { out[i] = Double._tanh(x[i]) }
    }

    static func sigmoidRow(_ x: UnsafePointer<Double>, _ out: UnsafeMutablePointer<Double>, _ n: Int) {
        for i in 0..<n { out[i] = 1 / (1 + Double._exp(-x[i])) }
    }
}
