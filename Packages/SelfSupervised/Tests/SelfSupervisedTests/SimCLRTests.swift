import Foundation
import NN
import TensorCore
import TensorCoreTesting
import Testing
import Vision
@testable import SelfSupervised

@Suite("SimCLR, its augmentation and the linear probe")
struct SimCLRTests {
    @Test func randomResizedCropsKeepTheirWindowInsideTheImage() {
        let crop = RandomResizedCrop(size: 8, scale: 0.2...1, seed: 3)
        for _ in 0..<50 {
            let (top, left, h, w) = crop.window(height: 28, width: 20)
            #expect(top >= 0 && left >= 0 && top + h <= 28 && left + w <= 20 && h > 0 && w > 0)
            let area = Double(h * w) / Double(28 * 20)
            #expect(area >= 0.15 && area <= 1.05, "area fraction \(area)")
        }
        // The whole image resized to its own size is the image; a constant stays constant.
        let whole = RandomResizedCrop(size: 6, scale: 1...1, ratio: 1...1, seed: 0)
        let image = Tensor.rand([2, 6, 6], generator: RandomGenerator(seed: 1))
        expectClose(whole(image), image, tolerance: Tolerance(absolute: 1e-6, relative: 1e-6))
        expectClose(crop(Tensor.ones([1, 28, 20]) * 0.25), Tensor.ones([1, 8, 8]) * 0.25, tolerance: Tolerance(absolute: 1e-6, relative: 0))
    }

    @Test func bilinearResizeMatchesAlignCornersFalse() {
        // Upsampling a 2×2 crop to 4×4 with half-pixel centres: PyTorch's interpolate gives
        // rows [1, 1.25, 1.75, 2] for a top row 1, 2 (align_corners=False, edges clamped).
        let crop = RandomResizedCrop(size: 4, scale: 1...1, ratio: 1...1, seed: 0)
        let out = crop(Tensor([1, 2, 3, 4] as [Float], shape: [1, 2, 2])).scalars(as: Float.self)
        #expect(Array(out[0..<4]) == [1, 1.25, 1.75, 2])
        #expect(Array(out[12..<16]) == [3, 3.25, 3.75, 4])
    }

    @Test func augmentedViewsDifferAndStayInRange() {
        let augment = SimCLRAugmentation(size: 12, seed: 4)
        let images = Tensor.rand([6, 1, 12, 12], generator: RandomGenerator(seed: 5))
        let a = augment(images), b = augment(images)
        #expect(a.shape == [6, 1, 12, 12])
        #expect(a.scalars(as: Float.self) != b.scalars(as: Float.self))
        #expect(a.scalars(as: Float.self).allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    @Test func lossGradientsMatchFiniteDifferences() {
        let model = SimCLR(SimCLRConfiguration(widths: [2, 3], projectionHidden: 4, projectionSize: 3), generator: RandomGenerator(seed: 6))
        for p in model.parameters() { p.value = p.value.cast(to: .float64) }
        for (_, b) in model.namedBuffers() { b.value = b.value.cast(to: .float64) }
        let v1 = Tensor.rand([3, 1, 4, 4], dtype: .float64, generator: RandomGenerator(seed: 7))
        let v2 = Tensor.rand([3, 1, 4, 4], dtype: .float64, generator: RandomGenerator(seed: 8))
        #expect(model.represent(v1).shape == [3, 3])
        GradientCheck.checkParameters(model.parameters()) { model.loss(v1, v2) }
    }

    @Test func pretrainingLowersTheLossAndTheProbeReadsTheFeatures() throws {
        // Two classes of 12×12 images: horizontal against vertical bars at random offsets.
        let g = RandomGenerator(seed: 9)
        let offsets = Tensor.randint(0, 6, shape: [128], generator: g).scalars(as: Int64.self)
        var pixels = [Float](repeating: 0, count: 128 * 144), labels: [Int64] = []
        for i in 0..<128 {
            let o = Int(offsets[i]) * 2, vertical = i % 2 == 1
            for a in 0..<12 { for t in o..<(o + 2) { pixels[i * 144 + (vertical ? a * 12 + t : t * 12 + a)] = 1 } }
            labels.append(vertical ? 1 : 0)
        }
        let data = TensorDataset(inputs: Tensor(pixels, shape: [128, 1, 12, 12]), targets: Tensor(labels))
        var c = SimCLRExperiment.Configuration()
        c.model = SimCLRConfiguration(widths: [8, 16], projectionHidden: 16, projectionSize: 8)
        c.epochs = 4
        c.batchSize = 32
        c.probe.epochs = 30
        c.probe.batchSize = 32
        c.probe.learningRate = 1e-2
        let result = try SimCLRExperiment.run(train: data, test: data, classes: 2, configuration: c, log: { _ in })
        let losses = result.history.values(of: "train_loss")
        #expect(losses.last! < losses.first!, "\(losses)")
        #expect(result.final["probe_test_accuracy"]! >= 0.9, "\(result.final)")
    }

    /// A feature constant in training keeps scale 1 (scikit-learn's rule): a test value there
    /// cannot blow the logits up.
    @Test func theProbeIgnoresFeaturesConstantInTraining() throws {
        let labels = Tensor((0..<64).map { Int64($0 % 2) })
        var signal: [Float] = []
        for i in 0..<64 { signal.append((i % 2 == 0 ? -1 : 1) + Float(i % 7) * 0.05) }
        let train = TensorDataset(inputs: Tensor(signal.flatMap { [$0, 0] }, shape: [64, 2]), targets: labels)
        let test = TensorDataset(inputs: Tensor(signal.flatMap { [$0, 0.5] }, shape: [64, 2]), targets: labels)
        var c = LinearProbe.Configuration()
        c.epochs = 20
        c.batchSize = 16
        c.learningRate = 1e-2
        let result = try LinearProbe.fit(train: train, test: test, classes: 2, configuration: c)
        #expect(result.trainAccuracy == 1 && result.testAccuracy == 1, "\(result)")
    }
}
