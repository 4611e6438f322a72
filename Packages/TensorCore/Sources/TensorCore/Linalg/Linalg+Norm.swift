/// Which norm `Linalg.norm` takes, as `torch.linalg.norm`'s `ord`: a number (`2`, `1`, `0.5`;
/// integer and float literals convert), ±infinity, or the Frobenius and nuclear matrix norms.
public enum NormOrder: Equatable, Sendable, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral {
    /// Vectors: `(Σ|x|^p)^(1/p)` (p = 0 counts the non-zeros). Matrices: p = 1 and -1 take the
    /// largest and smallest column sum of |x|, p = 2 and -2 the largest and smallest singular value.
    case p(Double)
    /// Vectors: max |x|. Matrices: the largest row sum of |x|.
    case infinity
    /// Vectors: min |x|. Matrices: the smallest row sum of |x|.
    case negativeInfinity
    /// Matrices: the square root of the sum of squares.
    case frobenius
    /// Matrices: the sum of the singular values.
    case nuclear

    public init(integerLiteral value: Int) { self = .p(Double(value)) }
    public init(floatLiteral value: Double) {
        self = value == .infinity ? .infinity : value == -.infinity ? .negativeInfinity : .p(value)
    }
}

extension Linalg {
    /// A vector or matrix norm, as `torch.linalg.norm`: with neither `ord` nor `axes`, the
    /// 2-norm of all elements; with one axis (or a 1-D input) a vector norm, with two axes (or
    /// a 2-D input) a matrix norm over them; `ord` given without `axes` needs a 1-D or 2-D input.
    /// Differentiable; the 2-norm's gradient at zero is zero, as PyTorch's.
    public static func norm(_ x: Tensor, ord: NormOrder? = nil, axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        guard let ord else {
            if let axes, axes.count == 2 { return matrixNorm(x, ord: .frobenius, axes: (axes[0], axes[1]), keepDims: keepDims) }
            return vectorNorm(x, ord: 2, axes: axes, keepDims: keepDims)
        }
        let chosen = axes ?? {
            tensorCheck(x.rank == 1 || x.rank == 2,
                        "[Linalg.norm] ord \(ord) without axes needs a 1-D or 2-D input, got \(shapeText(x.shape))")
            return Array(0..<x.rank)
        }()
        switch chosen.count {
        case 1: return vectorNorm(x, ord: ord, axes: chosen, keepDims: keepDims)
        case 2: return matrixNorm(x, ord: ord, axes: (chosen[0], chosen[1]), keepDims: keepDims)
        default: tensorFailure("[Linalg.norm] takes one axis (a vector norm) or two (a matrix norm), got \(chosen)")
        }
    }

    /// The vector norm of `x` over `axes` (all elements when nil), `torch.linalg.vector_norm`.
    public static func vectorNorm(_ x: Tensor, ord: NormOrder = 2, axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        tensorCheck(x.dtype.isFloatingPoint, "[Linalg.vectorNorm] needs a floating-point tensor, got \(x.dtype)")
        let reduced = (axes ?? Array(0..<x.rank)).map { normalizedAxis($0, rank: x.rank, op: "Linalg.vectorNorm") }
        let result: Tensor
        switch ord {
        case .infinity: result = x.abs().max(axes: reduced, keepDims: true)
        case .negativeInfinity: result = x.abs().min(axes: reduced, keepDims: true)
        case .p(0): result = (x .!= 0).cast(to: x.dtype).sum(axes: reduced, keepDims: true)
        case .p(let p): result = pNorm(x, p: p, axes: reduced)
        case .frobenius, .nuclear:
            tensorFailure("[Linalg.vectorNorm] \(ord) is a matrix norm; give two axes for it")
        }
        return keepDims ? result : result.squeezed(axes: reduced)
    }

    /// The matrix norm over `axes` (`torch.linalg.matrix_norm`); see `NormOrder`.
    public static func matrixNorm(_ x: Tensor, ord: NormOrder = .frobenius, axes: (Int, Int) = (-2, -1),
                                  keepDims: Bool = false) -> Tensor {
        tensorCheck(x.dtype.isFloatingPoint, "[Linalg.matrixNorm] needs a floating-point tensor, got \(x.dtype)")
        tensorCheck(x.rank >= 2, "[Linalg.matrixNorm] needs at least 2 axes, got \(shapeText(x.shape))")
        let rows = normalizedAxis(axes.0, rank: x.rank, op: "Linalg.matrixNorm")
        let columns = normalizedAxis(axes.1, rank: x.rank, op: "Linalg.matrixNorm")
        tensorCheck(rows != columns, "[Linalg.matrixNorm] the two axes are both \(rows)")
        let both = [rows, columns].sorted()
        func kept(_ t: Tensor) -> Tensor { keepDims ? t : t.squeezed(axes: both) }
        switch ord {
        case .frobenius: return vectorNorm(x, ord: 2, axes: both, keepDims: keepDims)
        case .infinity: return kept(x.abs().sum(axes: [columns], keepDims: true).max(axes: [rows], keepDims: true))
        case .negativeInfinity: return kept(x.abs().sum(axes: [columns], keepDims: true).min(axes: [rows], keepDims: true))
        case .p(1): return kept(x.abs().sum(axes: [rows], keepDims: true).max(axes: [columns], keepDims: true))
        case .p(-1): return kept(x.abs().sum(axes: [rows], keepDims: true).min(axes: [columns], keepDims: true))
        case .nuclear, .p(2), .p(-2):
            // Singular values of the matrices moved to the last two axes.
            let others = (0..<x.rank).filter { $0 != rows && $0 != columns }
            let s = singularValues(x.permuted(others + [rows, columns]))
            let value: Tensor = switch ord {
            case .nuclear: s.sum(axes: [-1])
            case .p(2): s.max(axes: [-1])
            default: s.min(axes: [-1])
            }
            guard keepDims else { return value }
            return both.reduce(value) { t, axis in t.unsqueezed(axis: axis) }
        case .p(let p):
            tensorFailure("[Linalg.matrixNorm] ord \(p) is not a matrix norm (1, -1, 2, -2, ±infinity, frobenius, nuclear)")
        }
    }

    /// `(Σ|x|^p)^(1/p)` over `axes` (kept), with the gradient
    /// `sign(x)|x|^(p−1) / ‖x‖^(p−1)` taken as 0 where x or the norm is 0 (composing `pow`
    /// would give NaN there).
    static func pNorm(_ x: Tensor, p: Double, axes: [Int]) -> Tensor {
        let y = withoutGradients { () -> Tensor in
            let ax = x.abs()
            switch p {
            case 1: return ax.sum(axes: axes, keepDims: true)
            case 2: return ax.squared().sum(axes: axes, keepDims: true).sqrt()
            default: return ax.pow(p).sum(axes: axes, keepDims: true).pow(1 / p)
            }
        }
        return y.recorded("Linalg.vectorNorm", x, saveOutput: true) { g, y in
            let zero = Tensor.zeros([], dtype: x.dtype, device: x.device)
            let scale = Tensor.where(y .== 0, zero, p == 2 ? g / y : g / y.pow(p - 1))
            let slope = p == 2 ? x : p == 1 ? x.sign() : x.sign() * x.abs().pow(p - 1)
            return [Tensor.where(x .== 0, zero, slope * scale)]
        }
    }
}
