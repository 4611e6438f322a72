import Foundation
import Testing
import TensorCore
import TensorCoreTesting
@testable import Vision

@Suite("Resampling, instance norm and transforms")
struct ResamplingTests {
    static let fixture: [String: Any] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/vision_fixtures.json")
        return try! JSONSerialization.jsonObject(with: try! Data(contentsOf: url)) as! [String: Any]
    }()

    static func tensor(_ key: String) -> Tensor {
        let d = fixture[key] as! [String: Any]
        return Tensor((d["data"] as! [NSNumber]).map(\.doubleValue), shape: d["shape"] as! [Int])
    }

    @Test func layersMatchPyTorch() {
        let x = Self.tensor("x"), tight = Tolerance(absolute: 1e-10, relative: 1e-9)
        expectClose(x.adaptiveAvgPool2d(outputSize: (3, 2)), Self.tensor("adaptive_3x2"), tolerance: tight, "adaptive 3x2")
        expectClose(AdaptiveAvgPool2d(outputSize: 1)(x), Self.tensor("adaptive_1"), tolerance: tight, "adaptive 1")
        expectClose(x.upsampledNearest(scale: (2, 3)), Self.tensor("upsample_2x3"), tolerance: tight, "upsample")
        expectClose(InstanceNorm2d(featureCount: 3)(x), Self.tensor("instance_norm"), tolerance: Tolerance(absolute: 1e-7, relative: 1e-6), "instance norm")
        GradientCheck.check([Self.tensor("x")], "adaptive pool") { $0[0].adaptiveAvgPool2d(outputSize: (3, 2)) }
        GradientCheck.check([Self.tensor("x")], "upsample") { $0[0].upsampledNearest(scale: (2, 2)) }
    }

    @Test func dropout2dDropsWholeChannels() {
        let d = Dropout2d(p: 0.5, generator: RandomGenerator(seed: 2))
        let y = d(Tensor.ones([4, 8, 3, 3]))
        let perChannel = y.sum(axes: [2, 3]).scalars
        #expect(perChannel.allSatisfy { $0 == 0 || $0 == 18 })
        #expect(perChannel.contains(0) && perChannel.contains(18))
    }

    @Test func transformsBehaveLikeTorchvision() {
        let image = Tensor((0..<(2 * 4 * 4)).map { UInt8($0) }, shape: [2, 4, 4])
        let float = ConvertFromUInt8()(image)
        #expect(float.dtype == .float32 && Swift.abs(float.max().item() - 31.0 / 255) < 1e-6)
        let normalized = Normalize(mean: [0.5, 0.5], standardDeviation: [0.5, 0.25])(Tensor.ones([2, 4, 4]))
        #expect(normalized[0].scalars.allSatisfy { $0 == 1 } && normalized[1].scalars.allSatisfy { $0 == 2 })
        let crop = RandomCrop(size: 4, padding: 2, seed: 3)
        let cropped = (0..<20).map { _ in crop(float) }
        #expect(cropped.allSatisfy { $0.shape == [2, 4, 4] })
        #expect(Set(cropped.map { $0.sum().item() }).count > 1, "crops should land in different places")
        let flip = RandomHorizontalFlip(p: 1)
        #expect(flip(float)[0, 0].scalars == float[0, 0].scalars.reversed())
        let still = RandomAffine(maxDegrees: 0, seed: 1)(float)
        expectClose(still, float)
        let turned = RandomAffine(maxDegrees: 30, maxTranslation: 0.1, seed: 1)(float)
        #expect(turned.shape == float.shape)
        let pipeline = Compose([ConvertFromUInt8(), RandomHorizontalFlip(p: 1), Normalize(mean: [0, 0], standardDeviation: [1, 1])])
        expectClose(pipeline(image), float.flipped(axes: [2]))
    }
}
