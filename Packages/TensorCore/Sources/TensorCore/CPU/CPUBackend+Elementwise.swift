import CTesseraKernels

extension CPUBackend {
    public func unary(_ op: UnaryOp, _ x: Operand, into out: Operand) {
        if x.dtype.isReducedPrecision || out.dtype.isReducedPrecision {
            return inFloat32([x], out) { inputs, wide in self.unary(op, inputs[0], into: wide) }
        }
        if vectorActivation(op, x, out) { return }
        switch x.dtype {
        case .float32: unaryFloat(op, x, out, Float.self)
        case .float64: unaryFloat(op, x, out, Double.self)
        case .int32: unaryInteger(op, x, out, Int32.self)
        case .int64: unaryInteger(op, x, out, Int64.self)
        case .uint8: unaryInteger(op, x, out, UInt8.self)
        case .bool:
            tensorCheck(op == .logicalNot, "[\(op)] is not defined for bool tensors")
            mapElements(x, out, Bool.self, Bool.self) { !$0 }
        case .float16, .bfloat16: break
        }
    }

    public func binary(_ op: BinaryOp, _ a: Operand, _ b: Operand, into out: Operand) {
        if a.dtype.isReducedPrecision || out.dtype.isReducedPrecision {
            return inFloat32([a, b], out) { inputs, wide in self.binary(op, inputs[0], inputs[1], into: wide) }
        }
        if op.isFloatOnly {
            switch a.dtype {
            case .float32: return activationBackward(op, a, b, out, Float.self)
            case .float64: return activationBackward(op, a, b, out, Double.self)
            default: tensorFailure("[\(op)] needs floating-point operands, got \(a.dtype)")
            }
        }
        if a.dtype == .float32 && contiguousArithmetic(op, a, b, out, Float.self) { return }
        if a.dtype == .float64 && contiguousArithmetic(op, a, b, out, Double.self) { return }
        switch a.dtype {
        case .float32: binaryTyped(op, a, b, out, Float.self)
        case .float64: binaryTyped(op, a, b, out, Double.self)
        case .int32: binaryTyped(op, a, b, out, Int32.self)
        case .int64: binaryTyped(op, a, b, out, Int64.self)
        case .uint8: binaryTyped(op, a, b, out, UInt8.self)
        case .bool: binaryBool(op, a, b, out)
        case .float16, .bfloat16: break
        }
    }

    public func binary(_ op: BinaryOp, _ x: Operand, scalar: Double, scalarIsLeft: Bool, into out: Operand) {
        // Contiguous float arithmetic with a scalar: one vectorised loop, no broadcast plan.
        if x.layout.isContiguous && out.layout.isContiguous && x.dtype == out.dtype {
            if x.dtype == .float32 && scalarArithmetic(op, x, scalar, scalarIsLeft, out, Float.self) { return }
            if x.dtype == .float64 && scalarArithmetic(op, x, scalar, scalarIsLeft, out, Double.self) { return }
        }
        // A zero-stride view of a one-element storage reuses the broadcasting loops.
        let s = makeOperand(shape: [], dtype: x.dtype.isReducedPrecision ? .float32 : x.dtype)
        fill(s, with: scalar)
        let wide = s.with(layout: Layout(shape: x.shape, strides: [Int](repeating: 0, count: x.shape.count)))
        let xs = x.dtype.isReducedPrecision ? widened(x) : x
        if scalarIsLeft { binary(op, wide, xs, into: out) } else { binary(op, xs, wide, into: out) }
    }

    public func select(_ condition: Operand, _ a: Operand, _ b: Operand, into out: Operand) {
        tensorCheck(condition.dtype == .bool, "[where] condition must be bool, got \(condition.dtype)")
        visitScalarType(a.dtype, SelectVisitor(condition: condition, a: a, b: b, out: out))
    }

    /// Float32 tanh, σ, exp and tanh-GELU through the vector C kernels when both operands are
    /// contiguous; false otherwise.
    private func vectorActivation(_ op: UnaryOp, _ x: Operand, _ out: Operand) -> Bool {
        guard x.dtype == .float32, out.dtype == .float32, x.layout.isContiguous, out.layout.isContiguous else { return false }
        let kind: Int32
        switch op {
        case .tanh: kind = Int32(TESSERA_TANH)
        case .sigmoid: kind = Int32(TESSERA_SIGMOID)
        case .geluTanh: kind = Int32(TESSERA_GELU_TANH)
        case .exp: kind = Int32(TESSERA_EXP)
        case .silu: kind = Int32(TESSERA_SILU)
        default: return false
        }
        let xp = x.elements(Float.self), yp = out.elements(Float.self)
        parallelChunks(count: x.elementCount, cost: 8) { r in
            tessera_activation_f32(kind, xp + r.lowerBound, yp + r.lowerBound, r.count)
        }
        return true
    }

    /// `x op s` / `s op x` for the four arithmetic ops; false for anything else.
    /// Same-shape contiguous float arithmetic (the residual adds, gradient sums and ReLU
    /// backward of every training step): the operation is switched on once per chunk, so each
    /// loop is concrete and vectorised, split over the threads above a size. Through
    /// `zipElements` the operation is a closure value, which the threads' chunks call per
    /// element: measured here, add_16M ran 2.5× slower on two threads than on one that way.
    private func contiguousArithmetic<T: TensorFloat>(_ op: BinaryOp, _ a: Operand, _ b: Operand, _ out: Operand,
                                                      _ t: T.Type) -> Bool {
        guard out.dtype == a.dtype, b.dtype == a.dtype, a.shape == out.shape, b.shape == out.shape,
              a.layout.isContiguous, b.layout.isContiguous, out.layout.isContiguous else { return false }
        switch op {
        case .add, .subtract, .multiply, .divide, .passWherePositive: break
        default: return false
        }
        let (x, y, z) = (a.elements(T.self), b.elements(T.self), out.elements(T.self))
        parallelChunks(count: out.elementCount, cost: CPUBackend.streamingCost) { r in
            switch op {
            case .add: for i in r { z[i] = x[i] + y[i] }
            case .subtract: for i in r { z[i] = x[i] - y[i] }
            case .multiply: for i in r { z[i] = x[i] * y[i] }
            case .divide: for i in r { z[i] = x[i] / y[i] }
            default:
                // Bit masks, not a branch per element: activations' signs are random, and a
                // branchy loop here mispredicted every other element (it took 22 % of a
                // ResNet-20 step; Swift's SIMD `replacing` compiled to a loop over the lanes).
                if T.self == Float.self {
                    let raw = { (p: UnsafeMutablePointer<T>) in UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self) }
                    tessera_pass_where_positive_f32(raw(x + r.lowerBound), raw(y + r.lowerBound), raw(z + r.lowerBound), r.count)
                } else {
                    for i in r { z[i] = y[i] > 0 ? x[i] : 0 }
                }
            }
        }
        return true
    }

    /// The per-element cost `parallelChunks` is given for streaming loops (a read or two and a
    /// write per element): at 4 they are split over the threads from 256 K elements.
    static let streamingCost = 4

    private func scalarArithmetic<T: TensorFloat>(_ op: BinaryOp, _ x: Operand, _ scalar: Double, _ left: Bool,
                                                  _ out: Operand, _ t: T.Type) -> Bool {
        let s = T(scalar)
        @inline(__always) func map(_ f: (T) -> T) { mapElements(x, out, T.self, T.self, f) }
        switch (op, left) {
        case (.add, _): map { $0 + s }
        case (.multiply, _): map { $0 * s }
        case (.subtract, false): map { $0 - s }
        case (.subtract, true): map { s - $0 }
        case (.divide, false): let r = 1 / s; map { $0 * r }
        case (.divide, true): map { s / $0 }
        default: return false
        }
        return true
    }

    /// Activation backward kernels: `a` the incoming gradient, `b` the activation's input.
    private func activationBackward<T: TensorFloat & FastActivations>(_ op: BinaryOp, _ a: Operand, _ b: Operand,
                                                                     _ out: Operand, _ t: T.Type) {
        switch op {
        case .geluBackward:
            let c = T(0.70710678118654752440), d = T(0.39894228040143267794)
            zipElements(a, b, out, T.self, T.self, T.self) { g, x in
                g * (0.5 * (1 + T._erf(x * c)) + x * d * T._exp(-0.5 * x * x))
            }
        case .geluTanhBackward:
            if T.self == Float.self, [a, b, out].allSatisfy({ $0.layout.isContiguous && $0.shape == out.shape }) {
                let gp = a.elements(Float.self), xp = b.elements(Float.self), yp = out.elements(Float.self)
                return parallelChunks(count: out.elementCount, cost: 8) { r in
                    tessera_gelu_tanh_backward_f32(gp + r.lowerBound, xp + r.lowerBound, yp + r.lowerBound, r.count)
                }
            }
            let k = T(0.79788456080286535588), c = T(0.044715)
            zipElements(a, b, out, T.self, T.self, T.self) { g, x in
                let t = T.fastTanh(k * (x + c * x * x * x))
                return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * c * x * x))
            }
        case .siluBackward:
            if T.self == Float.self, [a, b, out].allSatisfy({ $0.layout.isContiguous && $0.shape == out.shape }) {
                let gp = a.elements(Float.self), xp = b.elements(Float.self), yp = out.elements(Float.self)
                return parallelChunks(count: out.elementCount, cost: 8) { r in
                    tessera_silu_backward_f32(gp + r.lowerBound, xp + r.lowerBound, yp + r.lowerBound, r.count)
                }
            }
            zipElements(a, b, out, T.self, T.self, T.self) { g, x in
                let s = T.fastSigmoid(x)
                return g * s * (1 + x * (1 - s))
            }
        default: tensorFailure("[\(op)] is not an activation backward")
        }
    }

    // MARK: typed bodies

    func unaryFloat<T: TensorFloat & FastActivations>(_ op: UnaryOp, _ x: Operand, _ out: Operand, _ t: T.Type) {
        @inline(__always) func map(_ f: (T) -> T) { mapElements(x, out, T.self, T.self, f) }
        switch op {
        case .negate: map { -$0 }
        case .abs: map { Swift.abs($0) }
        case .sign: map { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }
        case .square: map { $0 * $0 }
        case .reciprocal: map { 1 / $0 }
        case .exp: map { T._exp($0) }
        case .log: map { T._log($0) }
        case .log1p: map { T._log1p($0) }
        case .expm1: map { T._expm1($0) }
        case .sqrt: map { $0.squareRoot() }
        case .rsqrt: map { 1 / $0.squareRoot() }
        case .sin: map { T._sin($0) }
        case .cos: map { T._cos($0) }
        case .tanh: map { T.fastTanh($0) }
        case .sigmoid: map { T.fastSigmoid($0) }
        case .erf: map { T._erf($0) }
        case .relu: map { $0 > 0 ? $0 : 0 }
        case .gelu:
            let c = T(0.70710678118654752440)
            map { 0.5 * $0 * (1 + T._erf($0 * c)) }
        case .geluTanh:
            let k = T(0.79788456080286535588)
            map { v in 0.5 * v * (1 + T.fastTanh(k * (v + 0.044715 * v * v * v))) }
        case .silu: map { $0 / (1 + T._exp(-$0)) }
        case .softplus(let beta, let threshold):
            let b = T(beta), th = T(threshold)
            // Linear above the threshold, as PyTorch, where exp would overflow.
            map { v in b * v > th ? v : T._log1p(T._exp(b * v)) / b }
        case .leakyRelu(let slope):
            let s = T(slope)
            map { $0 > 0 ? $0 : $0 * s }
        case .elu(let alpha):
            let a = T(alpha)
            map { $0 > 0 ? $0 : a * T._expm1($0) }
        case .pow(let exponent):
            let e = T(exponent)
            if exponent == 2 { map { $0 * $0 } } else if exponent == 0.5 { map { $0.squareRoot() } }
            else { map { T._pow($0, e) } }
        case .clamp(let lo, let hi):
            let l = T(lo), h = T(hi)
            map { $0.isNaN ? $0 : Swift.min(Swift.max($0, l), h) }
        case .logicalNot:
            mapElements(x, out, T.self, Bool.self) { $0 == 0 }
        }
    }

    func unaryInteger<T: TensorInteger>(_ op: UnaryOp, _ x: Operand, _ out: Operand, _ t: T.Type) {
        @inline(__always) func map(_ f: (T) -> T) { mapElements(x, out, T.self, T.self, f) }
        switch op {
        case .negate: map { 0 &- $0 }
        case .abs: map { $0 < 0 ? 0 &- $0 : $0 }
        case .sign: map { $0 > 0 ? 1 : ($0 < 0 ? 0 &- 1 : 0) }
        case .square: map { $0 &* $0 }
        case .relu: map { $0 > 0 ? $0 : 0 }
        case .clamp(let lo, let hi):
            // Infinite (or out-of-range) bounds saturate to the type's range: `clamped(min: 1)`
            // on an integer tensor has an upper bound of +inf.
            func bound(_ v: Double) -> T {
                if v.isNaN { return 0 }
                if v <= Double(T.min) { return T.min }
                if v >= Double(T.max) { return T.max }
                return T(tensorDouble: v)
            }
            let l = bound(lo), h = bound(hi)
            map { Swift.min(Swift.max($0, l), h) }
        case .logicalNot: mapElements(x, out, T.self, Bool.self) { $0 == 0 }
        default: tensorFailure("[\(op)] is not defined for integer tensors (\(x.dtype)); cast to a float type")
        }
    }

    func binaryTyped<T: TensorScalar & Numeric & Comparable>(_ op: BinaryOp, _ a: Operand, _ b: Operand,
                                                              _ out: Operand, _ t: T.Type) {
        @inline(__always) func zip(_ f: (T, T) -> T) { zipElements(a, b, out, T.self, T.self, T.self, f) }
        @inline(__always) func compare(_ f: (T, T) -> Bool) { zipElements(a, b, out, T.self, T.self, Bool.self, f) }
        switch op {
        case .add: zip(+)
        case .subtract: zip(-)
        case .multiply: zip(*)
        case .divide:
            if let f = T.self as? any TensorFloat.Type { return divideFloat(a, b, out, f) }
            zip { x, y in (x.tensorDouble / y.tensorDouble).isFinite ? T(tensorDouble: (x.tensorDouble / y.tensorDouble).rounded(.down)) : 0 }
        case .pow:
            zip { x, y in T(tensorDouble: Double._pow(x.tensorDouble, y.tensorDouble)) }
        case .maximum: zip { x, y in x.tensorDouble.isNaN ? x : (y.tensorDouble.isNaN ? y : Swift.max(x, y)) }
        case .minimum: zip { x, y in x.tensorDouble.isNaN ? x : (y.tensorDouble.isNaN ? y : Swift.min(x, y)) }
        case .equal: compare(==)
        case .notEqual: compare(!=)
        case .less: compare(<)
        case .lessEqual: compare(<=)
        case .greater: compare(>)
        case .greaterEqual: compare(>=)
        case .logicalAnd: compare { $0 != 0 && $1 != 0 }
        case .logicalOr: compare { $0 != 0 || $1 != 0 }
        case .logicalXor: compare { ($0 != 0) != ($1 != 0) }
        case .passWherePositive: zip { $1 > 0 ? $0 : 0 }
        case .geluBackward, .geluTanhBackward, .siluBackward: tensorFailure("[\(op)] needs floating-point operands, got \(a.dtype)")
        }
    }

    private func divideFloat<F: TensorFloat>(_ a: Operand, _ b: Operand, _ out: Operand, _ t: F.Type) {
        zipElements(a, b, out, F.self, F.self, F.self, /)
    }

    func binaryBool(_ op: BinaryOp, _ a: Operand, _ b: Operand, _ out: Operand) {
        @inline(__always) func zip(_ f: (Bool, Bool) -> Bool) { zipElements(a, b, out, Bool.self, Bool.self, Bool.self, f) }
        switch op {
        case .logicalAnd, .multiply, .minimum: zip { $0 && $1 }
        case .logicalOr, .add, .maximum: zip { $0 || $1 }
        case .logicalXor, .notEqual: zip { $0 != $1 }
        case .equal: zip(==)
        case .less: zip { !$0 && $1 }
        case .lessEqual: zip { !$0 || $1 }
        case .greater: zip { $0 && !$1 }
        case .greaterEqual: zip { $0 || !$1 }
        default: tensorFailure("[\(op)] is not defined for bool tensors")
        }
    }

    // MARK: reduced precision

    /// A float32 copy of a float16/bfloat16 operand.
    func widened(_ x: Operand) -> Operand {
        if !x.dtype.isReducedPrecision { return x }
        let wide = makeOperand(shape: x.shape, dtype: .float32)
        copy(x, into: wide)
        return wide
    }

    /// Runs `body` on float32 copies of reduced-precision operands, then rounds the result
    /// into `out` (CPUs have no half-precision arithmetic worth using).
    func inFloat32(_ inputs: [Operand], _ out: Operand, _ body: ([Operand], Operand) -> Void) {
        let wideInputs = inputs.map(widened)
        if out.dtype.isReducedPrecision {
            let wideOut = makeOperand(shape: out.shape, dtype: .float32)
            body(wideInputs, wideOut)
            copy(wideOut, into: out)
        } else {
            body(wideInputs, out)
        }
    }
}

private struct SelectVisitor: ScalarVisitor {
    let condition: Operand, a: Operand, b: Operand, out: Operand
    func visit<T: TensorScalar>(_ type: T.Type) {
        let cp = condition.storage.pointer.assumingMemoryBound(to: Bool.self)
        let ap = a.storage.pointer.assumingMemoryBound(to: T.self)
        let bp = b.storage.pointer.assumingMemoryBound(to: T.self)
        let op = out.storage.pointer.assumingMemoryBound(to: T.self)
        let plan = StridedPlan(shape: out.shape, layouts: [condition.layout, a.layout, b.layout, out.layout])
        let s = plan.innerStrides
        parallelChunks(count: plan.elementCount) { range in
            plan.forEachRow(in: range) { o, n in
                var c = cp + o[0], x = ap + o[1], y = bp + o[2], z = op + o[3]
                for _ in 0..<n {
                    z.pointee = c.pointee ? x.pointee : y.pointee
                    c += s[0]; x += s[1]; y += s[2]; z += s[3]
                }
            }
        }
    }
}
