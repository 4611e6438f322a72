import Foundation

/// A complex FFT of one length on split (real, imaginary) host buffers, unnormalised:
/// `X_k = Σ_j x_j e^{−2πijk/n}` forward, `e^{+2πijk/n}` inverse. Powers of two run an
/// iterative radix-2 Cooley–Tukey (radix-4 where two stages pair up) over precomputed
/// twiddles; any other length runs Bluestein's chirp-z algorithm as a convolution of
/// power-of-two length (O(n log n) for every n, primes included). Plans are cached per
/// (length, element type) and are immutable once built, so threads share them.
final class FFTPlan<T: TensorFloat>: @unchecked Sendable {
    let n: Int
    /// Power-of-two plans: for each radix-4 pass of length L (n, n/4, ...), the twiddles
    /// e^{−2πi·jp/L} for j = 1, 2, 3 and p < L/4, contiguous per pass, interleaved (j-major).
    private let passTwiddles: [(re: [T], im: [T])]
    /// Bluestein: the chirp w_k = e^{−iπk²/n} and the transformed filter conj(w) of the inner length.
    private let inner: FFTPlan<T>?
    private let chirpRe: [T], chirpIm: [T], filterRe: [T], filterIm: [T]
    /// cos and −sin of 2πk/2n for k = 0...n: the twiddles that join the halves of a real
    /// transform of length 2n computed by this plan.
    let realTurnRe: [T], realTurnIm: [T]

    private init(n: Int) {
        self.n = n
        realTurnRe = (0...n).map { T(tensorDouble: Foundation.cos(Double.pi * Double($0) / Double(n))) }
        realTurnIm = (0...n).map { T(tensorDouble: -Foundation.sin(Double.pi * Double($0) / Double(n))) }
        if n <= 1 || n & (n - 1) == 0 {
            var tables: [(re: [T], im: [T])] = []
            var length = n
            while length >= 4 {
                let quarter = length / 4
                var re = [T](repeating: 0, count: 3 * quarter), im = [T](repeating: 0, count: 3 * quarter)
                for j in 1...3 {
                    for p in 0..<quarter {
                        let angle = 2 * Double.pi * Double(j * p) / Double(length)
                        re[(j - 1) * quarter + p] = T(tensorDouble: Foundation.cos(angle))
                        im[(j - 1) * quarter + p] = T(tensorDouble: -Foundation.sin(angle))
                    }
                }
                tables.append((re, im))
                length /= 4
            }
            passTwiddles = tables
            inner = nil
            chirpRe = []; chirpIm = []; filterRe = []; filterIm = []
        } else {
            passTwiddles = []
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

    /// Stockham autosort radix-4 (a radix-2 pass last when log₂ n is odd): every pass streams
    /// through the data into a second buffer in natural order, with no bit-reversal pass
    /// (which misses the cache on every element of a large transform). Pass of length L,
    /// stride s (L·s = n): for p < L/4 and q < s, the four inputs x[q + s(p + jL/4)] give
    /// y[q + s(4p + j)] with the pass's twiddles.
    private func radix2(_ re: UnsafeMutablePointer<T>, _ im: UnsafeMutablePointer<T>) {
        FFTScratch.with(T.self, count: 2 * n) { scratch in stockham(re, im, scratch, scratch + n) }
    }

    private func stockham(_ re: UnsafeMutablePointer<T>, _ im: UnsafeMutablePointer<T>,
                          _ scratchRe: UnsafeMutablePointer<T>, _ scratchIm: UnsafeMutablePointer<T>) {
        var xr = re, xi = im, yr = scratchRe, yi = scratchIm
        var length = n, s = 1, pass = 0
        while length >= 4 {
            let quarter = length / 4
            passTwiddles[pass].re.withUnsafeBufferPointer { wr in
                passTwiddles[pass].im.withUnsafeBufferPointer { wi in
                    var start = 0
                    if s == 1 && quarter >= 8 {
                        // The first pass: vectors over p (the inputs and twiddles are
                        // contiguous in p), the four outputs of each p interleaved lane by lane.
                        start = quarter
                        let w = (wr.baseAddress!, wi.baseAddress!)
                        for p in stride(from: 0, to: quarter, by: 8) {
                            let ar = load(xr + p), ai = load(xi + p), br = load(xr + quarter + p), bi = load(xi + quarter + p)
                            let cr = load(xr + 2 * quarter + p), ci = load(xi + 2 * quarter + p)
                            let dr = load(xr + 3 * quarter + p), di = load(xi + 3 * quarter + p)
                            let w1r = load(w.0 + p), w1i = load(w.1 + p), w2r = load(w.0 + quarter + p)
                            let w2i = load(w.1 + quarter + p), w3r = load(w.0 + 2 * quarter + p), w3i = load(w.1 + 2 * quarter + p)
                            let apcR = ar + cr, apcI = ai + ci, amcR = ar - cr, amcI = ai - ci
                            let bpdR = br + dr, bpdI = bi + di, jR = di - bi, jI = br - dr
                            let y0r = apcR + bpdR, y0i = apcI + bpdI
                            let t1r = amcR - jR, t1i = amcI - jI, t2r = apcR - bpdR, t2i = apcI - bpdI
                            let t3r = amcR + jR, t3i = amcI + jI
                            let y1r = t1r * w1r - t1i * w1i, y1i = t1r * w1i + t1i * w1r
                            let y2r = t2r * w2r - t2i * w2i, y2i = t2r * w2i + t2i * w2r
                            let y3r = t3r * w3r - t3i * w3i, y3i = t3r * w3i + t3i * w3r
                            let outR = yr + 4 * p, outI = yi + 4 * p
                            for l in 0..<8 {
                                outR[4 * l] = y0r[l]; outR[4 * l + 1] = y1r[l]; outR[4 * l + 2] = y2r[l]; outR[4 * l + 3] = y3r[l]
                                outI[4 * l] = y0i[l]; outI[4 * l + 1] = y1i[l]; outI[4 * l + 2] = y2i[l]; outI[4 * l + 3] = y3i[l]
                            }
                        }
                    }
                    for p in start..<quarter {
                        let w1r = wr[p], w1i = wi[p], w2r = wr[quarter + p], w2i = wi[quarter + p]
                        let w3r = wr[2 * quarter + p], w3i = wi[2 * quarter + p]
                        let a = s * p, b = s * (p + quarter), c = s * (p + 2 * quarter), d = s * (p + 3 * quarter)
                        let o = s * 4 * p
                        var q = 0
                        // Eight lanes of q at a time where the stride allows (every pass but the first two).
                        while q + 8 <= s {
                            let ar = load(xr + a + q), ai = load(xi + a + q), br = load(xr + b + q), bi = load(xi + b + q)
                            let cr = load(xr + c + q), ci = load(xi + c + q), dr = load(xr + d + q), di = load(xi + d + q)
                            let apcR = ar + cr, apcI = ai + ci, amcR = ar - cr, amcI = ai - ci
                            let bpdR = br + dr, bpdI = bi + di, jR = di - bi, jI = br - dr
                            store(apcR + bpdR, yr + o + q); store(apcI + bpdI, yi + o + q)
                            let t1r = amcR - jR, t1i = amcI - jI
                            store(t1r * w1r - t1i * w1i, yr + o + s + q); store(t1r * w1i + t1i * w1r, yi + o + s + q)
                            let t2r = apcR - bpdR, t2i = apcI - bpdI
                            store(t2r * w2r - t2i * w2i, yr + o + 2 * s + q); store(t2r * w2i + t2i * w2r, yi + o + 2 * s + q)
                            let t3r = amcR + jR, t3i = amcI + jI
                            store(t3r * w3r - t3i * w3i, yr + o + 3 * s + q); store(t3r * w3i + t3i * w3r, yi + o + 3 * s + q)
                            q += 8
                        }
                        while q < s {
                            let ar = xr[a + q], ai = xi[a + q], br = xr[b + q], bi = xi[b + q]
                            let cr = xr[c + q], ci = xi[c + q], dr = xr[d + q], di = xi[d + q]
                            let apcR = ar + cr, apcI = ai + ci, amcR = ar - cr, amcI = ai - ci
                            let bpdR = br + dr, bpdI = bi + di
                            // j (b − d): multiplied by i.
                            let jR = -(bi - di), jI = br - dr
                            yr[o + q] = apcR + bpdR; yi[o + q] = apcI + bpdI
                            let t1r = amcR - jR, t1i = amcI - jI
                            yr[o + s + q] = t1r * w1r - t1i * w1i; yi[o + s + q] = t1r * w1i + t1i * w1r
                            let t2r = apcR - bpdR, t2i = apcI - bpdI
                            yr[o + 2 * s + q] = t2r * w2r - t2i * w2i; yi[o + 2 * s + q] = t2r * w2i + t2i * w2r
                            let t3r = amcR + jR, t3i = amcI + jI
                            yr[o + 3 * s + q] = t3r * w3r - t3i * w3i; yi[o + 3 * s + q] = t3r * w3i + t3i * w3r
                            q += 1
                        }
                    }
                }
            }
            swap(&xr, &yr); swap(&xi, &yi)
            length /= 4; s *= 4; pass += 1
        }
        if length == 2 {
            for q in 0..<s {
                let ar = xr[q], ai = xi[q], br = xr[s + q], bi = xi[s + q]
                yr[q] = ar + br; yi[q] = ai + bi; yr[s + q] = ar - br; yi[s + q] = ai - bi
            }
            swap(&xr, &yr); swap(&xi, &yi)
        }
        if xr != re {
            re.update(from: xr, count: n); im.update(from: xi, count: n)
        }
    }

    @inline(__always) private func load(_ p: UnsafePointer<T>) -> SIMD8<T> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<T>.self)
    }

    @inline(__always) private func load(_ p: UnsafeMutablePointer<T>) -> SIMD8<T> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<T>.self)
    }

    @inline(__always) private func store(_ v: SIMD8<T>, _ p: UnsafeMutablePointer<T>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<T>.self)
    }

    private func bluestein(_ re: UnsafeMutablePointer<T>, _ im: UnsafeMutablePointer<T>) {
        let plan = inner!, m = plan.n
        FFTScratch.with(T.self, count: 2 * m) { scratch in bluestein(re, im, scratch, scratch + m) }
    }

    private func bluestein(_ re: UnsafeMutablePointer<T>, _ im: UnsafeMutablePointer<T>,
                           _ ar: UnsafeMutablePointer<T>, _ ai: UnsafeMutablePointer<T>) {
        let plan = inner!, m = plan.n
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
