import Foundation
import NN
import Optim
import Testing
import TensorCore
import TensorCoreTesting
@testable import Generative

@Suite("Score models")
struct ScoreModelTests {
    @Test func denoisingScoreMatchingMatchesNumPy() {
        let loss = denoisingScoreMatchingLoss(score: Fixtures.tensor("dsm", "score"), noise: Fixtures.tensor("dsm", "noise"),
                                              sigma: Fixtures.tensor("dsm", "sigma"))
        #expect(abs(loss.item(as: Double.self) - (Fixtures.value("dsm", "loss") as! Double)) < 1e-12)
    }

    /// Data N(μ, s²) per coordinate: the exact scores of its noised versions.
    let mu = 0.8, s = 0.3

    func gaussianMoments(_ x: Tensor) -> (mean: Double, deviation: Double) {
        let d = x.cast(to: .float64)
        let m = d.mean().item(as: Double.self)
        return (m, (d - m).squared().mean().sqrt().item(as: Double.self))
    }

    /// With the exact score, annealed Langevin, the reverse SDE and the probability-flow ODE
    /// all sample the data's Gaussian.
    @Test func everySamplerDrawsTheDataWithTheExactScore() {
        let ncsn = ScoreModel(ScoreModelConfiguration(process: .ncsn, dimensions: 2, hiddenSize: 4, sigmaMin: 0.01, sigmaMax: 3, levels: 10))
        let langevin = ncsn.annealedLangevin(count: 1000, stepsPerLevel: 100, score: { x, sigma, _ in
            let v = sigma.reshaped(to: [-1, 1]).squared() + s * s
            return (x - mu) * -1 / v
        }, generator: RandomGenerator(seed: 1))
        let vp = ScoreModel(ScoreModelConfiguration(process: .vp, dimensions: 2, hiddenSize: 4))
        let exactVP: ScoreModel.ScoreFunction = { x, sigma, t in
            let m = Tensor(t.scalars(as: Float.self).map { vp.marginal(Double($0)).mean }, shape: [t.shape[0], 1])
            let v = m.squared() * (s * s) + sigma.reshaped(to: [-1, 1]).squared()
            return (x - m * mu) * -1 / v
        }
        let reverse = vp.sampleSDE(count: 1000, steps: 500, score: exactVP, generator: RandomGenerator(seed: 2))
        let flow = vp.sampleSDE(count: 1000, steps: 500, probabilityFlow: true, score: exactVP, generator: RandomGenerator(seed: 3))
        for (name, samples) in [("langevin", langevin), ("reverse SDE", reverse), ("probability flow", flow)] {
            let (m, d) = gaussianMoments(samples)
            #expect(abs(m - mu) < 0.03 && abs(d - s) < 0.03, "\(name): mean \(m), deviation \(d)")
        }
    }

    /// Sampling uses the moving average: it starts as the network, then trails it at the decay.
    @Test func samplersUseTheMovingAverage() {
        let model = ScoreModel(ScoreModelConfiguration(process: .ncsn, hiddenSize: 8, emaDecay: 0.5), generator: RandomGenerator(seed: 11))
        let (source, average) = (model.trainableParameters[0], model.average.parameters()[0])
        #expect(source.value.scalars(as: Float.self) == average.value.scalars(as: Float.self) && !average.requiresGrad)
        let before = average.value
        source.value = source.value + 1
        model.updateAverage()
        expectClose(average.value, before + 0.5, tolerance: Tolerance(absolute: 1e-6, relative: 1e-6))
        let x = Tensor.randn([3, 2], generator: RandomGenerator(seed: 12)), sigma = Tensor([0.5, 1, 2] as [Float])
        let viaSampler = model.learnedScore(x, sigma, sigma.log())
        #expect(largestDifference(viaSampler, model.score(x, sigma: sigma, condition: sigma.log(), using: model.average)) == 0)
        #expect(largestDifference(viaSampler, model.score(x, sigma: sigma, condition: sigma.log())) > 0)
    }

    /// A configuration recorded before the moving average and the coordinate encoding decodes
    /// to neither, so its model has the raw coordinates' input width; a new one encodes them.
    @Test func anOlderConfigurationHasNoCoordinateEncoding() throws {
        let old = #"{"process":"ncsn","dimensions":2,"hiddenSize":8,"sigmaMin":0.01,"sigmaMax":5,"levels":10,"betaMin":0.1,"betaMax":20}"#
        let configuration = try JSONDecoder().decode(ScoreModelConfiguration.self, from: Data(old.utf8))
        #expect(configuration.coordinateFrequency == 0 && configuration.emaDecay == 0)
        let firstLayerInputs = { (c: ScoreModelConfiguration) in ScoreModel(c).trainableParameters[0].value.shape[1] }
        #expect(firstLayerInputs(configuration) == 2 + ScoreModel.embeddingSize)
        var encoded = configuration
        encoded.coordinateFrequency = 30
        #expect(firstLayerInputs(encoded) == 2 * (1 + 2 * ScoreModelConfiguration.coordinateFrequencyCount) + ScoreModel.embeddingSize)
        let roundTrip = try JSONDecoder().decode(ScoreModelConfiguration.self, from: JSONEncoder().encode(encoded))
        #expect(roundTrip == encoded)
    }

    /// The network reads x, the condition's embedding, then sin and cos of each coordinate at
    /// frequencies geometric from 1 to `coordinateFrequency` (coordinate-major).
    @Test func theCoordinateEncodingFeedsSinusoidsOfEachCoordinate() {
        let model = ScoreModel(ScoreModelConfiguration(process: .ncsn, dimensions: 2, hiddenSize: 4, coordinateFrequency: 30))
        let x = Tensor([0.1, 0.2, -0.3, 0.05] as [Double], shape: [2, 2]), condition = Tensor([0.5, -1] as [Double])
        let input = model.networkInput(x, condition: condition)
        let k = ScoreModelConfiguration.coordinateFrequencyCount, e = ScoreModel.embeddingSize
        #expect(input.shape == [2, 2 + e + 4 * k])
        let values = input.scalars(as: Double.self), width = input.shape[1], points = x.scalars(as: Double.self)
        for row in 0..<2 {
            for d in 0..<2 {
                #expect(values[row * width + d] == points[row * 2 + d])
                for j in 0..<k {
                    let phase = points[row * 2 + d] * pow(30, Double(j) / Double(k - 1))
                    #expect(abs(values[row * width + 2 + e + d * k + j] - sin(phase)) < 1e-12)
                    #expect(abs(values[row * width + 2 + e + 2 * k + d * k + j] - cos(phase)) < 1e-12)
                }
            }
        }
    }

    /// The probability-flow ODE is deterministic: the same starting noise gives the same points.
    @Test func theProbabilityFlowIsDeterministicGivenItsStart() {
        let vp = ScoreModel(ScoreModelConfiguration(process: .vp, dimensions: 2, hiddenSize: 8), generator: RandomGenerator(seed: 4))
        let a = vp.sampleSDE(count: 5, steps: 20, probabilityFlow: true, generator: RandomGenerator(seed: 5))
        let b = vp.sampleSDE(count: 5, steps: 20, probabilityFlow: true, generator: RandomGenerator(seed: 5))
        #expect(a.scalars(as: Float.self) == b.scalars(as: Float.self))
    }

    @Test func networkGradientsMatchCentralDifferences() {
        let model = ScoreModel(ScoreModelConfiguration(process: .ncsn, dimensions: 2, hiddenSize: 6), generator: RandomGenerator(seed: 6))
        for p in model.trainableParameters { p.value = p.value.cast(to: .float64) }
        let g = RandomGenerator(seed: 7)
        let x = Tensor.randn([4, 2], dtype: .float64, generator: g), sigma = Tensor([0.1, 0.5, 1, 2] as [Double])
        GradientCheck.checkParameters(model.trainableParameters) {
            denoisingScoreMatchingLoss(score: model.score(x, sigma: sigma, condition: sigma.log()), noise: x * 0.5, sigma: sigma)
        }
    }

    /// Trained briefly on two blobs, both processes put most samples near a blob and both blobs
    /// get a fair share.
    @Test(arguments: [ScoreModelConfiguration.Process.vp, .ncsn])
    func aSmallModelLearnsTwoBlobs(process: ScoreModelConfiguration.Process) {
        let model = ScoreModel(ScoreModelConfiguration(process: process, dimensions: 2, hiddenSize: 64, sigmaMax: 3, levels: 8, emaDecay: 0.99),
                               generator: RandomGenerator(seed: 8))
        let g = RandomGenerator(seed: 9)
        let centers = Tensor([-1.5, 0, 1.5, 0] as [Float], shape: [2, 2])
        let optimizer = Adam(parameters: model.trainableParameters, learningRate: 2e-3)
        for _ in 0..<2000 {
            let pick = Tensor.randint(0, 2, shape: [128], generator: g)
            let x = centers.indexSelect(axis: 0, indices: pick) + Tensor.randn([128, 2], standardDeviation: 0.1, generator: g)
            optimizer.zeroGradients()
            model.loss(x, generator: g).backward()
            optimizer.step()
            model.updateAverage()
        }
        let samples = process == .vp ? model.sampleSDE(count: 400, steps: 200, generator: RandomGenerator(seed: 10))
                                     : model.annealedLangevin(count: 400, stepsPerLevel: 50, generator: RandomGenerator(seed: 10))
        let coverage = ModeCoverage(samples: samples, centers: centers, standardDeviation: 0.15)
        #expect(coverage.withinThreeSigma > 0.8 && coverage.coveredModes == 2, "\(process): \(coverage)")
    }
}
