import TensorCore

/// Operation codes shared with the kernels' switch statements (KernelSource+Elementwise).
enum CUDAOpCode {
    static func unary(_ op: UnaryOp, dtype: DType) -> (code: Int32, p0: Double, p1: Double) {
        switch op {
        case .negate: return (0, 0, 0)
        case .abs: return (1, 0, 0)
        case .sign: return (2, 0, 0)
        case .square: return (3, 0, 0)
        case .reciprocal: return (4, 0, 0)
        case .exp: return (5, 0, 0)
        case .log: return (6, 0, 0)
        case .log1p: return (7, 0, 0)
        case .expm1: return (8, 0, 0)
        case .sqrt: return (9, 0, 0)
        case .rsqrt: return (10, 0, 0)
        case .sin: return (11, 0, 0)
        case .cos: return (12, 0, 0)
        case .tanh: return (13, 0, 0)
        case .sigmoid: return (14, 0, 0)
        case .erf: return (15, 0, 0)
        case .relu: return (16, 0, 0)
        case .gelu: return (17, 0, 0)
        case .geluTanh: return (18, 0, 0)
        case .silu: return (19, 0, 0)
        case .softplus(let beta, let threshold): return (20, beta, threshold)
        case .leakyRelu(let slope): return (21, slope, 0)
        case .elu(let alpha): return (22, alpha, 0)
        case .pow(let exponent): return (23, exponent, 0)
        case .clamp(let lo, let hi):
            guard dtype.isInteger else { return (24, lo, hi) }
            // Integer bounds saturate to the type's range (an infinite bound means none).
            let range: (Double, Double)
            switch dtype {
            case .int32: range = (Double(Int32.min), Double(Int32.max))
            case .uint8: range = (0, 255)
            default: range = (-9.2233720368547748e18, 9.2233720368547748e18)
            }
            func bound(_ v: Double) -> Double { v.isNaN ? 0 : Swift.min(Swift.max(v, range.0), range.1) }
            return (24, bound(lo), bound(hi))
        case .logicalNot: return (-1, 0, 0)
        }
    }

    static func binary(_ op: BinaryOp) -> Int32 {
        switch op {
        case .add: return 0
        case .subtract: return 1
        case .multiply: return 2
        case .divide: return 3
        case .pow: return 4
        case .maximum: return 5
        case .minimum: return 6
        case .equal: return 7
        case .notEqual: return 8
        case .less: return 9
        case .lessEqual: return 10
        case .greater: return 11
        case .greaterEqual: return 12
        case .logicalAnd: return 13
        case .logicalOr: return 14
        case .logicalXor: return 15
        case .passWherePositive: return 16
        case .geluBackward: return 17
        case .geluTanhBackward: return 18
        }
    }
}

extension CUDABackend {
    /// Coalesced strides of operands that share `shape`, and whether all are contiguous.
    func plan(_ shape: [Int], _ operands: [Operand]) -> (strided: [StridedArgument], contiguous: Int32) {
        let (s, strides) = coalesced(shape: shape, strides: operands.map { $0.layout.strides })
        let contiguous = s.count == 1 && strides.allSatisfy { $0[0] == 1 }
        return (strides.map { StridedArgument(shape: s, strides: $0) }, contiguous ? 1 : 0)
    }

    /// Whether the 16-bytes-per-access kernels apply: every operand row-major without gaps,
    /// at a 16-byte aligned address, and not bool (whose binary ops are logic).
    func packable(_ operands: [Operand], contiguous: Int32) -> Bool {
        contiguous == 1 && operands[0].dtype != .bool && operands.allSatisfy { $0.deviceAddress % 16 == 0 && $0.dtype == operands[0].dtype }
    }

    /// Runs `body` into `out`, or into a temporary of `dtype` converted into `out` after, when
    /// `out` has another dtype (kernels write their own dtype).
    func writing(_ out: Operand, as dtype: DType, _ body: (Operand) -> Void) {
        if out.dtype == dtype { return body(out) }
        let temporary = makeOperand(shape: out.shape, dtype: dtype)
        body(temporary)
        copy(temporary, into: out)
    }

    public func unary(_ op: UnaryOp, _ x: Operand, into out: Operand) {
        let n = out.elementCount
        if op == .logicalNot {
            return writing(out, as: .bool) { out in
                let p = plan(out.shape, [x, out])
                launch(.logicalNot, x.dtype, count: n) { a in
                    a.append(x); a.append(p.strided[0]); a.append(out); a.append(p.strided[1]); a.append(Int64(n)); a.append(p.contiguous)
                }
            }
        }
        if x.dtype.isInteger { tensorCheck(op.isIntegerClosed, "[\(op)] is not defined for integer tensors (\(x.dtype)); cast to a float type") }
        if x.dtype == .bool { tensorFailure("[\(op)] is not defined for bool tensors") }
        let (code, p0, p1) = CUDAOpCode.unary(op, dtype: x.dtype)
        writing(out, as: x.dtype) { out in
            let p = plan(out.shape, [x, out])
            if packable([x, out], contiguous: p.contiguous) {
                return launch(.unaryPacked, x.dtype, count: max(n / (16 / x.dtype.byteSize), 1)) { a in
                    a.append(x); a.append(out); a.append(Int64(n)); a.append(code); a.append(p0); a.append(p1)
                }
            }
            launch(.unary, x.dtype, count: n) { a in
                a.append(x); a.append(p.strided[0]); a.append(out); a.append(p.strided[1]); a.append(Int64(n))
                a.append(code); a.append(p0); a.append(p1); a.append(p.contiguous)
            }
        }
    }

    public func binary(_ op: BinaryOp, _ a: Operand, _ b: Operand, into out: Operand) {
        tensorCheck(a.dtype == b.dtype, "[\(op)] \(device) kernels take operands of one dtype, got \(a.dtype) and \(b.dtype)")
        if op.isFloatOnly { tensorCheck(a.dtype.isFloatingPoint, "[\(op)] needs floating-point operands, got \(a.dtype)") }
        let n = out.elementCount
        let producesBool = op.isComparison || op.isLogical
        writing(out, as: producesBool ? .bool : a.dtype) { out in
            let p = plan(out.shape, [a, b, out])
            if !producesBool && packable([a, b, out], contiguous: p.contiguous) {
                return launch(.binaryPacked, a.dtype, count: max(n / (16 / a.dtype.byteSize), 1)) { args in
                    args.append(a); args.append(b); args.append(out); args.append(Int64(n)); args.append(CUDAOpCode.binary(op))
                }
            }
            launch(producesBool ? .compare : .binary, a.dtype, count: n) { args in
                args.append(a); args.append(p.strided[0]); args.append(b); args.append(p.strided[1])
                args.append(out); args.append(p.strided[2]); args.append(Int64(n)); args.append(CUDAOpCode.binary(op)); args.append(p.contiguous)
            }
        }
    }

    public func binary(_ op: BinaryOp, _ x: Operand, scalar: Double, scalarIsLeft: Bool, into out: Operand) {
        if op.isFloatOnly || x.dtype == .bool {
            // Rare: through a one-element operand broadcast to x's shape.
            let s = makeOperand(shape: [], dtype: x.dtype)
            fill(s, with: scalar)
            let wide = s.with(layout: Layout(shape: x.shape, strides: [Int](repeating: 0, count: x.shape.count)))
            return scalarIsLeft ? binary(op, wide, x, into: out) : binary(op, x, wide, into: out)
        }
        let n = out.elementCount
        let producesBool = op.isComparison || op.isLogical
        writing(out, as: producesBool ? .bool : x.dtype) { out in
            let p = plan(out.shape, [x, out])
            if !producesBool && packable([x, out], contiguous: p.contiguous) {
                return launch(.binaryScalarPacked, x.dtype, count: max(n / (16 / x.dtype.byteSize), 1)) { a in
                    a.append(x); a.append(out); a.append(Int64(n)); a.append(CUDAOpCode.binary(op)); a.append(scalar)
                    a.append(Int32(scalarIsLeft ? 1 : 0))
                }
            }
            launch(producesBool ? .compareScalar : .binaryScalar, x.dtype, count: n) { a in
                a.append(x); a.append(p.strided[0]); a.append(out); a.append(p.strided[1]); a.append(Int64(n))
                a.append(CUDAOpCode.binary(op)); a.append(scalar); a.append(Int32(scalarIsLeft ? 1 : 0)); a.append(p.contiguous)
            }
        }
    }

    public func select(_ condition: Operand, _ a: Operand, _ b: Operand, into out: Operand) {
        tensorCheck(condition.dtype == .bool, "[where] condition must be bool, got \(condition.dtype)")
        tensorCheck(a.dtype == b.dtype && a.dtype == out.dtype, "[where] operands \(a.dtype), \(b.dtype) into \(out.dtype)")
        let n = out.elementCount
        let p = plan(out.shape, [condition, a, b, out])
        launch(.select, out.dtype, count: n) { args in
            args.append(condition); args.append(p.strided[0]); args.append(a); args.append(p.strided[1])
            args.append(b); args.append(p.strided[2]); args.append(out); args.append(p.strided[3]); args.append(Int64(n)); args.append(p.contiguous)
        }
    }
}
