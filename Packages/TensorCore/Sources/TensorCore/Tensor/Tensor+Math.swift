extension Tensor {
    /// Runs a unary kernel; integer inputs to floating functions compute in float32.
    
    func unaryKernel(_ op: UnaryOp, _ name: StaticString) -> Tensor {
        let x: Tensor
        if dtype == .bool && op != .logicalNot {
            x = cast(to: .float32, differentiable: false)
        } else if dtype.isInteger && !op.isIntegerClosed {
            x = cast(to: .float32, differentiable: false)
        } else {
            x = self
        }
        let out = Tensor(uninitializedShape: shape, dtype: op == .logicalNot ? .bool : x.dtype, backend: backend)
        backend.unary(op, x.operand, into: out.operand)
        return out
    }

    /// A 0/1 mask in this tensor's dtype (not differentiated).
    func mask(_ m: Tensor) -> Tensor { m.cast(to: dtype, differentiable: false) }

    /// Element-wise `|x|` (gradient `sign(x)`).
    public func abs() -> Tensor {
        let x = self
        return unaryKernel(.abs, "abs").recorded("abs", x) { g, _ in [g * x.sign()] }
    }

    /// -1, 0 or 1; its gradient is zero.
    public func sign() -> Tensor { unaryKernel(.sign, "sign").recorded("sign", self) { _, _ in [nil] } }

    /// Element-wise `1 / x`.
    public func reciprocal() -> Tensor {
        unaryKernel(.reciprocal, "reciprocal").recorded("reciprocal", self, saveOutput: true) { g, y in [-g * y * y] }
    }

    /// Element-wise `eˣ`.
    public func exp() -> Tensor {
        unaryKernel(.exp, "exp").recorded("exp", self, saveOutput: true) { g, y in [g * y] }
    }

    /// Element-wise natural logarithm.
    public func log() -> Tensor {
        let x = self
        return unaryKernel(.log, "log").recorded("log", x) { g, _ in [g / x] }
    }

    /// `log(1 + x)`, accurate near zero.
    public func log1p() -> Tensor {
        let x = self
        return unaryKernel(.log1p, "log1p").recorded("log1p", [x]) { g, _ in [g / (x + 1)] }
    }

    /// `exp(x) - 1`, accurate near zero.
    public func expm1() -> Tensor {
        unaryKernel(.expm1, "expm1").recorded("expm1", [self], saveOutput: true) { g, y in [g * (y + 1)] }
    }

    /// Element-wise square root.
    public func sqrt() -> Tensor {
        unaryKernel(.sqrt, "sqrt").recorded("sqrt", self, saveOutput: true) { g, y in [g * 0.5 / y] }
    }

    /// `1 / sqrt(x)`.
    public func rsqrt() -> Tensor {
        unaryKernel(.rsqrt, "rsqrt").recorded("rsqrt", self, saveOutput: true) { g, y in [g * -0.5 * y * y * y] }
    }

    /// Element-wise sine.
    public func sin() -> Tensor {
        let x = self
        return unaryKernel(.sin, "sin").recorded("sin", x) { g, _ in [g * x.cos()] }
    }

    /// Element-wise cosine.
    public func cos() -> Tensor {
        let x = self
        return unaryKernel(.cos, "cos").recorded("cos", x) { g, _ in [-g * x.sin()] }
    }

    /// Element-wise hyperbolic tangent.
    public func tanh() -> Tensor {
        unaryKernel(.tanh, "tanh").recorded("tanh", self, saveOutput: true) { g, y in [g * (1 - y * y)] }
    }

    /// `1 / (1 + exp(-x))`.
    public func sigmoid() -> Tensor {
        unaryKernel(.sigmoid, "sigmoid").recorded("sigmoid", self, saveOutput: true) { g, y in [g * y * (1 - y)] }
    }

    /// The error function.
    public func erf() -> Tensor {
        let x = self
        return unaryKernel(.erf, "erf").recorded("erf", x) { g, _ in
            [g * (-(x * x)).exp() * 1.1283791670955126]
        }
    }

    /// `max(x, 0)`.
    public func relu() -> Tensor {
        let x = self
        return unaryKernel(.relu, "relu").recorded("relu", x) { g, _ in [g.passingWhere(positive: x)] }
    }

    /// `self` where `x > 0`, else 0, in one pass (ReLU's backward). Differentiable in `self`.
    public func passingWhere(positive x: Tensor) -> Tensor {
        binaryKernel(.passWherePositive, x, "passWherePositive").recorded("passWherePositive", self) { g, _ in
            [g.passingWhere(positive: x)]
        }
    }

    /// `x` for positive inputs, `slope * x` otherwise.
    public func leakyRelu(negativeSlope slope: Double = 0.01) -> Tensor {
        let x = self
        return unaryKernel(.leakyRelu(slope: slope), "leakyRelu").recorded("leakyRelu", x) { g, _ in
            // g·slope + g·(1 − slope) where x > 0: four passes and no mask tensor (the double
            // backward of WGAN-GP's critic runs this on every hidden layer).
            [g.passingWhere(positive: x) * (1 - slope) + g * slope]
        }
    }

    /// `x` for positive inputs, `alpha * (exp(x) - 1)` otherwise.
    public func elu(alpha: Double = 1) -> Tensor {
        let x = self
        return unaryKernel(.elu(alpha: alpha), "elu").recorded("elu", x, saveOutput: true) { g, y in
            let positive = g.mask(x .> 0)
            return [g * (positive + (1 - positive) * (y + alpha))]
        }
    }

    /// Gaussian error linear unit: exact `x * Φ(x)`, or the tanh approximation.
    public func gelu(approximate: Bool = false) -> Tensor {
        let x = self
        if approximate {
            return unaryKernel(.geluTanh, "gelu").recorded("gelu", x) { g, _ in
                if !isRecordingGradients { return [g.binaryKernel(.geluTanhBackward, x, "gelu")] }
                let k = 0.7978845608028654, c = 0.044715
                let t = ((x + x * x * x * c) * k).tanh()
                let derivative = (t + 1) * 0.5 + x * 0.5 * (1 - t * t) * k * (x * x * (3 * c) + 1)
                return [g * derivative]
            }
        }
        return unaryKernel(.gelu, "gelu").recorded("gelu", x) { g, _ in
            if !isRecordingGradients { return [g.binaryKernel(.geluBackward, x, "gelu")] }
            let cdf = ((x * 0.7071067811865476).erf() + 1) * 0.5
            let pdf = (x * x * -0.5).exp() * 0.3989422804014327
            return [g * (cdf + x * pdf)]
        }
    }

    /// `x * sigmoid(x)` (swish).
    public func silu() -> Tensor {
        let x = self
        return unaryKernel(.silu, "silu").recorded("silu", x) { g, _ in
            if !isRecordingGradients { return [g.binaryKernel(.siluBackward, x, "silu")] }
            let s = x.sigmoid()
            return [g * s * (x * (1 - s) + 1)]
        }
    }

    /// `log(1 + exp(beta x)) / beta`, linear where `beta x > threshold`.
    public func softplus(beta: Double = 1, threshold: Double = 20) -> Tensor {
        let x = self
        return unaryKernel(.softplus(beta: beta, threshold: threshold), "softplus").recorded("softplus", x) { g, _ in
            let linear = g.mask(x * beta .> threshold)
            return [g * (linear + (1 - linear) * (x * beta).sigmoid())]
        }
    }
}

/// Free-function spellings for math-style code.
public func exp(_ x: Tensor) -> Tensor { x.exp() }
/// `x.log()`.
public func log(_ x: Tensor) -> Tensor { x.log() }
/// `x.sqrt()`.
public func sqrt(_ x: Tensor) -> Tensor { x.sqrt() }
/// `x.tanh()`.
public func tanh(_ x: Tensor) -> Tensor { x.tanh() }
/// `x.abs()`.
public func abs(_ x: Tensor) -> Tensor { x.abs() }
/// `a.maximum(b)`.
public func maximum(_ a: Tensor, _ b: Tensor) -> Tensor { a.maximum(b) }
/// `a.minimum(b)`.
public func minimum(_ a: Tensor, _ b: Tensor) -> Tensor { a.minimum(b) }
