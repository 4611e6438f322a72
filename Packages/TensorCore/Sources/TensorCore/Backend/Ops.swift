/// Element-wise functions of one operand. Parameters travel with the case.
public enum UnaryOp: Equatable, Sendable {
    /// `-x`.
    case negate
    /// `|x|`.
    case abs
    /// -1, 0 or 1.
    case sign
    /// `x²`.
    case square
    /// `1 / x`.
    case reciprocal
    /// `eˣ`.
    case exp
    /// Natural logarithm.
    case log
    /// `log(1 + x)`, accurate near 0.
    case log1p
    /// `eˣ - 1`, accurate near 0.
    case expm1
    /// Square root.
    case sqrt
    /// `1 / √x`.
    case rsqrt
    /// Sine.
    case sin
    /// Cosine.
    case cos
    /// Hyperbolic tangent.
    case tanh
    /// `1 / (1 + e⁻ˣ)`.
    case sigmoid
    /// The error function.
    case erf
    /// `max(x, 0)`.
    case relu
    /// GELU, exact (erf) form.
    case gelu
    /// GELU, tanh approximation.
    case geluTanh
    /// `x · sigmoid(x)`.
    case silu
    /// `log(1 + e^(beta·x)) / beta`, `x` above `threshold / beta`.
    case softplus(beta: Double, threshold: Double)
    /// `x` where positive, `slope · x` elsewhere.
    case leakyRelu(slope: Double)
    /// `x` where positive, `alpha · (eˣ - 1)` elsewhere.
    case elu(alpha: Double)
    /// `xᵖ` for a scalar exponent.
    case pow(Double)
    /// `min(max(x, min), max)`.
    case clamp(min: Double, max: Double)
    /// `!x` (nonzero is true); bool result.
    case logicalNot

    /// Ops that integers support without promotion to float.
    public var isIntegerClosed: Bool {
        switch self {
        case .negate, .abs, .sign, .square, .relu, .clamp, .logicalNot: return true
        default: return false
        }
    }
}

/// Element-wise functions of two operands (or an operand and a scalar).
public enum BinaryOp: Equatable, Sendable {
    /// `a + b`.
    case add
    /// `a - b`.
    case subtract
    /// `a · b`.
    case multiply
    /// `a / b` (true division; integers promote to float).
    case divide
    /// `aᵇ`.
    case pow
    /// The larger (NaN propagates).
    case maximum
    /// The smaller (NaN propagates).
    case minimum
    /// `a == b`; bool result.
    case equal
    /// `a != b`; bool result.
    case notEqual
    /// `a < b`; bool result.
    case less
    /// `a <= b`; bool result.
    case lessEqual
    /// `a > b`; bool result.
    case greater
    /// `a >= b`; bool result.
    case greaterEqual
    /// Both nonzero; bool result.
    case logicalAnd
    /// Either nonzero; bool result.
    case logicalOr
    /// Exactly one nonzero; bool result.
    case logicalXor
    /// `b > 0 ? a : 0`: the gradient of ReLU (`a` the incoming gradient, `b` the input).
    case passWherePositive
    /// `a · GELU'(b)` (exact, erf form) and `a · GELU'(b)` (tanh approximation): GELU's
    /// backward in one pass instead of a dozen (`a` the incoming gradient, `b` the input).
    case geluBackward, geluTanhBackward
    /// `a · SiLU'(b) = a · σ(b)(1 + b(1 − σ(b)))`: SiLU's backward in one pass instead of six.
    case siluBackward

    /// Ops defined only for floating-point operands.
    public var isFloatOnly: Bool { self == .geluBackward || self == .geluTanhBackward || self == .siluBackward }

    /// Produces bool whatever the operand type.
    public var isComparison: Bool {
        switch self {
        case .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual: return true
        default: return false
        }
    }

    /// Logical and, or, xor: operands read as bool, bool result.
    public var isLogical: Bool {
        switch self {
        case .logicalAnd, .logicalOr, .logicalXor: return true
        default: return false
        }
    }
}

/// Reductions over axes.
public enum ReduceOp: Sendable {
    /// Sum.
    case sum
    /// Product.
    case product
    /// Maximum.
    case max
    /// Minimum.
    case min
}

/// Reductions to an index along one axis.
public enum ArgReduceOp: Sendable {
    /// Index of the first maximum.
    case argmax
    /// Index of the first minimum.
    case argmin
}

/// Distributions a random kernel draws from.
public enum RandomDistribution: Equatable, Sendable {
    /// Uniform on [low, high).
    case uniform(low: Double, high: Double)
    /// Normal with `mean` and `standardDeviation`.
    case normal(mean: Double, standardDeviation: Double)
    /// 1 with probability p, else 0.
    case bernoulli(p: Double)
    /// Integers uniform on [low, high).
    case integers(low: Int64, high: Int64)
}
