import Foundation
import Testing
@testable import TensorCore
import CTesseraKernels
import TensorCoreTesting

@Suite("Convolution and pooling")
struct ConvolutionTests {
    static let fixture: [String: Any] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/conv_ops.json")
        return try! JSONSerialization.jsonObject(with: try! Data(contentsOf: url)) as! [String: Any]
    }()

    static func tensor(_ any: Any?) -> Tensor {
        let d = any as! [String: Any]
        return Tensor((d["data"] as! [NSNumber]).map(\.doubleValue), shape: d["shape"] as! [Int])
    }

    static let settings: [String: (stride: (Int, Int), padding: ConvolutionPadding, dilation: (Int, Int), groups: Int)] = [
        "plain": ((1, 1), 0, (1, 1), 1),
        "stride_pad": ((2, 1), .explicit(1, 2), (1, 1), 1),
        "dilation": ((1, 1), 1, (2, 1), 1),
        "groups": ((1, 1), 1, (1, 1), 2),
        "depthwise": ((2, 2), 1, (1, 1), 4),
        "same": ((1, 1), .same, (1, 1), 1),
    ]

    @Test func conv2dForwardAndGradientsMatchPyTorch() {
        let tight = Tolerance(absolute: 1e-10, relative: 1e-9)
        for c in Self.fixture["cases"] as! [[String: Any]] {
            let name = c["name"] as! String
            let s = Self.settings[name]!
            let x = Self.tensor(c["x"]).requiringGrad(), w = Self.tensor(c["w"]).requiringGrad(), b = Self.tensor(c["b"])
            let y = x.conv2d(weight: w, bias: b, stride: s.stride, padding: s.padding, dilation: s.dilation, groups: s.groups)
            expectClose(y.detached(), Self.tensor(c["y"]), tolerance: tight, Comment(rawValue: "\(name) forward"))
            y.backward(gradient: Self.tensor(c["g"]))
            expectClose(x.grad!, Self.tensor(c["gx"]), tolerance: tight, Comment(rawValue: "\(name) input gradient"))
            expectClose(w.grad!, Self.tensor(c["gw"]), tolerance: tight, Comment(rawValue: "\(name) weight gradient"))
        }
    }

    @Test func conv1dAndPoolingMatchPyTorch() {
        let tight = Tolerance(absolute: 1e-10, relative: 1e-9)
        let c1 = Self.fixture["conv1d"] as! [String: Any]
        expectClose(Self.tensor(c1["x"]).conv1d(weight: Self.tensor(c1["w"]), stride: 2, padding: 1, dilation: 2),
                    Self.tensor(c1["y"]), tolerance: tight, "conv1d")
        let p = Self.fixture["pool"] as! [String: Any]
        let x = Self.tensor(p["x"])
        expectClose(x.maxPool2d(kernelSize: 2), Self.tensor(p["max"]), tolerance: tight, "max 2")
        expectClose(x.maxPool2d(kernelSize: 3, stride: 1, padding: 1), Self.tensor(p["max_s1p1"]), tolerance: tight, "max 3/1/1")
        expectClose(x.avgPool2d(kernelSize: 2), Self.tensor(p["avg"]), tolerance: tight, "avg 2")
        expectClose(x.avgPool2d(kernelSize: 3, stride: 2, padding: 1), Self.tensor(p["avg_p"]), tolerance: tight, "avg 3/2/1")
    }

    /// PyTorch's max-pool rules on both CPU paths (2×2/2 without padding, and the general
    /// window): the first maximum wins ties, a NaN wins over numbers.
    @Test func maxPoolingTiesAndNaNs() {
        for dtype in [DType.float32, .float64] {
            let x = Tensor([1, 3, 3, 0,
                            2, 3, .nan, 5,
                            7, 7, 1, 1,
                            7, 7, 1, .nan], shape: [1, 1, 4, 4]).cast(to: dtype).requiringGrad()
            let y = x.maxPool2d(kernelSize: 2)
            let values = y.scalars(as: Double.self)
            #expect(values[0] == 3 && values[1].isNaN && values[2] == 7 && values[3].isNaN)
            y.sum().backward()
            // Gradients land on the first maximum of each window (row-major), or the NaN.
            #expect(x.grad!.scalars(as: Double.self) == [0, 1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1])
            let general = x.detached().maxPool2d(kernelSize: (2, 2), stride: (2, 2), padding: (1, 1)).scalars(as: Double.self)
            #expect(general.count == 9 && general[0] == 1 && general[1] == 3 && general[4].isNaN && general[6] == 7)
        }
    }

    /// The float32 vector 2×2 pooling (eight windows a step) agrees with the float64 path on
    /// rows wide enough for it, with ties and NaNs: values and the positions gradients go to.
    @Test func vectorMaxPoolingAgreesWithTheScalarPath() {
        let count = 2 * 3 * 6 * 41
        var values: [Double] = (0..<count).map { (i: Int) -> Double in Double((i * 7919) % 5) }   // many ties
        for i in stride(from: 13, to: count, by: 97) { values[i] = Double.nan }
        let x64 = Tensor(values, shape: [2, 3, 6, 41]).cast(to: .float64).requiringGrad()
        let x32 = x64.detached().cast(to: .float32).requiringGrad()
        let (y64, y32) = (x64.maxPool2d(kernelSize: 2), x32.maxPool2d(kernelSize: 2))
        let (a, b) = (y64.scalars(as: Double.self), y32.scalars(as: Double.self))
        #expect(a.count == b.count && zip(a, b).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) })
        y64.sum().backward()
        y32.sum().backward()
        #expect(x64.grad!.scalars(as: Double.self) == x32.grad!.scalars(as: Double.self))
    }

    /// Every float32 path — the tap kernels (CPUBackend+TapConvolution) at each vector width
    /// the CPU has, the per-sample products (CPUBackend+SampleConvolution) and the batched
    /// GEMM — gives float64's results (the path checked against PyTorch above), forward and
    /// both gradients: groups, depthwise, strides (stride phases that no tap reaches: 1×1
    /// stride 2), dilation, padding past the kernel, 1×1 (no patch matrix), more samples than
    /// threads and fewer, channel counts off multiples of 8, 8×8 images (the narrow tiling).
    @Test func everyFloat32ConvolutionPathMatchesFloat64() {
        let cases: [(n: Int, c: Int, o: Int, h: Int, w: Int, k: (Int, Int), stride: (Int, Int), padding: (Int, Int),
                     dilation: (Int, Int), groups: Int)] = [
            (3, 32, 24, 9, 9, (3, 3), (1, 1), (1, 1), (1, 1), 1), (5, 20, 40, 8, 6, (3, 3), (2, 2), (1, 1), (1, 1), 1),
            (2, 24, 18, 7, 7, (1, 1), (1, 1), (0, 0), (1, 1), 1), (1, 18, 36, 6, 5, (1, 1), (2, 1), (0, 0), (1, 1), 3),
            (4, 8, 8, 10, 10, (3, 3), (1, 1), (1, 1), (1, 1), 8), (3, 6, 33, 11, 9, (3, 2), (1, 2), (2, 0), (2, 1), 1),
            (7, 17, 19, 5, 5, (5, 5), (1, 1), (2, 2), (1, 1), 1),
            (3, 16, 32, 13, 12, (3, 3), (2, 2), (1, 1), (1, 1), 1), (2, 12, 12, 9, 10, (3, 3), (1, 1), (1, 1), (1, 1), 12),
            (2, 10, 14, 7, 9, (1, 1), (2, 2), (0, 0), (1, 1), 1), (1, 6, 16, 14, 14, (5, 5), (1, 1), (0, 0), (1, 1), 1),
            (2, 3, 16, 8, 8, (3, 3), (3, 2), (2, 3), (1, 1), 1), (2, 8, 4, 9, 7, (3, 3), (2, 1), (1, 1), (2, 2), 2),
            (2, 5, 9, 4, 6, (1, 1), (1, 1), (1, 1), (1, 1), 1), (1, 1, 3, 30, 33, (3, 3), (1, 1), (1, 1), (1, 1), 1),
            (3, 16, 24, 8, 8, (3, 3), (1, 1), (1, 1), (1, 1), 1), (2, 8, 8, 8, 8, (3, 3), (1, 1), (1, 1), (1, 1), 8),
        ]
        for (i, t) in cases.enumerated() {
            let g = RandomGenerator(seed: UInt64(80 + i))
            let x = Tensor.randn([t.n, t.c, t.h, t.w], dtype: .float64, generator: g)
            let w = Tensor.randn([t.o, t.c / t.groups, t.k.0, t.k.1], dtype: .float64, generator: g)
            func run(_ dtype: DType) -> [Tensor] {
                let xp = x.cast(to: dtype).requiringGrad(), wp = w.cast(to: dtype).requiringGrad()
                let y = xp.conv2d(weight: wp, stride: t.stride, padding: .explicit(t.padding.0, t.padding.1),
                                  dilation: t.dilation, groups: t.groups)
                let weighting = Tensor.randn(y.shape, dtype: .float64, generator: RandomGenerator(seed: 98)).cast(to: dtype)
                (y * weighting).sum().backward()
                return [y, xp.grad!, wp.grad!].map { $0.cast(to: .float64) }
            }
            let reference = run(.float64)
            var paths = [(String, [Tensor])]()
            if tessera_kernels_have_avx2() != 0 {
                CPUBackend.$tapConvolutionForced.withValue(true) {
                    paths.append(("taps \(tessera_sgemm_kernel())-bit", run(.float32)))
                    if tessera_sgemm_kernel() == 512 && tessera_sgemm_force_kernel(256) != 0 {
                        paths.append(("taps 256-bit", run(.float32)))
                        tessera_sgemm_force_kernel(0)
                    }
                }
            }
            CPUBackend.$tapConvolutionForced.withValue(false) {
                paths.append(("per sample", run(.float32)))
                paths.append(("batched", CPUBackend.$perSampleConvolutionEnabled.withValue(false) { run(.float32) }))
            }
            for (path, result) in paths {
                for (name, (a, b)) in zip(["output", "input gradient", "weight gradient"], zip(result, reference)) {
                    expectClose(a, b, tolerance: Tolerance(absolute: 1e-3, relative: 1e-4), "case \(i) \(path) \(name)")
                }
            }
        }
    }

    @Test func gradientsAreCheckedNumericallyIncludingSecondOrder() {
        let x = sample([2, 4, 5, 5], seed: 50), w = sample([4, 2, 3, 3], seed: 51)
        GradientCheck.check([x, w], "conv2d groups stride dilation") {
            $0[0].conv2d(weight: $0[1], stride: (2, 1), padding: .explicit(1, 2), dilation: (1, 2), groups: 2)
        }
        GradientCheck.checkSecondOrder([x, w], "conv2d second order") { ($0[0].conv2d(weight: $0[1], padding: 1, groups: 2)).tanh() }
        GradientCheck.check([x], "maxPool2d") { $0[0].maxPool2d(kernelSize: 2, stride: 1) }
        GradientCheck.check([x], "avgPool2d") { $0[0].avgPool2d(kernelSize: 3, stride: 2, padding: 1) }
        GradientCheck.check([sample([2, 3, 8], seed: 52), sample([2, 3, 3], seed: 53)], "conv1d") {
            $0[0].conv1d(weight: $0[1], stride: 2, padding: 1)
        }
    }

    @Test func channelMismatchNamesTheShapes() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([8, 3, 32, 32]).conv2d(weight: Tensor.zeros([6, 1, 5, 5]))
        }
        let text = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(text.contains("[conv2d] input [8, 3, 32, 32] has 3 channels, weight expects 1"))
    }
}
