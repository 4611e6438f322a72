import TensorCore

// Element-wise activations as modules (PyTorch's names and defaults). Shape: any, unchanged.

/// `max(x, 0)`. Shape: any, unchanged.
public final class ReLU: Module {
    /// A ReLU.
    public override init() { super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x.relu() }
}

/// `x` where positive, `negativeSlope · x` elsewhere. Shape: any, unchanged.
public final class LeakyReLU: Module {
    /// The slope for negative inputs.
    public let negativeSlope: Double
    /// A leaky ReLU with `negativeSlope` (PyTorch's default 0.01).
    public init(negativeSlope: Double = 0.01) { self.negativeSlope = negativeSlope }
    public override func forward(_ x: Tensor) -> Tensor { x.leakyRelu(negativeSlope: negativeSlope) }
}

/// `x` where positive, `alpha · (eˣ − 1)` elsewhere. Shape: any, unchanged.
public final class ELU: Module {
    /// The saturation value for negative inputs.
    public let alpha: Double
    /// An ELU with `alpha`.
    public init(alpha: Double = 1) { self.alpha = alpha }
    public override func forward(_ x: Tensor) -> Tensor { x.elu(alpha: alpha) }
}

/// Gaussian error linear unit; `approximate` uses the tanh form. Shape: any, unchanged.
public final class GELU: Module {
    /// Whether the tanh approximation is used (PyTorch's `approximate="tanh"`).
    public let approximate: Bool
    /// A GELU, exact unless `approximate`.
    public init(approximate: Bool = false) { self.approximate = approximate }
    public override func forward(_ x: Tensor) -> Tensor { x.gelu(approximate: approximate) }
}

/// `x · sigmoid(x)` (swish). Shape: any, unchanged.
public final class SiLU: Module {
    /// A SiLU.
    public override init() { super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x.silu() }
}

/// `1 / (1 + e⁻ˣ)`. Shape: any, unchanged.
public final class Sigmoid: Module {
    /// A sigmoid.
    public override init() { super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x.sigmoid() }
}

/// Hyperbolic tangent. Shape: any, unchanged.
public final class Tanh: Module {
    /// A tanh.
    public override init() { super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x.tanh() }
}

/// `log(1 + e^(beta·x)) / beta`, linear above `threshold / beta`. Shape: any, unchanged.
public final class Softplus: Module {
    /// The sharpness.
    public let beta: Double
    /// Above `beta · x > threshold` the input is returned unchanged (numerical stability).
    public let threshold: Double
    /// A softplus with PyTorch's defaults.
    public init(beta: Double = 1, threshold: Double = 20) { self.beta = beta; self.threshold = threshold }
    public override func forward(_ x: Tensor) -> Tensor { x.softplus(beta: beta, threshold: threshold) }
}

/// Softmax along `axis`. Shape: any, unchanged.
public final class Softmax: Module {
    /// The axis normalised to sum to one.
    public let axis: Int
    /// A softmax along `axis` (default the last).
    public init(axis: Int = -1) { self.axis = axis }
    public override func forward(_ x: Tensor) -> Tensor { x.softmax(axis: axis) }
}

/// Log-softmax along `axis`. Shape: any, unchanged.
public final class LogSoftmax: Module {
    /// The axis normalised.
    public let axis: Int
    /// A log-softmax along `axis` (default the last).
    public init(axis: Int = -1) { self.axis = axis }
    public override func forward(_ x: Tensor) -> Tensor { x.logSoftmax(axis: axis) }
}
