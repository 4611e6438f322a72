import Testing
import TensorCore
import TensorCoreTesting
@testable import NN

@Suite("Layers")
struct LayerTests {
    let x = Fixtures.tensor("norm_input")
    let tight = Tolerance(absolute: 1e-10, relative: 1e-9)

    @Test func normalizationLayersMatchPyTorch() throws {
        let ln = LayerNorm([3, 5])
        ln.weight!.value = Fixtures.tensor("layernorm", "weight").cast(to: .float64)
        ln.bias!.value = Fixtures.tensor("layernorm", "bias").cast(to: .float64)
        expectClose(ln(x), Fixtures.tensor("layernorm", "out"), tolerance: tight, "LayerNorm")
        let gn = GroupNorm(groupCount: 1, channelCount: 3)
        gn.move(to: .cpu)
        try gn.loadStateDict(gn.stateDict().mapValues { $0.cast(to: .float64) })
        expectClose(gn(x), Fixtures.tensor("groupnorm"), tolerance: tight, "GroupNorm")
        let rms = RMSNorm([5])
        rms.weight!.value = Tensor.ones([5], dtype: .float64)
        expectClose(rms(x), Fixtures.tensor("rmsnorm"), tolerance: tight, "RMSNorm")
    }

    @Test func batchNormTracksRunningStatisticsLikePyTorch() {
        let bn = BatchNorm1d(featureCount: 3)
        for (_, p) in bn.namedParameters() { p.value = p.value.cast(to: .float64) }
        for (_, b) in bn.namedBuffers() { b.value = b.value.cast(to: .float64) }
        expectClose(bn(x), Fixtures.tensor("batchnorm", "train1"), tolerance: tight, "first batch")
        expectClose(bn(x * 2 + 1), Fixtures.tensor("batchnorm", "train2"), tolerance: tight, "second batch")
        expectClose(bn.runningMean!.value, Fixtures.tensor("batchnorm", "running_mean"), tolerance: tight, "running mean")
        expectClose(bn.runningVariance!.value, Fixtures.tensor("batchnorm", "running_var"), tolerance: tight, "running variance")
        bn.eval()
        expectClose(bn(x), Fixtures.tensor("batchnorm", "eval"), tolerance: tight, "eval mode")
    }

    @Test func bilinearMatchesPyTorch() {
        let layer = Bilinear(inputSize1: 3, inputSize2: 5, outputSize: 2)
        layer.weight.value = Fixtures.tensor("bilinear", "weight")
        layer.bias!.value = Fixtures.tensor("bilinear", "bias")
        expectClose(layer(Fixtures.tensor("bilinear", "x1"), Fixtures.tensor("bilinear", "x2")), Fixtures.tensor("bilinear", "out"),
                    tolerance: tight)
    }

    @Test func linearComputesAffineMapAndIsGradientChecked() {
        let layer = Linear(inputSize: 3, outputSize: 2)
        layer.weight.value = Tensor([1.0, 2.0, 3.0, -1.0, 0.0, 1.0] as [Double], shape: [2, 3])
        layer.bias!.value = Tensor([0.5, -0.5] as [Double], shape: [2])
        expectClose(layer(Tensor([1.0, 1.0, 2.0] as [Double], shape: [1, 3])), [9.5, 0.5], shape: [1, 2])
        GradientCheck.check([Tensor.randn([4, 3], dtype: .float64), layer.weight.value.detached()]) { xs in
            xs[0].matmul(xs[1].transposed()) + layer.bias!.value.detached()
        }
        #expect(layer.weight.shape == [2, 3])
        let fresh = Linear(inputSize: 100, outputSize: 50)
        let bound = 0.1
        #expect(fresh.weight.value.abs().max().item() <= Float(bound))
        #expect(fresh.weight.value.abs().max().item() > Float(bound * 0.9))
    }

    /// Sequential runs Linear + ReLU as one fused layer: the same values and gradients as the
    /// layers one by one.
    @Test func sequentialFusesLinearAndReLU() {
        let g = RandomGenerator(seed: 11)
        for dtype in [DType.float64, .float32] {
            let model = Sequential(Linear(inputSize: 6, outputSize: 9, dtype: dtype, generator: g), ReLU(),
                                   Linear(inputSize: 9, outputSize: 4, dtype: dtype, generator: g), ReLU(), Tanh())
            let x = Tensor.randn([7, 6], generator: g).cast(to: dtype)
            let fused = model(x)
            let fusedGrads = gradients(of: [fused.sum()], withRespectTo: model.parameters().map(\.value))
            var y = x
            for layer in model.layers { y = layer.forward(y) }   // one by one, no fusion
            let grads = gradients(of: [y.sum()], withRespectTo: model.parameters().map(\.value))
            let tolerance = dtype == .float64 ? tight : Tolerance(absolute: 1e-5, relative: 1e-5)
            expectClose(fused, y, tolerance: tolerance, "\(dtype) output")
            for (a, b) in zip(fusedGrads, grads) { expectClose(a, b, tolerance: tolerance, "\(dtype) gradient") }
        }
    }

    @Test func embeddingLooksUpRowsAndSkipsPaddingGradient() {
        let e = Embedding(count: 5, dimension: 3, paddingIndex: 0)
        #expect(e.weight.value[0].scalars == [0, 0, 0])
        let indices = Tensor([Int64(1), 0, 4, 1], shape: [2, 2])
        let out = e(indices)
        #expect(out.shape == [2, 2, 3])
        out.sum().backward()
        let g = e.weight.grad!
        #expect(g[0].scalars == [0, 0, 0])
        #expect(g[1].scalars == [2, 2, 2])
        #expect(g[4].scalars == [1, 1, 1])
    }

    @Test func dropoutScalesInTrainingAndIsIdentityInEval() {
        let d = Dropout(p: 0.25, generator: RandomGenerator(seed: 3))
        let x = Tensor.ones([10_000])
        let y = d(x)
        let kept = (y .> 0).cast(to: .float32).mean().item()
        #expect(Swift.abs(kept - 0.75) < 0.02)
        #expect(Swift.abs(y.max().item() - 1 / 0.75) < 1e-5)
        d.eval()
        #expect(d(x).allEqual(x))
    }

    @Test func alphaDropoutKeepsMeanAndVariance() {
        let d = AlphaDropout(p: 0.2, generator: RandomGenerator(seed: 4))
        let x = Tensor.randn([200_000], generator: RandomGenerator(seed: 5))
        let y = d(x)
        #expect(Swift.abs(y.mean().item()) < 0.02)
        #expect(Swift.abs(y.standardDeviation().item() - 1) < 0.02)
    }

    @Test func initializersFollowTheirFormulas() {
        let g = RandomGenerator(seed: 6)
        let w = Initializer.kaimingNormal([512, 256], generator: g)
        #expect(Swift.abs(w.standardDeviation().item() - Float((2.0 / 256).squareRoot())) < 0.002)
        let u = Initializer.xavierUniform([300, 200], generator: g)
        let bound = Float((6.0 / 500).squareRoot())
        #expect(u.max().item() <= bound && u.max().item() > bound * 0.99)
        let q = Initializer.orthogonal([6, 4], dtype: .float64, generator: g)
        expectClose(q.transposed().matmul(q), Tensor.eye(4, dtype: .float64), tolerance: Tolerance(absolute: 1e-10, relative: 0))
        let wide = Initializer.orthogonal([3, 7], dtype: .float64, generator: g)
        expectClose(wide.matmul(wide.transposed()), Tensor.eye(3, dtype: .float64), tolerance: Tolerance(absolute: 1e-10, relative: 0))
        #expect(Initializer.gain(for: .tanh) == 5.0 / 3)
    }
}

@Suite("Fused batch norm")
struct FusedBatchNormTests {
    /// The one-node batch norm equals the composed formula in value and in first and second
    /// derivatives (the closed-form backward, and the recomputed one under createGraph).
    @Test func matchesTheComposedFormulaAndIsGradientChecked() {
        let g = RandomGenerator(seed: 21)
        let x = Tensor.randn([5, 3, 4], dtype: .float64, generator: g) * 2 + 1
        let w = Tensor.randn([3], dtype: .float64, generator: g), b = Tensor.randn([3], dtype: .float64, generator: g)
        let fused = batchNormTraining(x, weight: w, bias: b)
        expectClose(fused.output, batchNorm(x, runningMean: nil, runningVariance: nil, weight: w, bias: b, training: true),
                    tolerance: Tolerance(absolute: 1e-12, relative: 1e-12))
        expectClose(fused.mean, x.mean(axes: [0, 2]), tolerance: Tolerance(absolute: 1e-12, relative: 1e-12))
        expectClose(fused.variance, x.variance(axes: [0, 2], correction: 0), tolerance: Tolerance(absolute: 1e-12, relative: 1e-12))
        // A weighting makes the loss depend on the output beyond its (constant) sum.
        let weighting = Tensor.randn([5, 3, 4], dtype: .float64, generator: g)
        GradientCheck.check([x, w, b], "fused batch norm") { t in
            (batchNormTraining(t[0], weight: t[1], bias: t[2]).output * weighting).sum()
        }
        GradientCheck.checkSecondOrder([x, w, b], "fused batch norm, second order") { t in
            (batchNormTraining(t[0], weight: t[1], bias: t[2]).output * weighting).tanh().sum()
        }
        GradientCheck.check([Tensor.randn([6, 2], dtype: .float64, generator: g)], "fused batch norm without affine") { t in
            (batchNormTraining(t[0]).output.squared() * Tensor([1.0, 3])).sum()
        }
    }
}

@Suite("Functional forms agree with the layers")
struct FunctionalFormTests {
    @Test func freeFunctionsMatchModules() {
        let x = Tensor.randn([4, 3, 5], dtype: .float64, generator: RandomGenerator(seed: 12))
        let bn = BatchNorm1d(featureCount: 3)
        for (_, p) in bn.namedParameters() { p.value = p.value.cast(to: .float64) }
        for (_, b) in bn.namedBuffers() { b.value = b.value.cast(to: .float64) }
        expectClose(batchNorm(x, runningMean: nil, runningVariance: nil, training: true), bn(x))
        let gn = GroupNorm(groupCount: 3, channelCount: 3)
        for (_, p) in gn.namedParameters() { p.value = p.value.cast(to: .float64) }
        expectClose(groupNorm(x, groups: 3), gn(x))
        expectClose(layerNorm(x), LayerNorm(5, epsilon: 1e-5).forward(x.cast(to: .float32)).cast(to: .float64),
                    tolerance: Tolerance(absolute: 1e-5, relative: 1e-5))
        #expect(dropout(x, p: 0.5, training: false).allEqual(x))
    }
}
