import Foundation
import NN
import TensorCore

/// Points of a 2-D toy distribution with the component each was drawn from.
public struct ToySample {
    /// `[N, 2]` float32.
    public let points: Tensor
    /// `[N]` int64: the moon, circle, mode or square each point came from.
    public let components: Tensor
}

/// The 2-D distributions of generative-model homework (two moons, swiss roll, 8 Gaussians,
/// checkerboard, concentric circles), drawn from a `RandomGenerator` so runs repeat. The
/// shapes follow scikit-learn's `make_moons`/`make_circles`, the WGAN-GP paper's 8 Gaussians
/// and FFJORD's checkerboard.
public enum ToyDistribution: String, CaseIterable, Codable, Sendable {
    /// Two interleaved half circles (`make_moons`).
    case twoMoons = "moons"
    /// A 2-D spiral: (t cos t, t sin t) / 5 for t uniform on [1.5π, 4.5π].
    case swissRoll = "swiss-roll"
    /// Eight Gaussians of standard deviation 0.02 on a circle of radius 2.
    case eightGaussians = "8gaussians"
    /// Uniform on the 8 black squares of a 4×4 board spanning [-4, 4)².
    case checkerboard
    /// Two concentric circles of radii 1 and 0.5 (`make_circles`).
    case circles

    /// The 8 Gaussians' modes: radius 2 at multiples of 45°.
    public static let eightGaussianCenters: Tensor = {
        Tensor((0..<8).flatMap { k -> [Float] in
            let angle = Double(k) * Double.pi / 4
            return [Float(2 * cos(angle)), Float(2 * sin(angle))]
        }, shape: [8, 2])
    }()

    /// The 8 Gaussians' standard deviation around each mode.
    public static let eightGaussianStandardDeviation = 0.02

    /// The modes and their standard deviation where the distribution is a mixture of known
    /// Gaussians (8 Gaussians), for `ModeCoverage`; nil otherwise.
    public var modes: (centers: Tensor, standardDeviation: Double)? {
        self == .eightGaussians ? (Self.eightGaussianCenters, Self.eightGaussianStandardDeviation) : nil
    }

    /// `count` points as a dataset (targets: each point's component), drawn from a generator
    /// seeded with `seed`.
    public func dataset(_ count: Int, seed: UInt64) -> TensorDataset {
        let sample = self.sample(count, generator: RandomGenerator(seed: seed))
        return TensorDataset(inputs: sample.points, targets: sample.components)
    }

    /// `count` points with Gaussian noise of standard deviation `noise` where the shape has none
    /// of its own (moons, swiss roll, circles; default 0.05).
    public func sample(_ count: Int, noise: Double = 0.05, generator: RandomGenerator) -> ToySample {
        tensorCheck(count > 0, "[ToyDistribution.\(rawValue)] count \(count) must be positive")
        tensorCheck(noise >= 0 && noise.isFinite, "[ToyDistribution.\(rawValue)] noise \(noise) must be a non-negative number")
        let u = Tensor.rand([count], generator: generator).scalars(as: Double.self)
        let v = Tensor.rand([count], generator: generator).scalars(as: Double.self)
        let w = Tensor.rand([count], generator: generator).scalars(as: Double.self)
        var points = [Double](), components = [Int64]()
        points.reserveCapacity(2 * count)
        var extraNoise = noise
        for i in 0..<count {
            switch self {
            case .twoMoons:
                // Half the points on each moon, in order (make_moons): t evenly along [0, π].
                let outer = i < (count + 1) / 2
                let side = outer ? (count + 1) / 2 : count / 2, j = outer ? i : i - (count + 1) / 2
                let t = side > 1 ? Double.pi * Double(j) / Double(side - 1) : 0
                points += outer ? [cos(t), sin(t)] : [1 - cos(t), 1 - sin(t) - 0.5]
                components.append(outer ? 0 : 1)
            case .circles:
                let outer = i < (count + 1) / 2
                let side = outer ? (count + 1) / 2 : count / 2, j = outer ? i : i - (count + 1) / 2
                let t = 2 * Double.pi * Double(j) / Double(side)
                let r = outer ? 1.0 : 0.5
                points += [r * cos(t), r * sin(t)]
                components.append(outer ? 0 : 1)
            case .swissRoll:
                let t = 1.5 * Double.pi * (1 + 2 * u[i])
                points += [t * cos(t) / 5, t * sin(t) / 5]
                components.append(0)
            case .eightGaussians:
                let k = Swift.min(Int(u[i] * 8), 7)
                let angle = Double(k) * Double.pi / 4
                points += [2 * cos(angle), 2 * sin(angle)]
                components.append(Int64(k))
                extraNoise = ToyDistribution.eightGaussianStandardDeviation
            case .checkerboard:
                // FFJORD's: x uniform on [-2, 2), y in the squares of the other colour in x's
                // column, the whole board scaled by 2 to [-4, 4).
                let x = 4 * u[i] - 2
                let y = v[i] - (w[i] < 0.5 ? 0 : 2) + (x.rounded(.down).truncatingRemainder(dividingBy: 2) + 2).truncatingRemainder(dividingBy: 2)
                points += [2 * x, 2 * y]
                components.append(Int64((x.rounded(.down) + 2) * 4 + (y.rounded(.down) + 2)))
            }
        }
        var result = Tensor(points, shape: [count, 2])
        let addsNoise = self == .twoMoons || self == .circles || self == .swissRoll || self == .eightGaussians
        if addsNoise && extraNoise > 0 {
            result = result + Tensor.randn([count, 2], standardDeviation: extraNoise, dtype: .float64, generator: generator)
        }
        return ToySample(points: result.cast(to: .float32), components: Tensor(components))
    }
}
