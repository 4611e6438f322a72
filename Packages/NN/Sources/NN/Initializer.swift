import TensorCore

/// Weight initialisers with PyTorch's formulas (`torch.nn.init`).
public enum Initializer {
    /// Which fan the Kaiming scale uses.
    public enum FanMode: Sendable {
        /// Input connections: keeps the forward pass's variance.
        case fanIn
        /// Output connections: keeps the backward pass's variance.
        case fanOut
    }

    /// Non-linearities whose recommended gains `gain(for:)` knows.
    public enum Nonlinearity: Sendable {
        /// Gain 1.
        case linear
        /// Gain 1.
        case sigmoid
        /// Gain 5/3.
        case tanh
        /// Gain √2.
        case relu
        /// Gain √(2 / (1 + slope²)).
        case leakyRelu(negativeSlope: Double)
        /// Gain 3/4.
        case selu
    }

    /// PyTorch's `calculate_gain`.
    public static func gain(for nonlinearity: Nonlinearity) -> Double {
        switch nonlinearity {
        case .linear, .sigmoid: return 1
        case .tanh: return 5.0 / 3
        case .relu: return 2.0.squareRoot()
        case .leakyRelu(let slope): return (2 / (1 + slope * slope)).squareRoot()
        case .selu: return 0.75
        }
    }

    /// Fan-in and fan-out of a weight shape: `[out, in, *kernel]`.
    public static func fans(_ shape: [Int]) -> (fanIn: Int, fanOut: Int) {
        tensorCheck(shape.count >= 2, "[Initializer] fan in and out need at least 2 axes, got \(shapeText(shape))")
        let receptive = shape.dropFirst(2).reduce(1, *)
        return (shape[1] * receptive, shape[0] * receptive)
    }

    /// Values uniform on `[low, high)` (as `nn.init.uniform_`).
    public static func uniform(_ shape: [Int], low: Double = 0, high: Double = 1, dtype: DType = .float32,
                               generator: RandomGenerator? = nil) -> Tensor {
        Tensor.rand(shape, low: low, high: high, dtype: dtype, generator: generator)
    }

    /// Values normal with `mean` and `standardDeviation` (as `nn.init.normal_`).
    public static func normal(_ shape: [Int], mean: Double = 0, standardDeviation: Double = 1, dtype: DType = .float32,
                              generator: RandomGenerator? = nil) -> Tensor {
        Tensor.randn(shape, mean: mean, standardDeviation: standardDeviation, dtype: dtype, generator: generator)
    }

    /// Every value `value` (as `nn.init.constant_`).
    public static func constant(_ shape: [Int], value: Double, dtype: DType = .float32) -> Tensor {
        Tensor.full(shape, value: value, dtype: dtype)
    }

    /// Glorot & Bengio: uniform on ±gain √(6 / (fanIn + fanOut)).
    public static func xavierUniform(_ shape: [Int], gain: Double = 1, dtype: DType = .float32,
                                     generator: RandomGenerator? = nil) -> Tensor {
        let (fanIn, fanOut) = fans(shape)
        let bound = gain * (6 / Double(fanIn + fanOut)).squareRoot()
        return uniform(shape, low: -bound, high: bound, dtype: dtype, generator: generator)
    }

    /// Normal with standard deviation gain √(2 / (fanIn + fanOut)).
    public static func xavierNormal(_ shape: [Int], gain: Double = 1, dtype: DType = .float32,
                                    generator: RandomGenerator? = nil) -> Tensor {
        let (fanIn, fanOut) = fans(shape)
        return normal(shape, standardDeviation: gain * (2 / Double(fanIn + fanOut)).squareRoot(), dtype: dtype, generator: generator)
    }

    /// He et al.: uniform on ±gain √(3 / fan), gain from the non-linearity.
    public static func kaimingUniform(_ shape: [Int], mode: FanMode = .fanIn,
                                      nonlinearity: Nonlinearity = .leakyRelu(negativeSlope: 0),
                                      dtype: DType = .float32, generator: RandomGenerator? = nil) -> Tensor {
        let (fanIn, fanOut) = fans(shape)
        let fan = Double(mode == .fanIn ? fanIn : fanOut)
        let bound = gain(for: nonlinearity) * (3 / fan).squareRoot()
        return uniform(shape, low: -bound, high: bound, dtype: dtype, generator: generator)
    }

    /// Normal with standard deviation gain / √fan.
    public static func kaimingNormal(_ shape: [Int], mode: FanMode = .fanIn,
                                     nonlinearity: Nonlinearity = .leakyRelu(negativeSlope: 0),
                                     dtype: DType = .float32, generator: RandomGenerator? = nil) -> Tensor {
        let (fanIn, fanOut) = fans(shape)
        let fan = Double(mode == .fanIn ? fanIn : fanOut)
        return normal(shape, standardDeviation: gain(for: nonlinearity) / fan.squareRoot(), dtype: dtype, generator: generator)
    }

    /// A (semi-)orthogonal matrix (Saxe et al.), scaled by `gain`: rows or columns orthonormal.
    /// Trailing axes are flattened, as PyTorch does.
    public static func orthogonal(_ shape: [Int], gain: Double = 1, dtype: DType = .float32,
                                  generator: RandomGenerator? = nil) -> Tensor {
        tensorCheck(shape.count >= 2, "[orthogonal] needs at least 2 axes, got \(shapeText(shape))")
        let rows = shape[0], columns = shape.dropFirst().reduce(1, *)
        // Gram–Schmidt (twice, for stability) on the columns of a tall Gaussian matrix.
        let tall = rows >= columns
        let n = tall ? rows : columns, k = tall ? columns : rows
        var a = Tensor.randn([n, k], dtype: .float64, generator: generator).scalars(as: Double.self)
        for j in 0..<k {
            for _ in 0..<2 {
                for i in 0..<j {
                    var dot = 0.0
                    for r in 0..<n { dot += a[r * k + i] * a[r * k + j] }
                    for r in 0..<n { a[r * k + j] -= dot * a[r * k + i] }
                }
            }
            var norm = 0.0
            for r in 0..<n { norm += a[r * k + j] * a[r * k + j] }
            norm = norm.squareRoot()
            for r in 0..<n { a[r * k + j] /= norm }
        }
        var q = Tensor(a, shape: [n, k]) * gain
        if !tall { q = q.transposed().contiguous() }
        return q.reshaped(to: shape).cast(to: dtype)
    }
}
