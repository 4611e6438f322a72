/// Discrete Fourier transforms along one axis (the kernels under `FFT`), unnormalised, over
/// contiguous float32/float64 operands whose complex values are (re, im) pairs in a trailing
/// axis of 2. Defaults run on the host through `MemoryOps`; a GPU backend overrides them
/// with its FFT library where it has one.
public protocol SpectralOps: AnyObject {
    /// `out_k = Σ_j x_j e^{∓2πijk/n}` (− forward, + inverse) along the `n` axis of
    /// `x`, `out` `[..., n, 2]`.
    func fft(_ x: Operand, inverse: Bool, into out: Operand)
    /// The half spectrum of real rows: `x [..., n]` -> `out [..., n/2 + 1, 2]`.
    func rfft(_ x: Operand, into out: Operand)
    /// Real rows of length `n` from their half spectrum `x [..., n/2 + 1, 2]`, times n (the
    /// unnormalised inverse); the imaginary parts of bins 0 and n/2 are ignored.
    func irfft(_ x: Operand, length n: Int, into out: Operand)
}

extension SpectralOps where Self: MemoryOps {
    public func fft(_ x: Operand, inverse: Bool, into out: Operand) {
        let n = x.shape[x.rank - 2], rows = x.shape.dropLast(2).reduce(1, *)
        stagedOnHost(inputs: [x], outputs: [out]) { i, o in
            x.lapackType.fftRows(i[0], rows: rows, n: n, inverse: inverse, into: o[0])
        }
    }

    public func rfft(_ x: Operand, into out: Operand) {
        let n = x.shape[x.rank - 1], rows = x.shape.dropLast().reduce(1, *)
        stagedOnHost(inputs: [x], outputs: [out]) { i, o in x.lapackType.rfftRows(i[0], rows: rows, n: n, into: o[0]) }
    }

    public func irfft(_ x: Operand, length n: Int, into out: Operand) {
        let rows = x.shape.dropLast(2).reduce(1, *)
        stagedOnHost(inputs: [x], outputs: [out]) { i, o in x.lapackType.irfftRows(i[0], rows: rows, n: n, into: o[0]) }
    }
}

/// The host FFT on raw pointers, reached through the operand's element type.
extension LAPACKScalar {
    static func fftRows(_ x: UnsafeRawPointer, rows: Int, n: Int, inverse: Bool, into out: UnsafeMutableRawPointer) {
        HostFFT.complex(x.assumingMemoryBound(to: Self.self), rows: rows, n: n, inverse: inverse,
                        into: out.assumingMemoryBound(to: Self.self))
    }
    static func rfftRows(_ x: UnsafeRawPointer, rows: Int, n: Int, into out: UnsafeMutableRawPointer) {
        HostFFT.real(x.assumingMemoryBound(to: Self.self), rows: rows, n: n, into: out.assumingMemoryBound(to: Self.self))
    }
    static func irfftRows(_ x: UnsafeRawPointer, rows: Int, n: Int, into out: UnsafeMutableRawPointer) {
        HostFFT.realInverse(x.assumingMemoryBound(to: Self.self), rows: rows, n: n, into: out.assumingMemoryBound(to: Self.self))
    }
}
