/// exp on eight floats at once (Cephes' expf: range reduction by ln 2, degree-6 polynomial).
/// Within 2 ulp of expf over the float range; exp(-inf) is exactly 0 and NaN stays NaN,
/// which masked softmax relies on.
@inline(__always)
func simdExp(_ v: SIMD8<Float>) -> SIMD8<Float> {
    let x = v.clamped(lowerBound: SIMD8(repeating: -87.33654), upperBound: SIMD8(repeating: 88.72283))
    let n = (x * 1.442695040888963 + 0.5).rounded(.down)
    var r = x - n * 0.693359375
    r = r - n * -2.12194440e-4
    var y = SIMD8<Float>(repeating: 1.9875691500e-4)
    y = y * r + 1.3981999507e-3
    y = y * r + 8.3334519073e-3
    y = y * r + 4.1665795894e-2
    y = y * r + 1.6666665459e-1
    y = y * r + 5.0000001201e-1
    y = y * (r * r) + r + 1
    let exponent = (SIMD8<Int32>(truncatingIfNeeded: SIMD8<Int32>(n)) &+ 127) &<< 23
    var result = y * unsafeBitCast(exponent, to: SIMD8<Float>.self)
    result.replace(with: 0, where: v .< -87.33654)
    result.replace(with: .infinity, where: v .> 88.72283)
    result.replace(with: v, where: v .!= v)
    return result
}

/// `exp` over a contiguous run, vectorised for Float; returns the sum of the results.
@inline(__always)
func expRow<T: TensorFloat>(_ x: UnsafePointer<T>, shift: T, _ out: UnsafeMutablePointer<T>, _ n: Int) -> T {
    var i = 0
    var total: T = 0
    if T.self == Float.self {
        let xs = UnsafeRawPointer(x), os = UnsafeMutableRawPointer(out)
        let s = SIMD8<Float>(repeating: shift as! Float)
        var acc = SIMD8<Float>(repeating: 0)
        while i + 8 <= n {
            let e = simdExp(xs.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) - s)
            os.storeBytes(of: e, toByteOffset: i * 4, as: SIMD8<Float>.self)
            acc += e
            i += 8
        }
        total = acc.sum() as! T
    }
    while i < n {
        let e = T._exp(x[i] - shift)
        out[i] = e
        total += e
        i += 1
    }
    return total
}
