import Testing
import TensorCore
import TensorCoreTesting

/// Float64 inputs away from kinks and singularities, deterministic per shape.
func sample(_ shape: [Int], seed: UInt64, low: Double = -1.5, high: Double = 1.5) -> Tensor {
    Tensor.rand(shape, low: low, high: high, dtype: .float64, generator: RandomGenerator(seed: seed))
}

func positive(_ shape: [Int], seed: UInt64) -> Tensor { sample(shape, seed: seed, low: 0.3, high: 2) }

@Suite("Gradients match central differences in Float64")
struct GradientTests {
    @Test func elementwiseUnaryOps() {
        let x = sample([3, 4], seed: 1)
        let p = positive([3, 4], seed: 2)
        let cases: [(String, Tensor, (Tensor) -> Tensor)] = [
            ("negate", x, { -$0 }), ("abs", x, { $0.abs() }), ("squared", x, { $0.squared() }),
            ("exp", x, { $0.exp() }), ("log", p, { $0.log() }), ("log1p", p, { $0.log1p() }),
            ("expm1", x, { $0.expm1() }), ("sqrt", p, { $0.sqrt() }), ("rsqrt", p, { $0.rsqrt() }),
            ("reciprocal", p, { $0.reciprocal() }), ("sin", x, { $0.sin() }), ("cos", x, { $0.cos() }),
            ("tanh", x, { $0.tanh() }), ("sigmoid", x, { $0.sigmoid() }), ("erf", x, { $0.erf() }),
            ("relu", x, { $0.relu() }), ("leakyRelu", x, { $0.leakyRelu(negativeSlope: 0.2) }),
            ("elu", x, { $0.elu(alpha: 0.7) }), ("gelu", x, { $0.gelu() }),
            ("geluTanh", x, { $0.gelu(approximate: true) }), ("silu", x, { $0.silu() }),
            ("softplus", x, { $0.softplus(beta: 2) }), ("powScalar", p, { $0.pow(2.5) }),
            ("clamp", x, { $0.clamped(min: -0.5, max: 0.7) }),
            ("scalarOps", p, { (2 - $0) * 3 / 1.5 + 1 }), ("scalarDivide", p, { 2 / $0 }),
        ]
        for (name, input, f) in cases {
            GradientCheck.check([input], Comment(rawValue: name)) { f($0[0]) }
        }
    }

    @Test func castGradientReturnsInTheInputDtype() {
        // Central differences through float32 rounding are noise, so check the rule directly.
        let x = sample([4], seed: 24)
        let g = gradient(at: x) { ($0.cast(to: .float32) * 3).sum() }
        #expect(g.dtype == .float64)
        expectClose(g, [3, 3, 3, 3])
    }

    @Test func broadcastingBinaryOps() {
        let a = sample([2, 3, 4], seed: 3), b = sample([3, 1], seed: 4), c = positive([4], seed: 5)
        GradientCheck.check([a, b], "add") { $0[0] + $0[1] }
        GradientCheck.check([a, b], "subtract") { $0[0] - $0[1] }
        GradientCheck.check([a, b], "multiply") { $0[0] * $0[1] }
        GradientCheck.check([a, c], "divide") { $0[0] / $0[1] }
        GradientCheck.check([c, b], "pow") { $0[0].pow($0[1]) }
        GradientCheck.check([a, b], "maximum") { $0[0].maximum($0[1]) }
        GradientCheck.check([a, b], "minimum") { $0[0].minimum($0[1]) }
        GradientCheck.check([a, b], "where") { Tensor.where($0[0] .> 0, $0[0], $0[1]) }
    }

    @Test func reductionsWithAndWithoutKeepDims() {
        let x = sample([2, 3, 4], seed: 6)
        GradientCheck.check([x], "sum") { $0[0].sum() }
        GradientCheck.check([x], "sum axes keep") { $0[0].sum(axes: [0, 2], keepDims: true) }
        GradientCheck.check([x], "mean axis") { $0[0].mean(axes: [1]) }
        GradientCheck.check([x], "product") { $0[0].product(axes: [2]) }
        GradientCheck.check([x], "max") { $0[0].max(axes: [1], keepDims: true) }
        GradientCheck.check([x], "min") { $0[0].min(axes: [-1]) }
        GradientCheck.check([x], "variance") { $0[0].variance(axes: [2]) }
        GradientCheck.check([x], "std") { $0[0].standardDeviation(axes: [0, 1], keepDims: true) }
        GradientCheck.check([x], "logSumExp") { $0[0].logSumExp(axes: [1]) }
        GradientCheck.check([x], "cumulativeSum") { $0[0].cumulativeSum(axis: 1) }
    }

    @Test func productGradientIsExactAtZeros() {
        let x = Tensor([2.0, 0.0, 3.0, 0.0, 0.0, 5.0], shape: [2, 3])
        let g = gradient(at: x) { $0.product(axes: [1]).sum() }
        expectClose(g, [0, 6, 0, 0, 0, 0], shape: [2, 3])
    }

    @Test func softmaxFamilyAndLayerNorm() {
        let x = sample([3, 5], seed: 7)
        GradientCheck.check([x], "softmax") { $0[0].softmax(axis: -1) }
        GradientCheck.check([x], "softmax axis 0") { $0[0].softmax(axis: 0) }
        GradientCheck.check([x], "logSoftmax") { $0[0].logSoftmax(axis: 1) }
        GradientCheck.check([x], "layerNorm") { $0[0].layerNormalized() }
    }

    @Test func matmulPlainBatchedAndBroadcast() {
        GradientCheck.check([sample([3, 4], seed: 8), sample([4, 2], seed: 9)], "matmul") { $0[0].matmul($0[1]) }
        GradientCheck.check([sample([2, 3, 4], seed: 10), sample([2, 4, 5], seed: 11)], "batched") { $0[0].matmul($0[1]) }
        GradientCheck.check([sample([2, 1, 3, 4], seed: 12), sample([3, 4, 2], seed: 13)], "broadcast") { $0[0].matmul($0[1]) }
        GradientCheck.check([sample([4], seed: 14), sample([4, 3], seed: 15)], "vector-matrix") { $0[0].matmul($0[1]) }
        GradientCheck.check([sample([3, 4], seed: 16), sample([3, 4], seed: 17)], "transposed view") {
            $0[0].matmul($0[1].transposed())
        }
    }

    @Test func linearAndReluMaskAreGradientChecked() {
        let x = sample([2, 3, 4], seed: 25), w = sample([5, 4], seed: 26), b = sample([5], seed: 27)
        GradientCheck.check([x, w, b], "linear") { $0[0].linear(weight: $0[1], bias: $0[2]) }
        GradientCheck.check([x, w], "linear without bias") { $0[0].linear(weight: $0[1]) }
        GradientCheck.checkSecondOrder([x, w, b], "linear-tanh") { $0[0].linear(weight: $0[1], bias: $0[2]).tanh() }
        GradientCheck.check([x], "relu via passingWhere") { ($0[0] * 3).relu() }
        expectClose(x.linear(weight: w, bias: b), x.matmul(w.transposed()) + b, tolerance: Tolerance(absolute: 1e-12, relative: 1e-12))
        // The fused linear + ReLU: same values, first- and second-order gradients.
        GradientCheck.check([x, w, b], "linearReLU") { $0[0].linearReLU(weight: $0[1], bias: $0[2]) }
        GradientCheck.check([x, w], "linearReLU without bias") { $0[0].linearReLU(weight: $0[1]) }
        GradientCheck.checkSecondOrder([x, w, b], "linearReLU-tanh") { v in let y = v[0].tanh().linearReLU(weight: v[1], bias: v[2]); return y * y }
        expectClose(x.linearReLU(weight: w, bias: b), (x.matmul(w.transposed()) + b).relu(), tolerance: Tolerance(absolute: 1e-12, relative: 1e-12))
        // float32 runs the GEMM's epilogue (a non-contiguous input too).
        let x32 = sample([40, 30], seed: 28).cast(to: .float32), w32 = sample([21, 30], seed: 29).cast(to: .float32)
        let b32 = sample([21], seed: 30).cast(to: .float32)
        for input in [x32, x32.transposed().contiguous().transposed(), x32[.stride(nil, nil, by: 2), .all]] {
            expectClose(input.linearReLU(weight: w32, bias: b32).cast(to: .float64),
                        (input.cast(to: .float64).matmul(w32.cast(to: .float64).transposed()) + b32.cast(to: .float64)).relu(),
                        tolerance: Tolerance(absolute: 1e-5, relative: 1e-5), "float32 linearReLU")
        }
    }

    @Test func viewsAndIndexing() {
        let x = sample([2, 3, 4], seed: 18)
        GradientCheck.check([x], "reshape") { $0[0].reshaped(to: [4, -1]) * 2 }
        GradientCheck.check([x], "permute") { $0[0].permuted(2, 0, 1).contiguous() * 2 }
        GradientCheck.check([x], "transpose+reshape") { $0[0].transposed().reshaped(to: [-1]) }
        GradientCheck.check([x], "slice") { $0[0][.all, 1..<3, .stride(nil, nil, by: 2)] }
        GradientCheck.check([x], "index") { $0[0][1, .ellipsis] }
        GradientCheck.check([x], "flip") { $0[0].flipped(axes: [0, 2]) * 1 }
        GradientCheck.check([x], "expand") { $0[0][.all, 0..<1, .all].expanded(to: [2, 5, 4]) }
        GradientCheck.check([x], "squeeze/unsqueeze") { $0[0].unsqueezed(axis: 1).squeezed(axis: 1) * 1 }
        GradientCheck.check([x, sample([2, 2, 4], seed: 19)], "concatenate") { Tensor.concatenated([$0[0], $0[1]], axis: 1) }
        GradientCheck.check([x, x * 2], "stack") { Tensor.stacked([$0[0], $0[1]], axis: 2) }
        GradientCheck.check([x], "split") { xs in let parts = xs[0].split(sizes: [1, 2], axis: 1); return parts[1] * parts[1] }
        GradientCheck.check([x], "pad") { $0[0].padded([(1, 0), (0, 2)], value: 3) }
        GradientCheck.check([x, sample([2, 4], seed: 20)], "assign") { xs in
            var y = xs[0] * 1
            y[.all, 1] = xs[1]
            return y
        }
    }

    /// Several views of one tensor (a fused projection split into q, k, v; overlapping and
    /// strided slices): the engine adds each view's gradient into its region of a single buffer.
    @Test func gradientsOfManyViewsOfOneTensor() {
        let x = sample([2, 3, 6], seed: 31)
        GradientCheck.check([x], "q, k, v split of a permuted view") { xs in
            let parts = xs[0].reshaped(to: [2, 3, 3, 2]).permuted(2, 0, 1, 3)
            return (parts[0] * parts[1]).tanh() + parts[2] * 3 + parts[0]
        }
        GradientCheck.check([x], "overlapping and strided slices") { xs in
            let a = xs[0][.all, 0..<2, .all], b = xs[0][.all, 1..<3, .stride(nil, nil, by: 1)]
            let c = xs[0][.all, .stride(nil, nil, by: 2), 1..<4]
            return (a * b).sum(axes: [1]) + c.sum(axes: [1, 2]).unsqueezed(axis: 1) + xs[0][1].sum()
        }
        // The same gradients through the zero-padded rule that createGraph keeps.
        let leaf = x.requiringGrad()
        let parts = leaf.reshaped(to: [2, 3, 3, 2]).permuted(2, 0, 1, 3)
        let loss = ((parts[0] * parts[1]).tanh() + parts[2] * 3 + parts[0] + leaf[0, 1..<3].reshaped(to: [2, 3, 2])).sum()
        let fast = gradients(of: [loss], withRespectTo: [leaf])[0]
        let recorded = gradients(of: [loss], withRespectTo: [leaf], createGraph: true)[0]
        expectClose(fast, recorded.detached(), tolerance: Tolerance(absolute: 1e-14, relative: 1e-13), "region adds")
    }

    @Test func gatherScatterAndSort() {
        let x = sample([3, 4], seed: 21)
        let index = Tensor([Int64(0), 3, 3, 1, 2, 0], shape: [3, 2])
        GradientCheck.check([x], "gather") { $0[0].gather(axis: 1, index: index) }
        GradientCheck.check([x, sample([3, 2], seed: 22)], "scatterAdd") { $0[0].scatterAdding(axis: 1, index: index, source: $0[1]) }
        let rows = Tensor([Int64(2), 0, 2])
        GradientCheck.check([x], "indexSelect") { $0[0].indexSelect(axis: 0, indices: rows) }
        GradientCheck.check([x, sample([3, 4], seed: 23)], "indexAdd") { $0[0].indexAdding(axis: 0, indices: rows, source: $0[1]) }
        GradientCheck.check([x], "sort") { $0[0].sorted(axis: 1, descending: true).values }
        GradientCheck.check([x], "topK") { $0[0].topK(2, axis: 0).values }
    }

    @Test func maxGradientIsSharedAmongTies() {
        let x = Tensor([1.0, 3.0, 3.0, 2.0], shape: [4])
        expectClose(gradient(at: x) { $0.max() }, [0, 0.5, 0.5, 0])
    }
}

@Suite("Second-order gradients")
struct SecondOrderTests {
    @Test func secondDerivativeOfTanh() {
        // d²/dx² tanh x = -2 tanh x (1 - tanh² x)
        let x = Tensor([-1.2, -0.3, 0.0, 0.5, 2.0], shape: [5])
        let first = withGradients(enabled: true) { () -> Tensor in
            let leaf = x.requiringGrad()
            let g = gradients(of: [leaf.tanh().sum()], withRespectTo: [leaf], createGraph: true)[0]
            return gradients(of: [g.sum()], withRespectTo: [leaf])[0]
        }
        let t = x.scalars(as: Double.self).map { Foundation_tanh($0) }
        expectClose(first, t.map { -2 * $0 * (1 - $0 * $0) })
    }

    @Test func hessianVectorProductOfKnownFunction() {
        // f(x) = sum(x³) + x0 x1: H = diag(6x) + offdiag(0,1)
        let x = Tensor([1.0, -2.0, 0.5], shape: [3])
        let v = Tensor([0.3, 0.7, -1.0], shape: [3])
        let hv = hessianVectorProduct(at: x, vector: v) { x in x.pow(3).sum() + x[0] * x[1] }
        expectClose(hv, [6 * 1 * 0.3 + 0.7, 6 * -2 * 0.7 + 0.3, 6 * 0.5 * -1.0])
    }

    @Test func secondOrderChecksOfComposedOps() {
        let x = sample([2, 3], seed: 30), w = sample([3, 2], seed: 31)
        GradientCheck.checkSecondOrder([x, w], "matmul-tanh") { ($0[0].matmul($0[1])).tanh() }
        GradientCheck.checkSecondOrder([x], "softmax") { $0[0].softmax(axis: 1) }
        GradientCheck.checkSecondOrder([x], "sigmoid*exp") { $0[0].sigmoid() * $0[0].exp() }
        GradientCheck.checkSecondOrder([x], "gelu") { $0[0].gelu() }
        GradientCheck.checkSecondOrder([x], "logSumExp") { $0[0].logSumExp(axes: [1]) }
    }

    @Test func backwardWithCreateGraphAccumulatesDifferentiableGradients() {
        let x = Tensor([0.5, -1.0], shape: [2]).requiringGrad()
        (x.pow(3).sum()).backward(createGraph: true)
        let g = x.grad!
        #expect(g.requiresGrad)
        expectClose(g, [0.75, 3])
        let second = gradients(of: [g.sum()], withRespectTo: [x])[0]
        expectClose(second, [3, -6])
    }
}

@Suite("Functional transforms")
struct FunctionalTests {
    @Test func jvpMatchesJacobianTimesVector() {
        let x = sample([3], seed: 40), v = sample([3], seed: 41)
        let f: (Tensor) -> Tensor = { x in Tensor.stacked([x[0] * x[1], x[1].sin() + x[2], x.exp().sum()]) }
        let j = jacobian(at: x, of: f)
        #expect(j.shape == [3, 3])
        let (_, jv) = jvp(at: x, vector: v, of: f)
        expectClose(jv, j.matmul(v))
        let (_, vj) = vjp(at: x, vector: v, of: f)
        expectClose(vj, v.matmul(j))
    }

    @Test func valueWithGradientOfQuadratic() {
        let x = Tensor([1.0, 2.0, 3.0], shape: [3])
        let (value, g) = valueWithGradient(at: x) { ($0 * $0).sum() }
        #expect(value.item(as: Double.self) == 14)
        expectClose(g, [2, 4, 6])
    }

    @Test func customFunctionUsesUserBackward() {
        // Straight-through estimator: forward rounds, backward passes the gradient unchanged.
        let x = Tensor([0.2, 1.7, -0.6], shape: [3]).requiringGrad()
        let y = Tensor.custom([x], forward: { xs in
            Tensor(xs[0].scalars(as: Double.self).map { ($0).rounded() }, shape: xs[0].shape)
        }, backward: { g, _, _ in [g * 1] })
        expectClose(y.detached(), [0, 2, -1])
        (y * Tensor([1.0, 2.0, 3.0], shape: [3])).sum().backward()
        expectClose(x.grad!, [1, 2, 3])
    }

    @Test func withoutGradientsRecordsNothing() {
        let x = Tensor([1.0], shape: [1]).requiringGrad()
        let y = withoutGradients { x * 2 }
        #expect(!y.requiresGrad)
        #expect((x * 2).requiresGrad)
    }

    @Test func gradientsAccumulateAcrossBackwardCalls() {
        let p = Parameter(Tensor([1.0, 2.0], shape: [2]))
        (p.value * 3).sum().backward()
        (p.value * p.value).sum().backward()
        expectClose(p.grad!, [5, 7])
        p.grad = nil
        withoutGradients { p.value = p.value - 1 }
        #expect(p.value.requiresGrad)
        (p.value * 2).sum().backward()
        expectClose(p.grad!, [2, 2])
    }

    @Test func anomalyModeNamesTheFirstOpProducingNaN() {
        var messages: [String] = []
        let previous = Anomaly.handler
        Anomaly.handler = { messages.append($0) }
        defer { Anomaly.handler = previous }
        let x = Tensor([-1.0, 4.0], shape: [2]).requiringGrad()
        Anomaly.detect {
            let y = x.sqrt() * 2
            _ = y
        }
        #expect(messages.first?.contains("sqrt") == true)
        #expect(messages.first?.contains("forward") == true)
        messages.removeAll()
        // Forward finite, backward NaN: sqrt'(0) = inf times 0 gives NaN.
        let z = Tensor([0.0, 4.0], shape: [2]).requiringGrad()
        Anomaly.detect { (z.sqrt() * 0).sum().backward() }
        #expect(messages.contains { $0.contains("backward of sqrt") })
    }
}

import Foundation
func Foundation_tanh(_ x: Double) -> Double { Foundation.tanh(x) }
