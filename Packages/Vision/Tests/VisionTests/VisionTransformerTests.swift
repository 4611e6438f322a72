import Foundation
import NN
import TensorCore
import TensorCoreTesting
import Testing
@testable import Vision

@Suite("Vision Transformer")
struct VisionTransformerTests {
    let tiny = ViTConfiguration(imageSize: 4, channels: 1, patchSize: 2, width: 8, depth: 2, heads: 2, mlpWidth: 12, classes: 3)

    @Test func sinusoidalPositionsMatchMAE() {
        let fixtures = JSONFixtures("Fixtures/vit_fixtures.json")
        expectClose(VisionTransformer.sinusoidalPositions(grid: 3, width: 8), fixtures.tensor("sincos_grid3_width8").cast(to: .float32),
                    tolerance: Tolerance(absolute: 1e-6, relative: 1e-6))
    }

    /// Patches become tokens row by row: with a projection that sums a patch, token k is the
    /// sum of patch k.
    @Test func patchesAreTokensInRowMajorOrder() {
        let embedding = PatchEmbedding(channels: 1, width: 1, patchSize: 2)
        embedding.projection.weight.value = Tensor.ones([1, 1, 2, 2])
        embedding.projection.bias!.value = Tensor.zeros([1])
        // A 4×6 image whose 2×2 patch (r, c) holds the value 3r + c everywhere.
        var pixels: [Float] = []
        for y in 0..<4 { for x in 0..<6 { pixels.append(Float(3 * (y / 2) + x / 2)) } }
        let tokens = embedding(Tensor(pixels, shape: [1, 1, 4, 6]))
        #expect(tokens.shape == [1, 6, 1])
        expectClose(tokens, (0..<6).map { 4 * Double($0) }, shape: [1, 6, 1])
    }

    @Test(arguments: ViTConfiguration.Positions.allCases)
    func logitsForImagesAndFlatRows(_ positions: ViTConfiguration.Positions) {
        var c = tiny
        c.positions = positions
        let vit = VisionTransformer(c, generator: RandomGenerator(seed: 1))
        let x = Tensor.rand([5, 1, 4, 4], generator: RandomGenerator(seed: 2))
        #expect(vit(x).shape == [5, 3])
        expectClose(vit(x.reshaped(to: [5, 16])), vit(x), tolerance: Tolerance(absolute: 0, relative: 0))
        // Learned positions are parameters; sinusoidal ones a buffer.
        #expect(vit.namedParameters().contains { $0.0 == "positionEmbedding" } == (positions == .learned))
    }

    @Test func gradientsMatchFiniteDifferences() {
        let vit = VisionTransformer(tiny, generator: RandomGenerator(seed: 3))
        for p in vit.parameters() { p.value = p.value.cast(to: .float64) }
        let x = Tensor.rand([3, 1, 4, 4], dtype: .float64, generator: RandomGenerator(seed: 4))
        let y = Tensor([0, 2, 1] as [Int64])
        GradientCheck.checkParameters(vit.parameters()) { crossEntropy(logits: vit(x), targets: y) }
    }

    /// The class token's attention over the patches: one map per image, its weights in [0, 1]
    /// summing with the class token's own to 1, different for different images.
    @Test func classTokenAttentionIsADistributionOverPatches() {
        let vit = VisionTransformer(tiny, generator: RandomGenerator(seed: 5))
        let x = Tensor.rand([2, 1, 4, 4], generator: RandomGenerator(seed: 6))
        let maps = vit.classTokenAttention(x)
        #expect(maps.shape == [2, 2, 2])
        let values = maps.scalars(as: Float.self)
        #expect(values.allSatisfy { $0 > 0 && $0 < 1 })
        let sums = maps.sum(axes: [1, 2]).scalars(as: Float.self)
        #expect(sums.allSatisfy { $0 < 1 && $0 > 0.3 })
        #expect(Array(values[0..<4]) != Array(values[4..<8]))
        #expect(vit.isTraining)
        let path = NSTemporaryDirectory() + "tessera-attention-\(UInt64.random(in: 0..<UInt64.max)).png"
        try? saveAttentionGrid(vit, images: x, to: path)
        let grid = try? PNG.read(path)
        #expect(grid?.shape == [3, 2 + 1 * 6, 2 + 4 * 6], "two pairs in one row of 2-pixel-padded 4×4 tiles")
    }

    @Test func badConfigurationsStop() async {
        await #expect(processExitsWith: .failure) { _ = VisionTransformer(ViTConfiguration(imageSize: 28, patchSize: 5)) }
        await #expect(processExitsWith: .failure) { _ = VisionTransformer(ViTConfiguration(width: 66, heads: 4)) }
    }
}
