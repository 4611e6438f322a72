extension Tensor {
    /// Checks device, broadcasts shapes (NumPy rules), promotes dtypes and runs `op`.
    
    func binaryKernel(_ op: BinaryOp, _ other: Tensor, _ name: StaticString) -> Tensor {
        // Fast path for the common case: same shape, same float dtype, same device.
        if shape == other.shape && dtype == other.dtype && dtype.isFloatingPoint && !op.isLogical && device == other.device {
            let out = Tensor(uninitializedShape: shape, dtype: op.isComparison ? .bool : dtype, backend: backend)
            backend.binary(op, operand, other.operand, into: out.operand)
            return out
        }
        tensorCheck(device == other.device,
                    "[\(name)] operands are on different devices: \(device) and \(other.device)")
        guard let shape = broadcastShapes(self.shape, other.shape) else {
            tensorFailure("[\(name)] shapes \(shapeText(self.shape)) and \(shapeText(other.shape)) cannot be broadcast")
        }
        var computeType = DType.promoted(dtype, other.dtype)
        if op == .divide && !computeType.isFloatingPoint { computeType = .float32 }
        if op.isLogical { computeType = .bool }
        let a = dtype == computeType ? self : cast(to: computeType, differentiable: false)
        let b = other.dtype == computeType ? other : other.cast(to: computeType, differentiable: false)
        let outType: DType = op.isComparison || op.isLogical ? .bool : computeType
        let out = Tensor(uninitializedShape: shape, dtype: outType, backend: backend)
        backend.binary(op, a.operand.with(layout: a.layout.broadcast(to: shape)),
                       b.operand.with(layout: b.layout.broadcast(to: shape)), into: out.operand)
        return out
    }

    /// `self op scalar` (or `scalar op self`), keeping integer dtypes for integral scalars.
    
    func scalarKernel(_ op: BinaryOp, _ scalar: Double, scalarIsLeft: Bool, _ name: StaticString) -> Tensor {
        var computeType = dtype
        if !dtype.isFloatingPoint && (scalar.rounded() != scalar || op == .divide) && !op.isComparison {
            computeType = .float32
        }
        if op.isLogical { computeType = .bool }
        let x = dtype == computeType ? self : cast(to: computeType, differentiable: false)
        let outType: DType = op.isComparison || op.isLogical ? .bool : computeType
        let out = Tensor(uninitializedShape: shape, dtype: outType, backend: backend)
        backend.binary(op, x.operand, scalar: scalar, scalarIsLeft: scalarIsLeft, into: out.operand)
        return out
    }

    /// Sums a broadcast gradient back to `target` shape (the backward of broadcasting).
    public func sumToShape(_ target: [Int]) -> Tensor {
        if shape == target { return self }
        let lead = rank - target.count
        var axes = Array(0..<lead)
        for i in 0..<target.count where target[i] == 1 && shape[lead + i] != 1 { axes.append(lead + i) }
        let summed = axes.isEmpty ? self : sum(axes: axes, keepDims: true)
        return summed.shape == target ? summed : summed.reshaped(to: target)
    }

    /// Gradient for an input that may have been promoted to another dtype.
    func gradient(for input: Tensor) -> Tensor {
        let g = sumToShape(input.shape)
        return g.dtype == input.dtype ? g : g.cast(to: input.dtype)
    }

    // MARK: tensor ⊕ tensor

    /// Element-wise sum (broadcasting, dtype promotion).
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        a.binaryKernel(.add, b, "add").recorded("add", a, b) { g, _ in [g.gradient(for: a), g.gradient(for: b)] }
    }

    /// Element-wise difference (broadcasting, dtype promotion).
    public static func - (a: Tensor, b: Tensor) -> Tensor {
        a.binaryKernel(.subtract, b, "subtract").recorded("subtract", a, b) { g, _ in
            [g.gradient(for: a), (-g).gradient(for: b)]
        }
    }

    /// Element-wise product (broadcasting, dtype promotion).
    public static func * (a: Tensor, b: Tensor) -> Tensor {
        a.binaryKernel(.multiply, b, "multiply").recorded("multiply", a, b) { g, _ in
            [a.requiresGrad ? (g * b).gradient(for: a) : nil, b.requiresGrad ? (g * a).gradient(for: b) : nil]
        }
    }

    /// Element-wise true division (broadcasting; integers promote to float).
    public static func / (a: Tensor, b: Tensor) -> Tensor {
        a.binaryKernel(.divide, b, "divide").recorded("divide", a, b) { g, _ in
            [a.requiresGrad ? (g / b).gradient(for: a) : nil,
             b.requiresGrad ? (-g * a / (b * b)).gradient(for: b) : nil]
        }
    }

    /// Element-wise negation.
    public static prefix func - (x: Tensor) -> Tensor {
        x.unaryKernel(.negate, "negate").recorded("negate", x) { g, _ in [-g] }
    }

    /// Element-wise power with broadcasting.
    public func pow(_ exponent: Tensor) -> Tensor {
        let base = self
        return binaryKernel(.pow, exponent, "pow").recorded("pow", base, exponent, saveOutput: true) { g, y in
            [base.requiresGrad ? (g * exponent * base.pow(exponent - 1)).gradient(for: base) : nil,
             exponent.requiresGrad ? (g * y * base.log()).gradient(for: exponent) : nil]
        }
    }

    /// Element-wise maximum; at ties the gradient is shared equally (as PyTorch).
    public func maximum(_ other: Tensor) -> Tensor {
        let a = self, b = other
        return binaryKernel(.maximum, other, "maximum").recorded("maximum", a, b) { g, _ in
            let wins = (a .> b).cast(to: g.dtype) + (a .== b).cast(to: g.dtype) * 0.5
            return [(g * wins).gradient(for: a), (g * (1 - wins)).gradient(for: b)]
        }
    }

    /// Element-wise minimum; at ties the gradient is shared equally.
    public func minimum(_ other: Tensor) -> Tensor {
        let a = self, b = other
        return binaryKernel(.minimum, other, "minimum").recorded("minimum", a, b) { g, _ in
            let wins = (a .< b).cast(to: g.dtype) + (a .== b).cast(to: g.dtype) * 0.5
            return [(g * wins).gradient(for: a), (g * (1 - wins)).gradient(for: b)]
        }
    }

    // MARK: tensor ⊕ scalar

    /// `a + s` element-wise.
    public static func + (a: Tensor, s: Double) -> Tensor {
        a.scalarKernel(.add, s, scalarIsLeft: false, "add").recorded("add", a) { g, _ in [g.gradient(for: a)] }
    }
    /// `s + a` element-wise.
    public static func + (s: Double, a: Tensor) -> Tensor { a + s }

    /// `a - s` element-wise.
    public static func - (a: Tensor, s: Double) -> Tensor {
        a.scalarKernel(.subtract, s, scalarIsLeft: false, "subtract").recorded("subtract", a) { g, _ in [g.gradient(for: a)] }
    }

    /// `s - a` element-wise.
    public static func - (s: Double, a: Tensor) -> Tensor {
        a.scalarKernel(.subtract, s, scalarIsLeft: true, "subtract").recorded("subtract", a) { g, _ in [(-g).gradient(for: a)] }
    }

    /// `a · s` element-wise.
    public static func * (a: Tensor, s: Double) -> Tensor {
        a.scalarKernel(.multiply, s, scalarIsLeft: false, "multiply").recorded("multiply", a) { g, _ in
            [(g * s).gradient(for: a)]
        }
    }
    /// `s · a` element-wise.
    public static func * (s: Double, a: Tensor) -> Tensor { a * s }

    /// `a / s` element-wise.
    public static func / (a: Tensor, s: Double) -> Tensor {
        a.scalarKernel(.divide, s, scalarIsLeft: false, "divide").recorded("divide", a) { g, _ in
            [(g / s).gradient(for: a)]
        }
    }

    /// `s / a` element-wise.
    public static func / (s: Double, a: Tensor) -> Tensor {
        a.scalarKernel(.divide, s, scalarIsLeft: true, "divide").recorded("divide", a, saveOutput: true) { g, y in
            [(-g * y / a).gradient(for: a)]
        }
    }

    /// `a = a + b` (a new tensor; views of the old one keep their values).
    public static func += (a: inout Tensor, b: Tensor) { a = a + b }
    /// `a = a - b`.
    public static func -= (a: inout Tensor, b: Tensor) { a = a - b }
    /// `a = a · b`.
    public static func *= (a: inout Tensor, b: Tensor) { a = a * b }
    /// `a = a / b`.
    public static func /= (a: inout Tensor, b: Tensor) { a = a / b }
    /// `a = a + s`.
    public static func += (a: inout Tensor, s: Double) { a = a + s }
    /// `a = a - s`.
    public static func -= (a: inout Tensor, s: Double) { a = a - s }
    /// In place when `a` is untracked, contiguous floating point and the only user of its
    /// buffer (as a Swift array mutates in place when unshared); else `a = a * s`.
    public static func *= (a: inout Tensor, s: Double) {
        if a.autograd == nil && a.dtype.isFloatingPoint && a.layout.isContiguous && isKnownUniquelyReferenced(&a.storage) {
            a.backend.binary(.multiply, a.operand, scalar: s, scalarIsLeft: false, into: a.operand)
        } else {
            a = a * s
        }
    }
    /// `a = a / s`.
    public static func /= (a: inout Tensor, s: Double) { a = a / s }

    /// `self ^ exponent` element-wise.
    public func pow(_ exponent: Double) -> Tensor {
        let x = self
        return unaryKernel(.pow(exponent), "pow").recorded("pow", x) { g, _ in
            [exponent == 0 ? nil : g * exponent * x.pow(exponent - 1)]
        }
    }

    /// `x * x`.
    public func squared() -> Tensor {
        let x = self
        return unaryKernel(.square, "squared").recorded("squared", x) { g, _ in [g * x * 2] }
    }

    /// Elements clamped to [min, max]; the gradient passes where min <= x <= max.
    public func clamped(min lower: Double = -.infinity, max upper: Double = .infinity) -> Tensor {
        tensorCheck(!(lower > upper), "[clamp] min \(lower) is greater than max \(upper)")
        let x = self
        return unaryKernel(.clamp(min: lower, max: upper), "clamp").recorded("clamp", x) { g, _ in
            [g * ((x .>= lower) .& (x .<= upper)).cast(to: g.dtype)]
        }
    }

    /// `condition ? a : b` element-wise, with broadcasting of all three.
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        tensorCheck(condition.dtype == .bool, "[where] condition must be bool, got \(condition.dtype)")
        tensorCheck(a.device == b.device && a.device == condition.device,
                    "[where] operands are on different devices: \(condition.device), \(a.device), \(b.device)")
        guard let ab = broadcastShapes(a.shape, b.shape), let shape = broadcastShapes(condition.shape, ab) else {
            tensorFailure("[where] shapes \(shapeText(condition.shape)), \(shapeText(a.shape)) and \(shapeText(b.shape)) cannot be broadcast")
        }
        let type = DType.promoted(a.dtype, b.dtype)
        let x = a.dtype == type ? a : a.cast(to: type, differentiable: false)
        let y = b.dtype == type ? b : b.cast(to: type, differentiable: false)
        let out = Tensor(uninitializedShape: shape, dtype: type, backend: a.backend)
        out.backend.select(condition.operand.with(layout: condition.layout.broadcast(to: shape)),
                           x.operand.with(layout: x.layout.broadcast(to: shape)),
                           y.operand.with(layout: y.layout.broadcast(to: shape)), into: out.operand)
        return out.recorded("where", a, b) { g, _ in
            let zero = Tensor.zeros([], dtype: g.dtype, device: g.device)
            return [a.requiresGrad ? Tensor.where(condition, g, zero).gradient(for: a) : nil,
                    b.requiresGrad ? Tensor.where(condition, zero, g).gradient(for: b) : nil]
        }
    }

    /// Replaces elements where `mask` is true with `value`.
    public func maskedFill(_ mask: Tensor, with value: Double) -> Tensor {
        Tensor.where(mask, Tensor.full([], value: value, dtype: dtype, device: device), self)
    }
}
