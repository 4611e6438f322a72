import Testing
import TensorCore
@testable import Generative

@Suite("Toy distributions and sample quality")
struct ToyTests {
    @Test(arguments: ToyDistribution.allCases)
    func everyToyDrawsFinitePointsRepeatably(toy: ToyDistribution) {
        let a = toy.sample(500, generator: RandomGenerator(seed: 1)), b = toy.sample(500, generator: RandomGenerator(seed: 1))
        #expect(a.points.shape == [500, 2] && a.components.shape == [500])
        #expect(a.points.scalars == b.points.scalars)
        #expect(a.points.scalars.allSatisfy { $0.isFinite })
    }

    @Test func noiselessMoonsAndCirclesLieOnTheirCurves() {
        let moons = ToyDistribution.twoMoons.sample(101, noise: 0, generator: RandomGenerator(seed: 2))
        let p = moons.points.scalars(as: Double.self), c = moons.components.scalars(as: Int64.self)
        for i in 0..<101 {
            let (x, y) = (p[2 * i], p[2 * i + 1])
            let r = c[i] == 0 ? x * x + y * y : (x - 1) * (x - 1) + (y - 0.5) * (y - 0.5)  // inner moon centred at (1, 0.5)
            #expect(abs(r - 1) < 1e-5, "moon \(c[i]) point (\(x), \(y))")
        }
        #expect(c.filter { $0 == 0 }.count == 51)
        let circles = ToyDistribution.circles.sample(40, noise: 0, generator: RandomGenerator(seed: 2))
        let q = circles.points.scalars(as: Double.self), k = circles.components.scalars(as: Int64.self)
        for i in 0..<40 {
            #expect(abs((q[2 * i] * q[2 * i] + q[2 * i + 1] * q[2 * i + 1]).squareRoot() - (k[i] == 0 ? 1 : 0.5)) < 1e-5)
        }
    }

    @Test func eightGaussiansCoverEveryModeAndCheckerboardOnlyItsBlackSquares() {
        let toy = ToyDistribution.eightGaussians.sample(4000, generator: RandomGenerator(seed: 3))
        let coverage = ModeCoverage(samples: toy.points, centers: ToyDistribution.eightGaussianCenters,
                                    standardDeviation: ToyDistribution.eightGaussianStandardDeviation)
        #expect(coverage.coveredModes == 8)
        // A 2-D Gaussian puts 1 - exp(-9/2) = 0.989 of its mass within 3σ.
        #expect(abs(coverage.withinThreeSigma - 0.989) < 0.01)
        let board = ToyDistribution.checkerboard.sample(2000, generator: RandomGenerator(seed: 4)).points.scalars(as: Double.self)
        for i in 0..<2000 {
            let column = Int((board[2 * i] / 2).rounded(.down)), row = Int((board[2 * i + 1] / 2).rounded(.down))
            // FFJORD's board: a point's column and row (squares of side 2) always add up to an even number.
            #expect((column + row) % 2 == 0, "(\(column), \(row))")
        }
    }

    @Test func modeCoverageCountsModesAndTheThreeSigmaShare() {
        // 7 of 8 modes hit exactly, plus 10 points far from all of them.
        let centers = ToyDistribution.eightGaussianCenters.scalars(as: Double.self)
        var points: [Double] = []
        for k in 0..<7 { for _ in 0..<10 { points += [centers[2 * k], centers[2 * k + 1]] } }
        for _ in 0..<10 { points += [0, 0] }
        let coverage = ModeCoverage(samples: Tensor(points, shape: [80, 2]), centers: ToyDistribution.eightGaussianCenters,
                                    standardDeviation: 0.02)
        #expect(coverage.coveredModes == 7 && coverage.fraction == 7.0 / 8)
        #expect(coverage.withinThreeSigma == 70.0 / 80)
        #expect(coverage.counts == [10, 10, 10, 10, 10, 10, 10, 0])
    }

    @Test func mmdMatchesNumPyAndSeparatesDistributions() {
        let x = Fixtures.tensor("mmd", "x"), y = Fixtures.tensor("mmd", "y")
        let bandwidths = (Fixtures.value("mmd", "bandwidths") as! [Double])
        let expected = Fixtures.value("mmd", "mmd2") as! Double
        #expect(abs(maximumMeanDiscrepancy(x, y, bandwidths: bandwidths) - expected) < 1e-10)
        let g = RandomGenerator(seed: 5)
        let a = ToyDistribution.twoMoons.sample(400, generator: g).points, b = ToyDistribution.twoMoons.sample(400, generator: g).points
        let c = ToyDistribution.circles.sample(400, generator: g).points
        let same = maximumMeanDiscrepancy(a, b), different = maximumMeanDiscrepancy(a, c)
        #expect(abs(same) < 0.02 && different > 10 * abs(same), "same \(same), different \(different)")
    }
}
