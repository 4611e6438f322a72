import Foundation
import NN
import TensorCore
import TensorCoreTesting
import Testing
@testable import TimeSeriesModels

@Suite("Fully convolutional series classifier")
struct ClassifierTests {
    /// Noisy sines (class 0) against noisy square waves (class 1) of random phase.
    func waves(_ n: Int, seed: UInt64) -> TensorDataset {
        let g = RandomGenerator(seed: seed)
        let phases = Tensor.rand([n], low: 0, high: 2 * Double.pi, generator: g).scalars(as: Double.self)
        let noise = Tensor.randn([n, 40], generator: g).scalars(as: Float.self)
        var values: [Float] = [], labels: [Int64] = []
        for i in 0..<n {
            let label = i % 2
            for t in 0..<40 {
                let s = sin(Double(t) * 2 * Double.pi / 10 + phases[i])
                values.append(Float(label == 0 ? s : (s >= 0 ? 1 : -1)) + 0.1 * noise[i * 40 + t])
            }
            labels.append(Int64(label))
        }
        return TensorDataset(inputs: Tensor(values, shape: [n, 1, 40]), targets: Tensor(labels))
    }

    @Test func shapesForAnyLength() {
        let model = FullyConvolutionalClassifier(inputChannels: 2, classes: 3, widths: [4, 6], kernelSizes: [8, 3], generator: RandomGenerator(seed: 0))
        for length in [1, 7, 30] { #expect(model(Tensor.randn([5, 2, length])).shape == [5, 3]) }
    }

    @Test func gradientsMatchFiniteDifferences() {
        let model = FullyConvolutionalClassifier(inputChannels: 1, classes: 2, widths: [3, 2], kernelSizes: [4, 3], generator: RandomGenerator(seed: 1))
        for p in model.parameters() { p.value = p.value.cast(to: .float64) }
        for (_, b) in model.namedBuffers() { b.value = b.value.cast(to: .float64) }
        let x = Tensor.randn([4, 1, 9], dtype: .float64, generator: RandomGenerator(seed: 2))
        let y = Tensor([0, 1, 1, 0] as [Int64])
        GradientCheck.checkParameters(model.parameters()) { crossEntropy(logits: model(x), targets: y) }
    }

    @Test func learnsSinesFromSquareWaves() throws {
        var c = SeriesClassification.Configuration()
        c.widths = [8, 16, 8]
        c.epochs = 15
        c.learningRate = 1e-2
        let (_, trainer) = try SeriesClassification.fit(train: waves(64, seed: 1), test: waves(64, seed: 2), classes: 2, configuration: c, log: { _ in })
        #expect(try #require(trainer.history.epochs.last?["test_accuracy"]) >= 0.9)
    }
}
