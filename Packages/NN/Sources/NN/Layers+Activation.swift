import TensorCore

/// `max(x, 0)`.
public final class ReLU: Module {
    public override init() { super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x.relu() }
}

public final class LeakyReLU: Module {
    public let negativeSlope: Double
    public init(negativeSlope: Double = 0.01) { self.negativeSlope = negativeSlope }
    public override func forward(_ x: Tensor) -> Tensor { x.leakyRelu(negativeSlope: negativeSlope) }
}

public final class ELU: Module {
    public let alpha: Double
    public init(alpha: Double = 1) { self.alpha = alpha }
    public override func forward(_ x: Tensor) -> Tensor { x.elu(alpha: alpha) }
}

/// Gaussian error linear unit; `approximate` uses the tanh form.
public final class GELU: Module {
    public let approximate: Bool
    public init(approximate: Bool = false) { self.approximate = approximate }
    public override func forward(_ x: Tensor) -> Tensor { x.gelu(approximate: approximate) }
}

public final class SiLU: Module {
    public override init() { super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x.silu() }
}

public final class Sigmoid: Module {
    public override init() { super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x.sigmoid() }
}

public final class Tanh: Module {
    public override init() { super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x.tanh() }
}

public final class Softplus: Module {
    public let beta: Double, threshold: Double
    public init(beta: Double = 1, threshold: Double = 20) { self.beta = beta; self.threshold = threshold }
    public override func forward(_ x: Tensor) -> Tensor { x.softplus(beta: beta, threshold: threshold) }
}

public final class Softmax: Module {
    public let axis: Int
    public init(axis: Int = -1) { self.axis = axis }
    public override func forward(_ x: Tensor) -> Tensor { x.softmax(axis: axis) }
}

public final class LogSoftmax: Module {
    public let axis: Int
    public init(axis: Int = -1) { self.axis = axis }
    public override func forward(_ x: Tensor) -> Tensor { x.logSoftmax(axis: axis) }
}
