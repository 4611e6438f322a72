import Foundation
import TensorCore

/// Squared maximum mean discrepancy between samples `x` `[N, D]` and `y` `[M, D]` with a sum of
/// Gaussian kernels `exp(−‖a − b‖² / (2h²))` over `bandwidths` h: the unbiased estimator
/// (Gretton et al. 2012), which is 0 in expectation when both come from one distribution and
/// can be slightly negative.
public func maximumMeanDiscrepancy(_ x: Tensor, _ y: Tensor, bandwidths: [Double] = [0.1, 0.2, 0.5, 1, 2]) -> Double {
    tensorCheck(x.rank == 2 && y.rank == 2 && x.shape[1] == y.shape[1],
                "[maximumMeanDiscrepancy] samples \(shapeText(x.shape)) and \(shapeText(y.shape)) should be [N, D] and [M, D]")
    tensorCheck(x.shape[0] > 1 && y.shape[0] > 1, "[maximumMeanDiscrepancy] needs at least 2 samples of each")
    tensorCheck(!bandwidths.isEmpty && bandwidths.allSatisfy { $0 > 0 }, "[maximumMeanDiscrepancy] bandwidths \(bandwidths) must be positive")
    return withoutGradients {
        let a = x.cast(to: .float64), b = y.cast(to: .float64)
        func squaredDistances(_ p: Tensor, _ q: Tensor) -> Tensor {
            let pp = p.squared().sum(axes: [1], keepDims: true), qq = q.squared().sum(axes: [1], keepDims: true)
            return (pp + qq.transposed() - p.matmul(q.transposed()) * 2).clamped(min: 0)
        }
        func kernelSum(_ d: Tensor, excludingDiagonal: Bool) -> Double {
            var total = 0.0
            for h in bandwidths { total += (d * (-1 / (2 * h * h))).exp().sum().item(as: Double.self) }
            // exp(0) = 1 on the diagonal for each bandwidth.
            return excludingDiagonal ? total - Double(d.shape[0] * bandwidths.count) : total
        }
        let n = Double(a.shape[0]), m = Double(b.shape[0])
        let xx = kernelSum(squaredDistances(a, a), excludingDiagonal: true) / (n * (n - 1))
        let yy = kernelSum(squaredDistances(b, b), excludingDiagonal: true) / (m * (m - 1))
        let xy = kernelSum(squaredDistances(a, b), excludingDiagonal: false) / (n * m)
        return xx + yy - 2 * xy
    }
}

/// How well samples cover the modes of a mixture (the 8 Gaussians' measure in GAN papers).
public struct ModeCoverage: Equatable, Sendable {
    /// Samples within `3σ` of their nearest mode, per mode.
    public let counts: [Int]
    /// Modes that received at least the required share of the samples.
    public let coveredModes: Int
    /// Fraction of all samples within 3σ of a mode.
    public let withinThreeSigma: Double

    /// `coveredModes` over the number of modes.
    public var fraction: Double { Double(coveredModes) / Double(counts.count) }

    /// Assigns each of `samples` `[N, D]` to its nearest of `centers` `[M, D]`; a sample counts
    /// when it lies within 3 `standardDeviation`s of it, and a mode is covered when it holds at
    /// least `minimumShare` of the N / M samples it would get if all were spread evenly.
    public init(samples: Tensor, centers: Tensor, standardDeviation: Double, minimumShare: Double = 0.2) {
        tensorCheck(samples.rank == 2 && centers.rank == 2 && samples.shape[1] == centers.shape[1],
                    "[ModeCoverage] samples \(shapeText(samples.shape)) and centers \(shapeText(centers.shape)) should be [N, D] and [M, D]")
        tensorCheck(standardDeviation > 0, "[ModeCoverage] standardDeviation \(standardDeviation) must be positive")
        let (n, m, d) = (samples.shape[0], centers.shape[0], samples.shape[1])
        let x = samples.scalars(as: Double.self), c = centers.scalars(as: Double.self)
        var counts = [Int](repeating: 0, count: m), within = 0
        for i in 0..<n {
            var best = 0, bestDistance = Double.infinity
            for j in 0..<m {
                var distance = 0.0
                for k in 0..<d { let e = x[i * d + k] - c[j * d + k]; distance += e * e }
                if distance < bestDistance { (best, bestDistance) = (j, distance) }
            }
            if bestDistance.squareRoot() <= 3 * standardDeviation { counts[best] += 1; within += 1 }
        }
        self.counts = counts
        let required = minimumShare * Double(n) / Double(m)
        coveredModes = counts.filter { Double($0) >= required && $0 > 0 }.count
        withinThreeSigma = n == 0 ? 0 : Double(within) / Double(n)
    }
}
