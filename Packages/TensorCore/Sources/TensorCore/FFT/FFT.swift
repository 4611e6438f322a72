/// How a transform pair shares the 1/n (`torch.fft`'s `norm`): `.backward` leaves the
/// forward transform unscaled and divides the inverse by n, `.forward` the reverse, `.ortho`
/// scales both by 1/√n (unitary).
public enum FFTNormalization: Sendable {
    /// Forward unscaled, inverse divided by n (the default, NumPy's and PyTorch's).
    case backward
    /// Forward divided by n, inverse unscaled.
    case forward
    /// Both scaled by 1/√n.
    case ortho

    func scale(_ n: Int, inverse: Bool) -> Double {
        switch self {
        case .backward: return inverse ? 1 / Double(n) : 1
        case .forward: return inverse ? 1 : 1 / Double(n)
        case .ortho: return 1 / Double(n).squareRoot()
        }
    }
}

/// Fast Fourier transforms with gradients, following `torch.fft`, for any length (radix-2
/// for powers of two, Bluestein's algorithm otherwise), float32 and float64.
///
/// **Complex numbers are real tensors with a trailing axis of 2** holding (real, imaginary),
/// as `torch.view_as_real`: a complex signal of n points is `[..., n, 2]`. Axes passed to
/// the complex functions count over the complex shape (the trailing 2 excluded). `complex`,
/// `real`, `imaginary`, `multiply` and `magnitude` work in this representation.
///
/// ```swift
/// let spectrum = FFT.rfft(signal)                         // [..., n/2 + 1, 2]
/// let back = FFT.irfft(spectrum, length: signal.shape.last!)
/// let smoothed = FFT.convolve(signal, kernel)             // full linear convolution
/// ```
public enum FFT {
    /// The discrete Fourier transform of complex `x [..., n, 2]` along `axis` (of the complex
    /// shape), zero-padded or trimmed to `length` first when given.
    public static func fft(_ x: Tensor, length: Int? = nil, axis: Int = -1,
                           normalization: FFTNormalization = .backward) -> Tensor {
        complexTransform(x, length: length, axis: axis, inverse: false, normalization: normalization, op: "FFT.fft")
    }

    /// The inverse of `fft` (with the same normalization).
    public static func ifft(_ x: Tensor, length: Int? = nil, axis: Int = -1,
                            normalization: FFTNormalization = .backward) -> Tensor {
        complexTransform(x, length: length, axis: axis, inverse: true, normalization: normalization, op: "FFT.ifft")
    }

    /// The transform of real `x` along `axis`, the non-negative frequencies only (the rest
    /// are their conjugates): `[..., n]` -> `[..., n/2 + 1, 2]`. Half the work of `fft`.
    public static func rfft(_ x: Tensor, length: Int? = nil, axis: Int = -1,
                            normalization: FFTNormalization = .backward) -> Tensor {
        checkFloat(x, "FFT.rfft")
        let a = normalizedAxis(axis, rank: x.rank, op: "FFT.rfft")
        let last = x.rank - 1
        var moved = a == last ? x : x.transposed(a, last)
        if let length { moved = resized(moved, axis: last, to: length, op: "FFT.rfft") }
        let n = moved.shape[last]
        var out = realTransform(moved)
        let scale = normalization.scale(n, inverse: false)
        if scale != 1 { out = out * scale }
        return a == last ? out : out.transposed(a, last)
    }

    /// Real signals of `length` (default `2 (m − 1)`) from their half spectrum
    /// `x [..., m, 2]` along `axis`, the inverse of `rfft`; the input is trimmed or
    /// zero-padded to `length / 2 + 1` bins, and the imaginary parts of bin 0 and (even
    /// length) the last bin are ignored, as PyTorch's.
    public static func irfft(_ x: Tensor, length: Int? = nil, axis: Int = -1,
                             normalization: FFTNormalization = .backward) -> Tensor {
        checkComplex(x, "FFT.irfft")
        let a = normalizedAxis(axis, rank: x.rank - 1, op: "FFT.irfft")
        let last = x.rank - 2
        var moved = a == last ? x : x.transposed(a, last)
        let n = length ?? 2 * (moved.shape[last] - 1)
        tensorCheck(n >= 1, "[FFT.irfft] output length must be positive, got \(n) (from \(shapeText(x.shape)))")
        moved = resized(moved, axis: last, to: n / 2 + 1, op: "FFT.irfft")
        var out = realInverseTransform(moved, length: n)
        let scale = normalization.scale(n, inverse: true)
        if scale != 1 { out = out * scale }
        return a == last ? out : out.transposed(a, out.rank - 1)
    }

    /// `fft` over two axes of the complex shape (default the last two).
    public static func fft2(_ x: Tensor, axes: (Int, Int) = (-2, -1), normalization: FFTNormalization = .backward) -> Tensor {
        fft(fft(x, axis: axes.1, normalization: normalization), axis: axes.0, normalization: normalization)
    }

    /// The inverse of `fft2`.
    public static func ifft2(_ x: Tensor, axes: (Int, Int) = (-2, -1), normalization: FFTNormalization = .backward) -> Tensor {
        ifft(ifft(x, axis: axes.1, normalization: normalization), axis: axes.0, normalization: normalization)
    }

    /// The 2-D transform of real `x [..., h, w]`: `[..., h, w/2 + 1, 2]`.
    public static func rfft2(_ x: Tensor, normalization: FFTNormalization = .backward) -> Tensor {
        fft(rfft(x, normalization: normalization), axis: -2, normalization: normalization)
    }

    /// Real `[..., h, width]` from `rfft2`'s output (`width` default `2 (m − 1)`).
    public static func irfft2(_ x: Tensor, width: Int? = nil, normalization: FFTNormalization = .backward) -> Tensor {
        irfft(ifft(x, axis: -2, normalization: normalization), length: width, normalization: normalization)
    }

    /// The full linear convolution of `a [..., na]` and `b [..., nb]` along the last axis
    /// (leading axes broadcast): `[..., na + nb − 1]`, as `numpy.convolve` or
    /// `scipy.signal.fftconvolve`, through real transforms of a power-of-two length.
    public static func convolve(_ a: Tensor, _ b: Tensor) -> Tensor {
        checkFloat(a, "FFT.convolve"); checkFloat(b, "FFT.convolve")
        tensorCheck(a.dtype == b.dtype, "[FFT.convolve] a is \(a.dtype) and b is \(b.dtype)")
        let na = a.shape[a.rank - 1], nb = b.shape[b.rank - 1]
        tensorCheck(na > 0 && nb > 0, "[FFT.convolve] needs non-empty signals, got \(shapeText(a.shape)) and \(shapeText(b.shape))")
        let n = na + nb - 1
        var size = 1
        while size < n { size <<= 1 }
        let product = multiply(rfft(a, length: size), rfft(b, length: size))
        return irfft(product, length: size).narrowed(axis: -1, start: 0, length: n)
    }

    // MARK: complex values as (re, im) pairs

    /// `[...] , [...] -> [..., 2]`.
    public static func complex(real: Tensor, imaginary: Tensor) -> Tensor {
        Tensor.stacked([real, imaginary], axis: -1)
    }

    /// The real parts: `[..., 2] -> [...]`.
    public static func real(_ z: Tensor) -> Tensor {
        checkComplex(z, "FFT.real")
        return z.narrowed(axis: -1, start: 0, length: 1).squeezed(axis: -1)
    }

    /// The imaginary parts: `[..., 2] -> [...]`.
    public static func imaginary(_ z: Tensor) -> Tensor {
        checkComplex(z, "FFT.imaginary")
        return z.narrowed(axis: -1, start: 1, length: 1).squeezed(axis: -1)
    }

    /// The element-wise complex product (broadcast).
    public static func multiply(_ a: Tensor, _ b: Tensor) -> Tensor {
        let (ar, ai, br, bi) = (real(a), imaginary(a), real(b), imaginary(b))
        return complex(real: ar * br - ai * bi, imaginary: ar * bi + ai * br)
    }

    /// `|z|`: `[..., 2] -> [...]`.
    public static func magnitude(_ z: Tensor) -> Tensor {
        Linalg.vectorNorm(z, ord: 2, axes: [-1])
    }

    // MARK: kernels with their adjoints

    static func checkFloat(_ x: Tensor, _ op: StaticString) {
        tensorCheck(x.dtype == .float32 || x.dtype == .float64, "[\(op)] needs float32 or float64, got \(x.dtype)")
        tensorCheck(x.rank >= 1, "[\(op)] needs at least one axis, got a scalar")
    }

    static func checkComplex(_ x: Tensor, _ op: StaticString) {
        checkFloat(x, op)
        tensorCheck(x.rank >= 2 && x.shape[x.rank - 1] == 2,
                    "[\(op)] needs complex values as [..., 2] (real, imaginary), got shape \(shapeText(x.shape))")
    }

    /// `x` trimmed or zero-padded along `axis` to `length` (`torch.fft`'s `n`).
    static func resized(_ x: Tensor, axis: Int, to length: Int, op: StaticString) -> Tensor {
        tensorCheck(length >= 1, "[\(op)] length must be positive, got \(length)")
        let size = x.shape[axis]
        if length == size { return x }
        if length < size { return x.narrowed(axis: axis, start: 0, length: length) }
        var widths = [(before: Int, after: Int)](repeating: (0, 0), count: x.rank)
        widths[axis] = (0, length - size)
        return x.padded(widths)
    }

    static func complexTransform(_ x: Tensor, length: Int?, axis: Int, inverse: Bool, normalization: FFTNormalization,
                                 op: StaticString) -> Tensor {
        checkComplex(x, op)
        let a = normalizedAxis(axis, rank: x.rank - 1, op: op)
        let last = x.rank - 2
        var moved = a == last ? x : x.transposed(a, last)
        if let length { moved = resized(moved, axis: last, to: length, op: op) }
        let n = moved.shape[last]
        var out = dft(moved, inverse: inverse)
        let scale = normalization.scale(n, inverse: inverse)
        if scale != 1 { out = out * scale }
        return a == last ? out : out.transposed(a, last)
    }

    /// The unnormalised transform along the axis before the (re, im) one. As a real-linear
    /// map its transpose is the unnormalised transform the other way.
    static func dft(_ x: Tensor, inverse: Bool) -> Tensor {
        let input = x.detached().contiguous()
        let out = Tensor(uninitializedShape: x.shape, dtype: x.dtype, backend: x.backend)
        if x.elementCount > 0 { x.backend.fft(input.operand, inverse: inverse, into: out.operand) }
        return out.recorded(inverse ? "FFT.ifft" : "FFT.fft", x) { g, _ in [dft(g, inverse: !inverse)] }
    }

    /// The unnormalised half spectrum of the last axis. Its transpose: the real part of the
    /// inverse transform of the gradient zero-extended to all n bins.
    static func realTransform(_ x: Tensor) -> Tensor {
        let n = x.shape[x.rank - 1], bins = n / 2 + 1
        let input = x.detached().contiguous()
        let out = Tensor(uninitializedShape: Array(x.shape.dropLast()) + [bins, 2], dtype: x.dtype, backend: x.backend)
        if x.elementCount > 0 { x.backend.rfft(input.operand, into: out.operand) }
        return out.recorded("FFT.rfft", x) { g, _ in
            [real(dft(resized(g, axis: g.rank - 2, to: n, op: "FFT.rfft"), inverse: true))]
        }
    }

    /// n times the inverse of `realTransform` from `n/2 + 1` bins. Its transpose: the half
    /// spectrum of the gradient, interior bins doubled (each stands for itself and its
    /// conjugate), the ignored imaginary parts given zero.
    static func realInverseTransform(_ x: Tensor, length n: Int) -> Tensor {
        let bins = n / 2 + 1
        let input = x.detached().contiguous()
        let out = Tensor(uninitializedShape: Array(x.shape.dropLast(2)) + [n], dtype: x.dtype, backend: x.backend)
        if out.elementCount > 0 { x.backend.irfft(input.operand, length: n, into: out.operand) }
        return out.recorded("FFT.irfft", x) { g, _ in
            var weights = [Double](repeating: 2, count: 2 * bins)
            weights[1] = 0; weights[0] = 1
            if n % 2 == 0 { weights[2 * (bins - 1)] = 1; weights[2 * (bins - 1) + 1] = 0 }
            let w = Tensor(weights, shape: [bins, 2], device: g.device).cast(to: g.dtype)
            return [realTransform(g) * w]
        }
    }
}
