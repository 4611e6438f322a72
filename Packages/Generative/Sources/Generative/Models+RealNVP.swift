import Foundation
import NN
import TensorCore

/// How to build a `RealNVP` flow (Codable: recorded with the model).
public struct RealNVPConfiguration: Codable, Equatable, Sendable {
    /// Dimensions of a point.
    public var dimensions: Int
    /// Affine coupling layers; consecutive ones transform complementary halves.
    public var couplingLayers: Int
    /// Width of each coupling's scale-and-shift network (two hidden layers).
    public var hiddenSize: Int

    /// A configuration; the defaults suit the 2-D toys.
    public init(dimensions: Int = 2, couplingLayers: Int = 8, hiddenSize: Int = 64) {
        self.dimensions = dimensions
        self.couplingLayers = couplingLayers
        self.hiddenSize = hiddenSize
    }
}

/// One affine coupling layer (Dinh et al. 2017): the coordinates where `mask` is 1 pass through
/// and set the scale and shift of the others, `y = m·x + (1 − m)·(x·exp(s(m·x)) + t(m·x))`, whose
/// log-determinant is `Σ (1 − m)·s`. The scale is `tanh`-bounded so training starts stable.
///
/// Shape: `[N, D] -> [N, D]`.
public final class AffineCoupling: Module {
    /// 1 where a coordinate conditions, 0 where it is transformed (`[1, D]`, a buffer).
    public let mask: Buffer
    let network: Sequential
    /// Per-coordinate multiplier of the bounded scale (learned, starts at 0: the identity).
    public let scaleGain: Parameter

    /// A coupling of `dimensions` coordinates conditioning on those where `mask` holds 1.
    public init(mask: [Float], hiddenSize: Int, generator: RandomGenerator? = nil) {
        let d = mask.count
        tensorCheck(d >= 2 && mask.contains(1) && mask.contains(0) && mask.allSatisfy { $0 == 0 || $0 == 1 },
                    "[AffineCoupling] mask \(mask) must mix 0s and 1s over at least 2 coordinates")
        self.mask = Buffer(Tensor(mask, shape: [1, d]))
        network = Sequential([
            Linear(inputSize: d, outputSize: hiddenSize, generator: generator), ReLU(),
            Linear(inputSize: hiddenSize, outputSize: hiddenSize, generator: generator), ReLU(),
            Linear(inputSize: hiddenSize, outputSize: 2 * d, generator: generator),
        ])
        scaleGain = Parameter(Tensor.zeros([1, d]))
        super.init()
    }

    /// Scale (log) and shift for the transformed coordinates, from the conditioning ones.
    func scaleAndShift(_ conditioning: Tensor) -> (scale: Tensor, shift: Tensor) {
        let d = mask.value.shape[1]
        let out = network(conditioning)
        let free = mask.value.cast(to: out.dtype) * -1 + 1
        let scale = out.narrowed(axis: 1, start: 0, length: d).tanh() * scaleGain.value.cast(to: out.dtype) * free
        return (scale, out.narrowed(axis: 1, start: d, length: d) * free)
    }

    /// y and log |det ∂y/∂x| per point (`[N]`).
    public func forward(withLogDeterminant x: Tensor) -> (y: Tensor, logDeterminant: Tensor) {
        let m = mask.value.cast(to: x.dtype)
        let (s, t) = scaleAndShift(x * m)
        return (x * m + (x * s.exp() + t) * (m * -1 + 1), s.sum(axes: [1]))
    }

    public override func forward(_ x: Tensor) -> Tensor { forward(withLogDeterminant: x).y }

    /// The x whose output is `y`.
    public func inverse(_ y: Tensor) -> Tensor {
        let m = mask.value.cast(to: y.dtype)
        let (s, t) = scaleAndShift(y * m)
        return y * m + ((y - t) * (s * -1).exp()) * (m * -1 + 1)
    }
}

/// RealNVP: a stack of affine couplings over a standard normal base, with the exact
/// log-likelihood `log p(x) = log N(f(x); 0, I) + Σ log |det ∂fₖ|` and sampling by inverting
/// the stack.
///
/// Shape: points `[N, dimensions]`.
public final class RealNVP: Module {
    /// How it was built.
    public let configuration: RealNVPConfiguration
    /// The couplings, applied in order from data to base.
    public let couplings: [AffineCoupling]

    /// A flow initialised from `generator` (the global stream when nil).
    public init(_ configuration: RealNVPConfiguration, generator: RandomGenerator? = nil) {
        tensorCheck(configuration.dimensions >= 2 && configuration.couplingLayers > 0 && configuration.hiddenSize > 0,
                    "[RealNVP] dimensions \(configuration.dimensions) (at least 2), coupling layers \(configuration.couplingLayers) "
                    + "and hidden size \(configuration.hiddenSize) must be positive")
        self.configuration = configuration
        let d = configuration.dimensions
        couplings = (0..<configuration.couplingLayers).map { k in
            AffineCoupling(mask: (0..<d).map { Float(($0 + k) % 2) }, hiddenSize: configuration.hiddenSize, generator: generator)
        }
        super.init()
    }

    /// Direct children: the couplings, named by index.
    public override var namedChildren: [(String, Module)] { couplings.enumerated().map { ("\($0.offset)", $0.element) } }

    /// The base point of `x` and the summed log-determinant per point.
    public func toBase(_ x: Tensor) -> (z: Tensor, logDeterminant: Tensor) {
        tensorCheck(x.rank == 2 && x.shape[1] == configuration.dimensions,
                    "[RealNVP] points \(shapeText(x.shape)) should be [N, \(configuration.dimensions)]")
        var z = x, total = Tensor.zeros([x.shape[0]], dtype: x.dtype).moved(to: x.device)
        for coupling in couplings {
            let (y, logDeterminant) = coupling.forward(withLogDeterminant: z)
            z = y
            total = total + logDeterminant
        }
        return (z, total)
    }

    /// log p(x) per point, exact (nats).
    public func logLikelihood(_ x: Tensor) -> Tensor {
        let (z, logDeterminant) = toBase(x)
        let zero = Tensor.zeros(z.shape, dtype: z.dtype).moved(to: z.device)
        return diagonalGaussianLogDensity(z, mean: zero, logVariance: zero) + logDeterminant
    }

    public override func forward(_ x: Tensor) -> Tensor { toBase(x).z }

    /// The points whose base points are `z` (the stack inverted).
    public func inverse(_ z: Tensor) -> Tensor {
        var x = z
        for coupling in couplings.reversed() { x = coupling.inverse(x) }
        return x
    }

    /// `count` points drawn from the flow.
    public func sample(count: Int, generator: RandomGenerator? = nil) -> Tensor {
        tensorCheck(count > 0, "[RealNVP.sample] count \(count) must be positive")
        return inverse(Tensor.randn([count, configuration.dimensions], generator: generator))
    }
}

/// The mean log-likelihood of `test` under the Gaussian whose mean and covariance are fitted to
/// `train` (maximum likelihood): the baseline a flow must beat. Points `[N, D]`.
public func gaussianFitLogLikelihood(train: Tensor, test: Tensor) -> Double {
    tensorCheck(train.rank == 2 && test.rank == 2 && train.shape[1] == test.shape[1] && train.shape[0] > train.shape[1],
                "[gaussianFitLogLikelihood] points \(shapeText(train.shape)) and \(shapeText(test.shape)) should be [N, D] with N > D")
    let x = train.cast(to: .float64), y = test.cast(to: .float64)
    let d = x.shape[1]
    let mean = x.mean(axes: [0], keepDims: true)
    let centred = x - mean
    let covariance = centred.transposed().matmul(centred) / Double(x.shape[0])
    // Cholesky of the covariance (D is small), then Mahalanobis distances by forward substitution.
    let c = covariance.scalars(as: Double.self)
    var l = [Double](repeating: 0, count: d * d)
    for i in 0..<d {
        for j in 0...i {
            var sum = c[i * d + j]
            for k in 0..<j { sum -= l[i * d + k] * l[j * d + k] }
            l[i * d + j] = i == j ? sum.squareRoot() : sum / l[j * d + j]
        }
    }
    let logDeterminant = (0..<d).reduce(0.0) { $0 + 2 * Foundation.log(l[$1 * d + $1]) }
    let points = (y - mean).scalars(as: Double.self)
    var total = 0.0
    for n in 0..<y.shape[0] {
        var solved = [Double](repeating: 0, count: d), squared = 0.0
        for i in 0..<d {
            var v = points[n * d + i]
            for k in 0..<i { v -= l[i * d + k] * solved[k] }
            solved[i] = v / l[i * d + i]
            squared += solved[i] * solved[i]
        }
        total += -0.5 * (squared + logDeterminant + Double(d) * Foundation.log(2 * Double.pi))
    }
    return total / Double(y.shape[0])
}
