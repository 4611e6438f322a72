import TensorCore

/// Modules applied in order; children are named "0", "1", ... as in PyTorch.
public final class Sequential: Module {
    /// The modules, in the order they run.
    public let layers: [Module]

    /// The modules of `layers`, run in order.
    public init(_ layers: [Module]) { self.layers = layers }
    /// The modules given, run in order.
    public convenience init(_ layers: Module...) { self.init(layers) }

    public override var namedChildren: [(String, Module)] {
        layers.enumerated().map { ("\($0.offset)", $0.element) }
    }

    public override func forward(_ x: Tensor) -> Tensor {
        // A Linear followed by a ReLU runs as one fused layer (bias and ReLU in the GEMM's
        // epilogue, one backward node); a summary still sees every layer.
        let fuse = SummaryRecorder.current == nil
        var y = x, i = 0
        while i < layers.count {
            if fuse, i + 1 < layers.count, let linear = layers[i] as? Linear, type(of: layers[i + 1]) == ReLU.self {
                y = linear.forwardReLU(y)
                i += 2
            } else {
                y = layers[i](y)
                i += 1
            }
        }
        return y
    }
}

/// Returns its input. Shape: any, unchanged.
public final class Identity: Module {
    /// An identity.
    public override init() { super.init() }
    public override func forward(_ x: Tensor) -> Tensor { x }
}

/// Merges axes `startAxis...endAxis` (default: all but the batch axis).
/// Shape: `[N, d1, ..., dk] -> [N, d1 · ... · dk]` with the defaults.
public final class Flatten: Module {
    /// The first axis merged.
    public let startAxis: Int
    /// The last axis merged (negative counts from the end).
    public let endAxis: Int
    /// Merges `startAxis...endAxis`.
    public init(startAxis: Int = 1, endAxis: Int = -1) { self.startAxis = startAxis; self.endAxis = endAxis }
    public override func forward(_ x: Tensor) -> Tensor { x.flattened(startAxis: startAxis, endAxis: endAxis) }
}

/// Splits `axis` into `sizes`. Shape: `[..., s1 · ... · sk, ...] -> [..., s1, ..., sk, ...]`.
public final class Unflatten: Module {
    /// The axis split.
    public let axis: Int
    /// What it is split into (their product must be its length).
    public let sizes: [Int]
    /// Splits `axis` into `sizes`.
    public init(axis: Int, sizes: [Int]) { self.axis = axis; self.sizes = sizes }
    public override func forward(_ x: Tensor) -> Tensor {
        let a = axis < 0 ? axis + x.rank : axis
        tensorCheck(a >= 0 && a < x.rank && sizes.reduce(1, *) == x.shape[a],
                    "[Unflatten] cannot split axis \(axis) of \(shapeText(x.shape)) into \(sizes)")
        return x.reshaped(to: Array(x.shape[..<a]) + sizes + Array(x.shape[(a + 1)...]))
    }
}

/// `x + body(x)`. Shape: any that `body` keeps unchanged.
public final class Residual: Module {
    /// The branch added to the input.
    public let body: Module
    /// A residual connection around `body`.
    public init(_ body: Module) { self.body = body }
    public override func forward(_ x: Tensor) -> Tensor { x + body(x) }
}
