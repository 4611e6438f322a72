import Dispatch
import Foundation

/// The FFT kernels over batches of rows in host memory. Complex values are interleaved
/// (re, im) pairs, as the tensors hold them; each row is split into real and imaginary
/// scratch for the plan and interleaved back. Rows run in parallel when there are several.
enum HostFFT {
    /// Rows at a time per worker: at least ~64K points, so small batches stay on one thread.
    private static func forEachRow(_ rows: Int, points: Int, _ body: (Range<Int>) -> Void) {
        let chunks = Swift.min(rows, Swift.max(1, rows * points / 65_536), 16)
        if chunks <= 1 { body(0..<rows); return }
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            body((rows * c / chunks)..<(rows * (c + 1) / chunks))
        }
    }

    /// `x`, `out`: `[rows, n, 2]`.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func complex<T: TensorFloat>(_ x: UnsafePointer<T>, rows: Int, n: Int, inverse: Bool,
                                        into out: UnsafeMutablePointer<T>) {
        guard n > 0 else { return }
        let plan = FFTPlan<T>.shared(n)
        forEachRow(rows, points: n) { range in
            FFTScratch.with(T.self, count: 2 * n) { re in
            let im = re + n
            for row in range {
                let src = x + row * 2 * n, dst = out + row * 2 * n
                for j in 0..<n { re[j] = src[2 * j]; im[j] = src[2 * j + 1] }
                plan.transform(re, im, inverse: inverse)
                for j in 0..<n { dst[2 * j] = re[j]; dst[2 * j + 1] = im[j] }
            }
            }
        }
    }

    /// Real `x [rows, n]` to the half spectrum `out [rows, n/2 + 1, 2]`. An even length packs
    /// the row as n/2 complex values (evens real, odds imaginary) and untangles the result:
    /// half the work of a complex transform.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func real<T: TensorFloat>(_ x: UnsafePointer<T>, rows: Int, n: Int, into out: UnsafeMutablePointer<T>) {
        let bins = n / 2 + 1
        realRows(rows: rows, n: n) { (plan: FFTPlan<T>, even, h, range, re, im) in
            let turn = (plan.realTurnRe, plan.realTurnIm)
            turn.0.withUnsafeBufferPointer { tc in turn.1.withUnsafeBufferPointer { ts in
            let turn = (tc, ts)
            for row in range {
                let src = x + row * n, dst = out + row * 2 * bins
                if !even {
                    for j in 0..<n { re[j] = src[j]; im[j] = 0 }
                    plan.transform(re, im, inverse: false)
                    for k in 0..<bins { dst[2 * k] = re[k]; dst[2 * k + 1] = im[k] }
                    continue
                }
                for j in 0..<h { re[j] = src[2 * j]; im[j] = src[2 * j + 1] }
                plan.transform(re, im, inverse: false)
                // E_k = (Z_k + conj Z_{h−k}) / 2, O_k = (Z_k − conj Z_{h−k}) / 2i, X_k = E_k + w^k O_k;
                // bins 0 and h (both from Z_0) first, so the loop needs no index wrap.
                dst[0] = re[0] + im[0]; dst[1] = 0
                dst[2 * h] = re[0] - im[0]; dst[2 * h + 1] = 0
                let half = T(1) / 2
                for k in 1..<h {
                    let zr = re[k], zi = im[k], cr = re[h - k], ci = -im[h - k]
                    let er = (zr + cr) * half, ei = (zi + ci) * half
                    let or = (zi - ci) * half, oi = (cr - zr) * half
                    let c = turn.0[k], s = turn.1[k]
                    dst[2 * k] = er + c * or - s * oi
                    dst[2 * k + 1] = ei + c * oi + s * or
                }
            }
            } }
        }
    }

    /// The half spectrum `x [rows, n/2 + 1, 2]` to real `out [rows, n]`, unnormalised (n times
    /// the inverse), the Hermitian extension implied; the imaginary parts of bin 0 and (even n)
    /// bin n/2 are ignored, as NumPy's and PyTorch's.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func realInverse<T: TensorFloat>(_ x: UnsafePointer<T>, rows: Int, n: Int, into out: UnsafeMutablePointer<T>) {
        let bins = n / 2 + 1
        realRows(rows: rows, n: n) { (plan: FFTPlan<T>, even, h, range, re, im) in
            let turn = (plan.realTurnRe, plan.realTurnIm)
            for row in range {
                let src = x + row * 2 * bins, dst = out + row * n
                func bin(_ k: Int) -> (T, T) {
                    (src[2 * k], k == 0 || (even && k == h) ? 0 : src[2 * k + 1])
                }
                if !even {
                    for k in 0..<n {
                        let (r, i) = k < bins ? bin(k) : bin(n - k)
                        re[k] = r; im[k] = k < bins ? i : -i
                    }
                    plan.transform(re, im, inverse: true)
                    for j in 0..<n { dst[j] = re[j] }
                    continue
                }
                // E_k = (X_k + conj X_{h−k}) / 2, O_k = (X_k − conj X_{h−k}) w^{−k} / 2, Z = E + i O;
                // the inverse of length h then holds (evens, odds) scaled by h: doubled to n.
                for k in 0..<h {
                    let (xr, xi) = bin(k), (yr, yi0) = bin(h - k)
                    let yi = -yi0
                    let er = (xr + yr) / 2, ei = (xi + yi) / 2
                    let dr = (xr - yr) / 2, di = (xi - yi) / 2
                    let c = turn.0[k], s = -turn.1[k]  // w^{−k}
                    let or = dr * c - di * s, oi = dr * s + di * c
                    re[k] = er - oi; im[k] = ei + or
                }
                plan.transform(re, im, inverse: true)
                for j in 0..<h { dst[2 * j] = 2 * re[j]; dst[2 * j + 1] = 2 * im[j] }
            }
        }
    }

    /// The frame both real transforms share: an even length is transformed as n/2 complex
    /// values, an odd one as n; each worker gets its rows and a split scratch row.
    private static func realRows<T: TensorFloat>(rows: Int, n: Int,
                                                 _ body: (FFTPlan<T>, Bool, Int, Range<Int>, UnsafeMutablePointer<T>,
                                                          UnsafeMutablePointer<T>) -> Void) {
        guard n > 0 else { return }
        let even = n % 2 == 0 && n >= 2
        let h = even ? n / 2 : n
        let plan = FFTPlan<T>.shared(h)
        forEachRow(rows, points: n) { range in
            FFTScratch.with(T.self, count: 2 * h) { re in body(plan, even, h, range, re, re + h) }
        }
    }
}
