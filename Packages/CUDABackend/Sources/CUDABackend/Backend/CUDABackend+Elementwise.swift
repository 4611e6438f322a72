import TensorCore

/// The operation codes the element-wise kernels switch on. The declaration order is the
/// numbering, and the kernels' `case UNARY_EXP:` labels are macros generated from these cases
/// (`KernelPrelude.opCodes`), so the two sides cannot drift apart; a `UnaryOp`/`BinaryOp` case
/// without a code is a compile error in `CUDAOpCode`'s switches.
enum UnaryCode: Int32, CaseIterable {
    case negate, abs, sign, square, reciprocal, exp, log, log1p, expm1, sqrt, rsqrt, sin, cos, tanh, sigmoid, erf
    case relu, gelu, geluTanh, silu, softplus, leakyRelu, elu, pow, clamp
}

enum BinaryCode: Int32, CaseIterable {
    case add, subtract, multiply, divide, pow, maximum, minimum, equal, notEqual, less, lessEqual, greater, greaterEqual
    case logicalAnd, logicalOr, logicalXor, passWherePositive, geluBackward, geluTanhBackward, siluBackward
}

/// `UNARY_LEAKY_RELU` for `leakyRelu`: the C macro of a code.
func cMacroName<Code: RawRepresentable>(_ prefix: String, _ code: Code) -> String {
    var name = prefix + "_"
    for character in String(describing: code) {
        if character.isUppercase { name += "_" }
        name += character.uppercased()
    }
    return name
}

enum CUDAOpCode {
    /// `#define UNARY_NEGATE 0` … for every code: part of every module's prelude.
    static var definitions: String {
        (UnaryCode.allCases.map { "#define \(cMacroName("UNARY", $0)) \($0.rawValue)" }
            + BinaryCode.allCases.map { "#define \(cMacroName("BINARY", $0)) \($0.rawValue)" }).joined(separator: "\n")
    }

    static func unary(_ op: UnaryOp, dtype: DType) -> (code: Int32, p0: Double, p1: Double) {
        func plain(_ c: UnaryCode) -> (Int32, Double, Double) { (c.rawValue, 0, 0) }
        switch op {
        case .negate: return plain(.negate)
        case .abs: return plain(.abs)
        case .sign: return plain(.sign)
        case .square: return plain(.square)
        case .reciprocal: return plain(.reciprocal)
        case .exp: return plain(.exp)
        case .log: return plain(.log)
        case .log1p: return plain(.log1p)
        case .expm1: return plain(.expm1)
        case .sqrt: return plain(.sqrt)
        case .rsqrt: return plain(.rsqrt)
        case .sin: return plain(.sin)
        case .cos: return plain(.cos)
        case .tanh: return plain(.tanh)
        case .sigmoid: return plain(.sigmoid)
        case .erf: return plain(.erf)
        case .relu: return plain(.relu)
        case .gelu: return plain(.gelu)
        case .geluTanh: return plain(.geluTanh)
        case .silu: return plain(.silu)
        case .softplus(let beta, let threshold): return (UnaryCode.softplus.rawValue, beta, threshold)
        case .leakyRelu(let slope): return (UnaryCode.leakyRelu.rawValue, slope, 0)
        case .elu(let alpha): return (UnaryCode.elu.rawValue, alpha, 0)
        case .pow(let exponent): return (UnaryCode.pow.rawValue, exponent, 0)
        case .clamp(let lo, let hi):
            guard dtype.isInteger else { return (UnaryCode.clamp.rawValue, lo, hi) }
            // Integer bounds saturate to the type's range (an infinite bound means none).
            return (UnaryCode.clamp.rawValue, dtype.saturated(lo), dtype.saturated(hi))
        case .logicalNot: return (-1, 0, 0)
        }
    }

    static func binary(_ op: BinaryOp) -> Int32 {
        let code: BinaryCode
        switch op {
        case .add: code = .add
        case .subtract: code = .subtract
        case .multiply: code = .multiply
        case .divide: code = .divide
        case .pow: code = .pow
        case .maximum: code = .maximum
        case .minimum: code = .minimum
        case .equal: code = .equal
        case .notEqual: code = .notEqual
        case .less: code = .less
        case .lessEqual: code = .lessEqual
        case .greater: code = .greater
        case .greaterEqual: code = .greaterEqual
        case .logicalAnd: code = .logicalAnd
        case .logicalOr: code = .logicalOr
        case .logicalXor: code = .logicalXor
        case .passWherePositive: code = .passWherePositive
        case .geluBackward: code = .geluBackward
        case .geluTanhBackward: code = .geluTanhBackward
        case .siluBackward: code = .siluBackward
        }
        return code.rawValue
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
