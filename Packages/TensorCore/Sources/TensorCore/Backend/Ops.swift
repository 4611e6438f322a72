/// Element-wise functions of one operand. Parameters travel with the case.
public enum UnaryOp: Equatable, Sendable {
    case negate, abs, sign, square, reciprocal
    case exp, log, log1p, expm1, sqrt, rsqrt
    case sin, cos, tanh, sigmoid, erf
    case relu, gelu, geluTanh, silu
    case softplus(beta: Double, threshold: Double)
    case leakyRelu(slope: Double)
    case elu(alpha: Double)
    case pow(Double)
    case clamp(min: Double, max: Double)
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
    case add, subtract, multiply, divide, pow, maximum, minimum
    case equal, notEqual, less, lessEqual, greater, greaterEqual
    case logicalAnd, logicalOr, logicalXor
    /// `b > 0 ? a : 0`: the gradient of ReLU (`a` the incoming gradient, `b` the input).
    case passWherePositive
    /// `a · GELU'(b)` (exact, erf form) and `a · GELU'(b)` (tanh approximation): GELU's
    /// backward in one pass instead of a dozen (`a` the incoming gradient, `b` the input).
    case geluBackward, geluTanhBackward

    /// Ops defined only for floating-point operands.
    public var isFloatOnly: Bool { self == .geluBackward || self == .geluTanhBackward }

    /// Produces bool whatever the operand type.
    public var isComparison: Bool {
        switch self {
        case .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual: return true
        default: return false
        }
    }

    public var isLogical: Bool {
        switch self {
        case .logicalAnd, .logicalOr, .logicalXor: return true
        default: return false
        }
    }
}

public enum ReduceOp: Sendable { case sum, product, max, min }

public enum ArgReduceOp: Sendable { case argmax, argmin }

/// Distributions a random kernel draws from.
public enum RandomDistribution: Equatable, Sendable {
    /// Uniform on [low, high).
    case uniform(low: Double, high: Double)
    case normal(mean: Double, standardDeviation: Double)
    /// 1 with probability p, else 0.
    case bernoulli(p: Double)
    /// Integers uniform on [low, high).
    case integers(low: Int64, high: Int64)
}
