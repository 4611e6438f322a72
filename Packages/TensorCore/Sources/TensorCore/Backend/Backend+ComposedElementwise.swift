/// The minimum element-wise set, and every other case composed from it.
///
/// A backend's `unary` and `binary` must compute the primitive cases themselves and may hand
/// any other case to `composedUnary` / `composedBinary` (`default: composedUnary(op, x, into: out)`
/// in their switch): the activations, their backward cases, the derived comparisons and the
/// arithmetic shortcuts then cost a few passes with temporaries instead of being missing.
/// Compositions write `out` only in their last pass, so `out` may be `x` itself.
extension UnaryOp {
    /// Cases with no exact composition from others (transcendental functions): 9 kernels.
    public var isPrimitive: Bool {
        switch self {
        case .exp, .log, .log1p, .expm1, .sqrt, .sin, .cos, .tanh, .erf: return true
        default: return false
        }
    }

    /// One instance of every case, parameterised ones with typical parameters: what the
    /// conformance suite runs.
    public static let representativeCases: [UnaryOp] = [
        .negate, .abs, .sign, .square, .reciprocal, .exp, .log, .log1p, .expm1, .sqrt, .rsqrt, .sin, .cos,
        .tanh, .sigmoid, .erf, .relu, .gelu, .geluTanh, .silu, .softplus(beta: 2, threshold: 1.5),
        .leakyRelu(slope: 0.1), .elu(alpha: 0.7), .pow(3), .pow(0.5), .clamp(min: -0.4, max: 0.3), .logicalNot,
    ]
}

extension BinaryOp {
    /// Cases every backend computes itself: arithmetic, extremes, three comparisons and two
    /// logical ops (12 kernels); the others are these with swapped or negated operands.
    public var isPrimitive: Bool {
        switch self {
        case .add, .subtract, .multiply, .divide, .pow, .maximum, .minimum, .equal, .less, .lessEqual,
             .logicalAnd, .logicalOr: return true
        default: return false
        }
    }

    public static let allCases: [BinaryOp] = [
        .add, .subtract, .multiply, .divide, .pow, .maximum, .minimum, .equal, .notEqual, .less, .lessEqual,
        .greater, .greaterEqual, .logicalAnd, .logicalOr, .logicalXor, .passWherePositive, .geluBackward,
        .geluTanhBackward, .siluBackward,
    ]
}

extension ElementwiseOps where Self: MemoryOps {
    /// `x op scalar` as a broadcast one-element operand: the default for backends without a
    /// scalar kernel.
    public func binary(_ op: BinaryOp, _ x: Operand, scalar: Double, scalarIsLeft: Bool, into out: Operand) {
        let s = makeOperand(shape: [], dtype: x.dtype)
        fill(s, with: scalar)
        let wide = s.with(layout: Layout(shape: x.shape, strides: [Int](repeating: 0, count: x.shape.count)))
        if scalarIsLeft { binary(op, wide, x, into: out) } else { binary(op, x, wide, into: out) }
    }

    /// Every non-primitive `UnaryOp` from primitive cases, scalar arithmetic and `select`.
    public func composedUnary(_ op: UnaryOp, _ x: Operand, into out: Operand) {
        func temporary(_ dtype: DType? = nil) -> Operand { makeOperand(shape: x.shape, dtype: dtype ?? x.dtype) }
        func scalar(_ o: BinaryOp, _ a: Operand, _ s: Double, left: Bool = false, _ into: Operand) {
            binary(o, a, scalar: s, scalarIsLeft: left, into: into)
        }
        /// `x > 0 ? x : negative` in one pass.
        func positivePart(or negative: Operand) {
            let positive = temporary(.bool)
            scalar(.greater, x, 0, positive)
            select(positive, x, negative, into: out)
        }
        switch op {
        case .exp, .log, .log1p, .expm1, .sqrt, .sin, .cos, .tanh, .erf:
            tensorFailure("[\(op)] is a primitive case: the backend must compute it")
        case .negate: scalar(.multiply, x, -1, out)
        case .abs where x.dtype == .uint8 || x.dtype == .bool: copy(x, into: out)
        case .abs:
            let negated = temporary()
            scalar(.multiply, x, -1, negated)
            binary(.maximum, x, negated, into: out)
        case .sign:
            // (x > 0) - (x < 0), each mask converted to x's dtype.
            let mask = temporary(.bool), positive = temporary(), negative = temporary()
            scalar(.greater, x, 0, mask)
            copy(mask, into: positive)
            scalar(.less, x, 0, mask)
            copy(mask, into: negative)
            binary(.subtract, positive, negative, into: out)
        case .square: binary(.multiply, x, x, into: out)
        case .reciprocal: scalar(.divide, x, 1, left: true, out)
        case .rsqrt:
            let root = temporary()
            unary(.sqrt, x, into: root)
            scalar(.divide, root, 1, left: true, out)
        case .sigmoid:
            // 1 / (1 + e^-x): e^-x overflows to inf for very negative x, giving 0 as it should.
            let t = temporary()
            scalar(.multiply, x, -1, t)
            unary(.exp, t, into: t)
            scalar(.add, t, 1, t)
            scalar(.divide, t, 1, left: true, out)
        case .relu: scalar(.maximum, x, 0, out)
        case .gelu:
            // x/2 · (1 + erf(x/√2))
            let t = temporary()
            scalar(.multiply, x, 0.70710678118654752440, t)
            unary(.erf, t, into: t)
            scalar(.add, t, 1, t)
            binary(.multiply, t, x, into: t)
            scalar(.multiply, t, 0.5, out)
        case .geluTanh:
            // x/2 · (1 + tanh(√(2/π) · (x + 0.044715 x³)))
            let t = temporary()
            binary(.multiply, x, x, into: t)
            scalar(.multiply, t, 0.044715, t)
            scalar(.add, t, 1, t)
            binary(.multiply, t, x, into: t)
            scalar(.multiply, t, 0.79788456080286535588, t)
            unary(.tanh, t, into: t)
            scalar(.add, t, 1, t)
            binary(.multiply, t, x, into: t)
            scalar(.multiply, t, 0.5, out)
        case .silu:
            // x / (1 + e^-x)
            let t = temporary()
            scalar(.multiply, x, -1, t)
            unary(.exp, t, into: t)
            scalar(.add, t, 1, t)
            binary(.divide, x, t, into: out)
        case .softplus(let beta, let threshold):
            // βx > threshold ? x : log(1 + e^(βx)) / β (PyTorch's linear regime above the threshold).
            let bx = temporary(), soft = temporary(), linear = temporary(.bool)
            scalar(.multiply, x, beta, bx)
            scalar(.greater, bx, threshold, linear)
            unary(.exp, bx, into: soft)
            unary(.log1p, soft, into: soft)
            scalar(.divide, soft, beta, soft)
            select(linear, x, soft, into: out)
        case .leakyRelu(let slope):
            let scaled = temporary()
            scalar(.multiply, x, slope, scaled)
            positivePart(or: scaled)
        case .elu(let alpha):
            let negative = temporary()
            unary(.expm1, x, into: negative)
            scalar(.multiply, negative, alpha, negative)
            positivePart(or: negative)
        case .pow(let exponent): scalar(.pow, x, exponent, out)
        case .clamp(let lo, let hi):
            // NaN passes through maximum and minimum, as through PyTorch's clamp. Integer
            // bounds saturate to the type's range first (an infinite bound means none).
            let (low, high) = x.dtype.isInteger ? (x.dtype.saturated(lo), x.dtype.saturated(hi)) : (lo, hi)
            let t = temporary()
            scalar(.maximum, x, low, t)
            scalar(.minimum, t, high, out)
        case .logicalNot: scalar(.equal, x, 0, out)
        }
    }

    /// Every non-primitive `BinaryOp` from the primitive cases.
    public func composedBinary(_ op: BinaryOp, _ a: Operand, _ b: Operand, into out: Operand) {
        func temporary(_ dtype: DType) -> Operand { makeOperand(shape: out.shape, dtype: dtype) }
        switch op {
        case .add, .subtract, .multiply, .divide, .pow, .maximum, .minimum, .equal, .less, .lessEqual,
             .logicalAnd, .logicalOr:
            tensorFailure("[\(op)] is a primitive case: the backend must compute it")
        case .greater: binary(.less, b, a, into: out)
        case .greaterEqual: binary(.lessEqual, b, a, into: out)
        case .notEqual:
            let equal = temporary(.bool)
            binary(.equal, a, b, into: equal)
            binary(.equal, equal, scalar: 0, scalarIsLeft: false, into: out)
        case .logicalXor:
            // (a ≠ 0) ≠ (b ≠ 0): truth values first, so any nonzero counts as true.
            let p = temporary(.bool), q = temporary(.bool)
            binary(.notEqual, a, scalar: 0, scalarIsLeft: false, into: p)
            binary(.notEqual, b, scalar: 0, scalarIsLeft: false, into: q)
            binary(.notEqual, p, q, into: out)
        case .passWherePositive:
            let positive = temporary(.bool), zero = temporary(a.dtype)
            binary(.greater, b, scalar: 0, scalarIsLeft: false, into: positive)
            fill(zero, with: 0)
            select(positive, a, zero, into: out)
        case .geluBackward:
            // g · (Φ(x) + x φ(x)), Φ(x) = (1 + erf(x/√2))/2, φ(x) = e^(-x²/2)/√(2π).
            let cdf = temporary(a.dtype), density = temporary(a.dtype)
            binary(.multiply, b, scalar: 0.70710678118654752440, scalarIsLeft: false, into: cdf)
            unary(.erf, cdf, into: cdf)
            binary(.add, cdf, scalar: 1, scalarIsLeft: false, into: cdf)
            binary(.multiply, cdf, scalar: 0.5, scalarIsLeft: false, into: cdf)
            binary(.multiply, b, b, into: density)
            binary(.multiply, density, scalar: -0.5, scalarIsLeft: false, into: density)
            unary(.exp, density, into: density)
            binary(.multiply, density, b, into: density)
            binary(.multiply, density, scalar: 0.39894228040143267794, scalarIsLeft: false, into: density)
            binary(.add, cdf, density, into: cdf)
            binary(.multiply, a, cdf, into: out)
        case .geluTanhBackward:
            // t = tanh(k(x + c x³)): g · ((1 + t)/2 + x/2 · (1 - t²) · k(1 + 3c x²)).
            let k = 0.79788456080286535588, c = 0.044715
            let squares = temporary(a.dtype), t = temporary(a.dtype), slope = temporary(a.dtype)
            binary(.multiply, b, b, into: squares)
            binary(.multiply, squares, scalar: c, scalarIsLeft: false, into: t)
            binary(.add, t, scalar: 1, scalarIsLeft: false, into: t)
            binary(.multiply, t, b, into: t)
            binary(.multiply, t, scalar: k, scalarIsLeft: false, into: t)
            unary(.tanh, t, into: t)
            binary(.multiply, squares, scalar: 3 * c * k, scalarIsLeft: false, into: squares)
            binary(.add, squares, scalar: k, scalarIsLeft: false, into: squares)       // k(1 + 3c x²)
            binary(.multiply, t, t, into: slope)
            binary(.subtract, slope, scalar: 1, scalarIsLeft: true, into: slope)        // 1 - t²
            binary(.multiply, slope, squares, into: slope)
            binary(.multiply, slope, b, into: slope)
            binary(.add, slope, t, into: slope)
            binary(.add, slope, scalar: 1, scalarIsLeft: false, into: slope)
            binary(.multiply, slope, scalar: 0.5, scalarIsLeft: false, into: slope)
            binary(.multiply, a, slope, into: out)
        case .siluBackward:
            // g · σ(x)(1 + x(1 − σ(x))).
            let s = temporary(a.dtype), slope = temporary(a.dtype)
            unary(.sigmoid, b, into: s)
            binary(.subtract, s, scalar: 1, scalarIsLeft: true, into: slope)
            binary(.multiply, slope, b, into: slope)
            binary(.add, slope, scalar: 1, scalarIsLeft: false, into: slope)
            binary(.multiply, slope, s, into: slope)
            binary(.multiply, a, slope, into: out)
        }
    }
}

extension DType {
    /// `value` limited to this integer type's range (NaN to 0), so it converts without trapping:
    /// clamp bounds for integer tensors (an infinite bound means none), on every backend.
    public func saturated(_ value: Double) -> Double {
        let range: (Double, Double)
        switch self {
        case .int32: range = (Double(Int32.min), Double(Int32.max))
        case .uint8: range = (0, 255)
        case .bool: range = (0, 1)
        default: range = (-9.2233720368547748e18, 9.2233720368547748e18)
        }
        return value.isNaN ? 0 : Swift.min(Swift.max(value, range.0), range.1)
    }
}
