import Testing
import TensorCore
#if canImport(Glibc)
import Glibc
#endif

/// Every `UnaryOp` and `BinaryOp` case against host references in Double.
extension BackendConformance {
    /// What `op` computes, in Double.
    static func reference(_ op: UnaryOp, _ x: Double) -> Double {
        switch op {
        case .negate: return -x
        case .abs: return Swift.abs(x)
        case .sign: return x > 0 ? 1 : (x < 0 ? -1 : 0)
        case .square: return x * x
        case .reciprocal: return 1 / x
        case .exp: return Glibc.exp(x)
        case .log: return Glibc.log(x)
        case .log1p: return Glibc.log1p(x)
        case .expm1: return Glibc.expm1(x)
        case .sqrt: return x.squareRoot()
        case .rsqrt: return 1 / x.squareRoot()
        case .sin: return Glibc.sin(x)
        case .cos: return Glibc.cos(x)
        case .tanh: return Glibc.tanh(x)
        case .sigmoid: return 1 / (1 + Glibc.exp(-x))
        case .erf: return Glibc.erf(x)
        case .relu: return Swift.max(x, 0)
        case .gelu: return 0.5 * x * (1 + Glibc.erf(x / 2.0.squareRoot()))
        case .geluTanh: return 0.5 * x * (1 + Glibc.tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
        case .silu: return x / (1 + Glibc.exp(-x))
        case .softplus(let beta, let threshold): return beta * x > threshold ? x : Glibc.log1p(Glibc.exp(beta * x)) / beta
        case .leakyRelu(let slope): return x > 0 ? x : slope * x
        case .elu(let alpha): return x > 0 ? x : alpha * Glibc.expm1(x)
        case .pow(let p): return Glibc.pow(x, p)
        case .clamp(let lo, let hi): return Swift.min(Swift.max(x, lo), hi)
        case .logicalNot: return x == 0 ? 1 : 0
        }
    }

    static func reference(_ op: BinaryOp, _ a: Double, _ b: Double) -> Double {
        func truth(_ c: Bool) -> Double { c ? 1 : 0 }
        switch op {
        case .add: return a + b
        case .subtract: return a - b
        case .multiply: return a * b
        case .divide: return a / b
        case .pow: return Glibc.pow(a, b)
        case .maximum: return Swift.max(a, b)
        case .minimum: return Swift.min(a, b)
        case .equal: return truth(a == b)
        case .notEqual: return truth(a != b)
        case .less: return truth(a < b)
        case .lessEqual: return truth(a <= b)
        case .greater: return truth(a > b)
        case .greaterEqual: return truth(a >= b)
        case .logicalAnd: return truth(a != 0 && b != 0)
        case .logicalOr: return truth(a != 0 || b != 0)
        case .logicalXor: return truth((a != 0) != (b != 0))
        case .passWherePositive: return b > 0 ? a : 0
        case .geluBackward:
            return a * (0.5 * (1 + Glibc.erf(b / 2.0.squareRoot())) + b * Glibc.exp(-0.5 * b * b) / (2 * Double.pi).squareRoot())
        case .geluTanhBackward:
            let k = (2 / Double.pi).squareRoot(), c = 0.044715
            let t = Glibc.tanh(k * (b + c * b * b * b))
            return a * (0.5 * (1 + t) + 0.5 * b * (1 - t * t) * k * (1 + 3 * c * b * b))
        case .siluBackward:
            let s = 1 / (1 + Glibc.exp(-b))
            return a * s * (1 + b * (1 - s))
        }
    }

    /// Inputs where `op` is defined and well conditioned: positive for logarithms and roots.
    static func domain(_ op: UnaryOp, _ v: [Double]) -> [Double] {
        switch op {
        case .log, .log1p, .sqrt, .rsqrt, .reciprocal, .pow(0.5): return v.map { Swift.abs($0) + 0.05 }
        case .softplus, .leakyRelu, .elu, .relu, .clamp, .sign, .logicalNot:
            // Both sides of the kink, the threshold and exact zeros.
            return v.map { $0 * 2 } + [0, -0, 0.75]
        default: return v.map { $0 * 2 }
        }
    }

    func unaryCases(_ loc: SourceLocation) {
        let v = Self.values(45, seed: 2)
        for op in UnaryOp.representativeCases {
            let input = Self.domain(op, v)
            // A strided (transposed) input: kernels must honour any layout.
            let rows = input.count / 3
            let x = upload(input, shape: [3, rows])
            let transposed = x.with(layout: Layout(shape: [rows, 3], strides: [1, rows]))
            var expected: [Double] = []
            for i in 0..<rows { for j in 0..<3 { expected.append(Self.reference(op, input[j * rows + i])) } }
            let out = backend.makeOperand(shape: [rows, 3], dtype: op == .logicalNot ? .bool : dtype)
            backend.unary(op, transposed, into: out)
            expect(out, expected, "unary \(op)", tolerance: unaryTolerance(op), sourceLocation: loc)
        }
        let flags = upload([1, 0, 1, 1, 0], shape: [5], type: .bool)
        let negated = backend.makeOperand(shape: [5], dtype: .bool)
        backend.unary(.logicalNot, flags, into: negated)
        expect(negated, [0, 1, 0, 0, 1], "logicalNot of bool", sourceLocation: loc)
    }

    /// Float32 transcendental kernels may use fast approximations (a few ulp).
    private func unaryTolerance(_ op: UnaryOp) -> Tolerance? {
        guard dtype == .float32 else { return nil }
        switch op {
        case .gelu, .geluTanh, .silu, .softplus, .elu, .erf, .expm1, .sigmoid, .tanh, .pow:
            return Tolerance(absolute: 1e-5, relative: 1e-4)
        default: return nil
        }
    }

    func binaryCases(_ loc: SourceLocation) {
        let n = 24
        var a = Self.values(n, seed: 3).map { $0 * 2 }, b = Self.values(n, seed: 4).map { $0 * 2 }
        // Ties, exact zeros and a shared sign pattern so comparisons and logic see every branch.
        a[0] = b[0]; a[1] = 0; b[2] = 0; a[3] = -b[3]
        let broadcastShape = [2, 3, 4]
        for op in BinaryOp.allCases {
            var lhs = a, rhs = b
            if op == .divide { rhs = rhs.map { $0 == 0 ? 0.5 : ($0 > 0 ? $0 + 0.25 : $0 - 0.25) } }
            if op == .pow { lhs = lhs.map { Swift.abs($0) + 0.1 } }
            let logical = op.isLogical
            let type: DType? = logical ? .bool : nil
            if logical { lhs = lhs.map { $0 > 0 ? 1 : 0 }; rhs = rhs.map { $0 < 0.3 ? 1 : 0 } }
            let x = upload(lhs, shape: broadcastShape, type: type)
            // The right operand is a row broadcast over the first axis (zero stride).
            let row = Array(rhs[0..<12])
            let y = upload(row, shape: [3, 4], type: type).with(layout: Layout(shape: broadcastShape, strides: [0, 4, 1]))
            let out = backend.makeOperand(shape: broadcastShape, dtype: op.isComparison || logical ? .bool : dtype)
            backend.binary(op, x, y, into: out)
            let expected = (0..<n).map { Self.reference(op, lhs[$0], row[$0 % 12]) }
            let tolerance = dtype == .float32 && (op == .pow || op.isFloatOnly) ? Tolerance(absolute: 1e-5, relative: 1e-4) : nil
            expect(out, expected, "binary \(op) (broadcast rhs)", tolerance: tolerance, sourceLocation: loc)
        }
    }

    func scalarAndSelect(_ loc: SourceLocation) {
        var v = Self.values(12, seed: 5).map { $0 * 3 }
        v[5] = 0.5   // exactly representable in every float dtype, so `equal` has a true case
        let x = upload(v, shape: [3, 4])
        let ops: [BinaryOp] = [.add, .subtract, .multiply, .divide, .pow, .maximum, .minimum, .equal, .less, .greater]
        for op in ops {
            for left in [false, true] {
                let s = op == .equal ? 0.5 : 1.5
                let input = op == .pow && left ? v : v.map { op == .pow ? Swift.abs($0) + 0.1 : $0 }
                let operand = op == .pow && !left ? upload(input, shape: [3, 4]) : x
                let out = backend.makeOperand(shape: [3, 4], dtype: op.isComparison ? .bool : dtype)
                backend.binary(op, operand, scalar: s, scalarIsLeft: left, into: out)
                let expected = input.map { left ? Self.reference(op, s, $0) : Self.reference(op, $0, s) }
                let tolerance = dtype == .float32 && op == .pow ? Tolerance(absolute: 1e-5, relative: 1e-4) : nil
                expect(out, expected, "\(left ? "scalar \(op) x" : "x \(op) scalar")", tolerance: tolerance, sourceLocation: loc)
            }
        }
        let w = Self.values(4, seed: 6)
        let row = upload(w, shape: [4]).with(layout: Layout(shape: [3, 4], strides: [0, 1]))
        let less = backend.makeOperand(shape: [3, 4], dtype: .bool)
        backend.binary(.less, x, row, into: less)
        let chosen = backend.makeOperand(shape: [3, 4], dtype: dtype)
        backend.select(less, x, row, into: chosen)
        expect(chosen, (0..<12).map { v[$0] < w[$0 % 4] ? v[$0] : w[$0 % 4] }, "select", sourceLocation: loc)
    }

    /// The integer-closed cases in int32 and int64 (no promotion to float).
    func integerElementwise(_ loc: SourceLocation) {
        let v: [Double] = [-7, -3, -1, 0, 1, 2, 5, 9]
        for type in [DType.int32, .int64] {
            let x = upload(v, shape: [8], type: type)
            for op in [UnaryOp.negate, .abs, .sign, .square, .relu, .clamp(min: -2, max: 4), .clamp(min: -.infinity, max: 3)] {
                let out = backend.makeOperand(shape: [8], dtype: type)
                backend.unary(op, x, into: out)
                expect(out, v.map { Self.reference(op, $0) }, "unary \(op) on \(type)", sourceLocation: loc)
            }
            let w: [Double] = [3, -3, 2, 0, 1, -4, 5, 2]
            let y = upload(w, shape: [8], type: type)
            for op in [BinaryOp.add, .subtract, .multiply, .maximum, .minimum, .equal, .notEqual, .less, .greaterEqual] {
                let out = backend.makeOperand(shape: [8], dtype: op.isComparison ? .bool : type)
                backend.binary(op, x, y, into: out)
                expect(out, (0..<8).map { Self.reference(op, v[$0], w[$0]) }, "binary \(op) on \(type)", sourceLocation: loc)
            }
        }
    }
}
