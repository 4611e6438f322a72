import Foundation

/// A complex FFT of one length on split (real, imaginary) host buffers, unnormalised:
/// `X_k = Σ_j x_j e^{−2πijk/n}` forward, `e^{+2πijk/n}` inverse. Powers of two run an
/// iterative radix-2 Cooley–Tukey (radix-4 where two stages pair up) over precomputed
/// twiddles; any other length runs Bluestein's chirp-z algorithm as a convolution of
/// power-of-two length (O(n log n) for every n, primes included). Plans are cached per
/// (length, element type) and are immutable once built, so threads share them.
final class FFTPlan<T: TensorFloat>: @unchecked Sendable {
    let n: Int
    /// cos and −sin of 2πk/n for k < n/2 (power-of-two plans).
    private let twiddleRe: [T], twiddleIm: [T]
    private let bitReversed: [Int32]
    /// Bluestein: the chirp w_k = e^{−iπk²/n} and the transformed filter conj(w) of the inner length.
    private let inner: FFTPlan<T>?
    private let chirpRe: [T], chirpIm: [T], filterRe: [T], filterIm: [T]

    private init(n: Int) {
        self.n = n
        if n <= 1 || n & (n - 1) == 0 {
            let half = Swift.max(n / 2, 1)
            twiddleRe = (0..<half).map { T(tensorDouble: Foundation.cos(2 * Double.pi * Double($0) / Double(n))) }
            twiddleIm = (0..<half).map { T(tensorDouble: -Foundation.sin(2 * Double.pi * Double($0) / Double(n))) }
            let bits = n.trailingZeroBitCount
            bitReversed = (0..<n).map { i in bits == 0 ? 0 : Int32(truncatingIfNeeded: i.bitReversed(bits: bits)) }
            inner = nil
            chirpRe = []; chirpIm = []; filterRe = []; filterIm = []
        } else {
            twiddleRe = []; twiddleIm = []; bitReversed = []
            var m = 1
            while m < 2 * n - 1 { m <<= 1 }
            let plan = FFTPlan.shared(m)
            inner = plan
            // k² mod 2n keeps the angle exact for large k.
            let angles = (0..<n).map { k in Double.pi * Double((k * k) % (2 * n)) / Double(n) }
            chirpRe = angles.map { T(tensorDouble: Foundation.cos($0)) }
            chirpIm = angles.map { T(tensorDouble: -Foundation.sin($0)) }
            var fr = [T](repeating: 0, count: m), fi = [T](repeating: 0, count: m)
            for k in 0..<n {
                fr[k] = chirpRe[k]; fi[k] = -chirpIm[k]
                if k > 0 { fr[m - k] = chirpRe[k]; fi[m - k] = -chirpIm[k] }
            }
            fr.withUnsafeMutableBufferPointer { r in
                fi.withUnsafeMutableBufferPointer { i in plan.transform(r.baseAddress!, i.baseAddress!, inverse: false) }
            }
            filterRe = fr; filterIm = fi
        }
    }

    private static var cache: [Int: FFTPlan<T>] { get { FFTPlanCache.plans[ObjectIdentifier(T.self)] as? [Int: FFTPlan<T>] ?? [:] } }

    /// The cached plan of length `n`.
    static func shared(_ n: Int) -> FFTPlan<T> {
        FFTPlanCache.lock.lock()
        if let plan = cache[n] { FFTPlanCache.lock.unlock(); return plan }
        FFTPlanCache.lock.unlock()
        let plan = FFTPlan(n: n)  // built unlocked: a Bluestein plan asks for its inner one
        FFTPlanCache.lock.lock()
        defer { FFTPlanCache.lock.unlock() }
        var plans = cache
        if let existing = plans[n] { return existing }
        plans[n] = plan
        FFTPlanCache.plans[ObjectIdentifier(T.self)] = plans
        return plan
    }

    /// Transforms `n` values in place.
    func transform(_ re: UnsafeMutablePointer<T>, _ im: UnsafeMutablePointer<T>, inverse: Bool) {
        guard n > 1 else { return }
        // The inverse is the conjugate of the forward transform of the conjugate.
        if inverse { for i in 0..<n { im[i] = -im[i] } }
        if inner == nil { radix2(re, im) } else { bluestein(re, im) }
        if inverse { for i in 0..<n { im[i] = -im[i] } }
    }

    private func radix2(_ re: UnsafeMutablePointer<T>, _ im: UnsafeMutablePointer<T>) {
        bitReversed.withUnsafeBufferPointer { rev in
            for i in 0..<n {
                let j = Int(rev[i])
                if j > i { swap(&re[i], &re[j]); swap(&im[i], &im[j]) }
            }
        }
        twiddleRe.withUnsafeBufferPointer { wr in
            twiddleIm.withUnsafeBufferPointer { wi in
                // Stage of size 2: no twiddles.
                var i = 0
                while i < n {
                    let ar = re[i], ai = im[i], br = re[i + 1], bi = im[i + 1]
                    re[i] = ar + br; im[i] = ai + bi; re[i + 1] = ar - br; im[i + 1] = ai - bi
                    i += 2
                }
                var size = 4
                while size <= n {
                    let half = size / 2, step = n / size
                    var start = 0
                    while start < n {
                        let a = start, b = start + half
                        for k in 0..<half {
                            let c = wr[k * step], s = wi[k * step]
                            let xr = re[b + k], xi = im[b + k]
                            let tr = c * xr - s * xi, ti = c * xi + s * xr
                            let yr = re[a + k], yi = im[a + k]
                            re[a + k] = yr + tr; im[a + k] = yi + ti
                            re[b + k] = yr - tr; im[b + k] = yi - ti
                        }
                        start += size
                    }
                    size *= 2
                }
            }
        }
    }

    private func bluestein(_ re: UnsafeMutablePointer<T>, _ im: UnsafeMutablePointer<T>) {
        let plan = inner!, m = plan.n
        let ar = UnsafeMutablePointer<T>.allocate(capacity: m), ai = UnsafeMutablePointer<T>.allocate(capacity: m)
        defer { ar.deallocate(); ai.deallocate() }
        ar.update(repeating: 0, count: m); ai.update(repeating: 0, count: m)
        // a_k = x_k w_k, convolved with conj(w), then X_k = w_k (a ∗ conj w)_k.
        for k in 0..<n {
            let c = chirpRe[k], s = chirpIm[k]
            ar[k] = re[k] * c - im[k] * s; ai[k] = re[k] * s + im[k] * c
        }
        plan.transform(ar, ai, inverse: false)
        for k in 0..<m {
            let c = filterRe[k], s = filterIm[k], xr = ar[k], xi = ai[k]
            ar[k] = xr * c - xi * s; ai[k] = xr * s + xi * c
        }
        plan.transform(ar, ai, inverse: true)
        let scale = 1 / T(m)
        for k in 0..<n {
            let c = chirpRe[k], s = chirpIm[k], xr = ar[k] * scale, xi = ai[k] * scale
            re[k] = xr * c - xi * s; im[k] = xr * s + xi * c
        }
    }
}

/// The plans of every element type (a generic class cannot hold a static stored property).
enum FFTPlanCache {
    nonisolated(unsafe) static var plans: [ObjectIdentifier: Any] = [:]
    static let lock = NSLock()
}

extension Int {
    /// The low `bits` bits in reverse order.
    func bitReversed(bits: Int) -> Int {
        var x = self, r = 0
        for _ in 0..<bits { r = (r << 1) | (x & 1); x >>= 1 }
        return r
    }
}
