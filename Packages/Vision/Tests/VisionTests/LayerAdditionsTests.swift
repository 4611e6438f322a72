import Foundation
import NN
import Testing
import TensorCore
import TensorCoreTesting
@testable import Vision

@Suite("Transposed convolution, adaptive max pooling, bilinear resizing, spectral norm, grids, loader transforms")
struct LayerAdditionsTests {
    let tight = Tolerance(absolute: 1e-10, relative: 1e-9)

    static func group(_ key: String) -> [String: Any] { ResamplingTests.fixture[key] as! [String: Any] }
    static func tensor(_ any: Any?) -> Tensor {
        let d = any as! [String: Any]
        return Tensor((d["data"] as! [NSNumber]).map(\.doubleValue), shape: d["shape"] as! [Int])
    }

    @Test func transposedConvolutionMatchesPyTorch() {
        let g = Self.group("conv_transpose")
        let x = Self.tensor(g["x"]), w = Self.tensor(g["w"]), b = Self.tensor(g["b"])
        expectClose(x.convTranspose2d(weight: w), Self.tensor(g["plain"]), tolerance: tight, "plain")
        expectClose(x.convTranspose2d(weight: w, bias: b, stride: (2, 2), padding: (1, 1), outputPadding: (1, 1),
                                      dilation: (2, 1), groups: 2),
                    Self.tensor(g["strided"]), tolerance: tight, "stride 2, padding 1, output padding 1, dilation (2, 1), groups 2")
        let layer = ConvTranspose2d(inputChannels: 4, outputChannels: 6, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1,
                                    groups: 2)
        #expect(layer.weight.shape == [4, 3, 3, 3])
        #expect(layer(x.cast(to: .float32)).shape == [2, 6, 10, 8])
    }

    @Test func transposedConvolutionGradients() {
        Tensor.manualSeed(2)
        let x = Tensor.randn([1, 2, 3, 3], dtype: .float64), w = Tensor.randn([2, 2, 2, 3], dtype: .float64)
        GradientCheck.check([x, w], "convTranspose2d") { v in
            v[0].convTranspose2d(weight: v[1], stride: (2, 1), padding: (1, 0), outputPadding: (1, 0), groups: 2)
        }
        GradientCheck.checkSecondOrder([x, w], "convTranspose2d second order") { v in
            v[0].convTranspose2d(weight: v[1], stride: (2, 2)).squared()
        }
    }

    @Test func adaptiveMaxPoolAndBilinearMatchPyTorch() {
        let x = ResamplingTests.tensor("x")
        expectClose(x.adaptiveMaxPool2d(outputSize: (3, 2)), ResamplingTests.tensor("adaptive_max_3x2"), tolerance: tight, "adaptive max")
        expectClose(AdaptiveMaxPool2d(outputSize: 1)(x), x.max(axes: [2, 3], keepDims: true), tolerance: tight, "global max")
        expectClose(x.resizedBilinear(size: (9, 4)), ResamplingTests.tensor("bilinear_9x4"), tolerance: tight, "bilinear")
        expectClose(x.resizedBilinear(size: (9, 4), alignCorners: true), ResamplingTests.tensor("bilinear_9x4_corners"),
                    tolerance: tight, "bilinear, align corners")
        expectClose(Upsample(scaleFactor: 2, mode: .bilinear(alignCorners: false))(x), ResamplingTests.tensor("bilinear_x2"),
                    tolerance: tight, "Upsample bilinear x2")
        GradientCheck.check([x[0..<1]], "adaptive max") { $0[0].adaptiveMaxPool2d(outputSize: (3, 2)) }
        GradientCheck.check([x[0..<1]], "bilinear") { $0[0].resizedBilinear(size: (4, 7)) }
    }

    @Test func spectralNormDividesByTheLargestSingularValue() throws {
        let g = Self.group("spectral")
        let w = Self.tensor(g["w"]), sigma = (g["sigma"] as! NSNumber).doubleValue
        let linear = Linear(inputSize: 3, outputSize: 5, dtype: .float64)
        linear.weight.value = w
        let sn = SpectralNorm(linear, powerIterations: 30, generator: RandomGenerator(seed: 3))
        let x = Tensor.randn([4, 3], dtype: .float64)
        let y = sn(x)  // training mode: 30 power iterations
        #expect(abs(sn.sigma().item(as: Double.self) - sigma) < 1e-8)
        expectClose(y, x.linear(weight: w / sigma, bias: linear.bias!.value), tolerance: Tolerance(absolute: 1e-8, relative: 1e-7))
        #expect(sn.namedParameters().map(\.0).sorted() == ["module.bias", "module.weight"])
        _ = sn.eval()
        GradientCheck.checkParameters([linear.weight, linear.bias!], "spectral norm (eval: u fixed)") {
            (sn(x) * Tensor((0..<20).map { Double($0 % 5) - 2 }, shape: [4, 5])).sum()
        }
        let conv = SpectralNorm(Conv2d(inputChannels: 2, outputChannels: 3, kernelSize: 3, padding: 1))
        #expect(conv(Tensor.randn([1, 2, 5, 5])).shape == [1, 3, 5, 5])
    }

    @Test func filterAndFeatureMapGridsAreWritten() throws {
        let directory = NSTemporaryDirectory() + "tessera-grids-\(ProcessInfo.processInfo.processIdentifier)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let conv = Conv2d(inputChannels: 1, outputChannels: 6, kernelSize: 5)
        try saveFilterGrid(conv.weight.value, to: directory + "/filters.png", columns: 3, scale: 4)
        let filters = try PNG.read(directory + "/filters.png")
        // 2 rows × 3 columns of 20×20 tiles with 2-pixel padding.
        #expect(filters.shape == [1, 2 * 22 + 2, 3 * 22 + 2])
        let maps = conv(Tensor.rand([1, 1, 12, 12]))
        try saveFeatureMapGrid(maps, to: directory + "/maps.png", columns: 6)
        #expect(try PNG.read(directory + "/maps.png").shape == [1, 12, 6 * 10 + 2])
    }

    @Test func transformsRunInsideTheDataLoader() {
        let images = Tensor.rand([6, 1, 4, 4]), labels = Tensor((0..<6).map(Int64.init))
        let dataset = TransformedDataset(TensorDataset(inputs: images, targets: labels), transform: RandomHorizontalFlip(p: 1))
        let loader = DataLoader(stacking: dataset, batchSize: 4)
        let batches = Array(loader.batches())
        #expect(batches.count == 2)
        expectClose(batches[0].input, images[0..<4].flipped(axes: [3]), tolerance: tight)
        #expect(batches[1].target.scalars(as: Int64.self) == [4, 5])
    }

    @Test func oneDimensionalPooling() {
        let x = Tensor([1, 5, 2, 8, 3, 0, 4], shape: [1, 1, 7]).cast(to: .float64)
        #expect(MaxPool1d(kernelSize: 2)(x).scalars(as: Double.self) == [5, 8, 3])
        #expect(x.maxPool1d(kernelSize: 3, stride: 2, padding: 1).scalars(as: Double.self) == [5, 8, 8, 4])
        expectClose(AvgPool1d(kernelSize: 3, stride: 2)(x), [8.0 / 3, 13.0 / 3, 7.0 / 3], tolerance: tight)
        GradientCheck.check([Tensor.randn([2, 3, 9], dtype: .float64)], "pool1d") { v in
            Tensor.concatenated([v[0].maxPool1d(kernelSize: 3, stride: 2), v[0].avgPool1d(kernelSize: 2, padding: 1)], axis: 2)
        }
    }
}
