import Foundation
import Testing
@testable import TensorCore
import TensorCoreTesting

/// The float32 activation kernels use polynomial exponentials; they must stay within a few
/// float32 ulps of the float64 library functions, and the fused backward kernels must equal
/// the composed derivatives.
@Suite("Activation kernels")
struct ActivationKernelTests {
    let grid: [Double] = stride(from: -12.0, through: 12.0, by: 0.0137).map { $0 } + [0, 1e-7, -1e-7, 1e-3, -0.124, 0.126, 30, -30]

    @Test func float32TanhAndSigmoidAreAccurate() {
        let x64 = Tensor(grid)
        let x32 = x64.cast(to: .float32)
        let tolerance = Tolerance(absolute: 1e-7, relative: 1e-6)
        expectClose(x32.tanh().cast(to: .float64), grid.map { Foundation.tanh($0) }, tolerance: tolerance, "tanh")
        expectClose(x32.sigmoid().cast(to: .float64), grid.map { 1 / (1 + Foundation.exp(-$0)) }, tolerance: tolerance, "sigmoid")
        expectClose(x32.gelu(approximate: true).cast(to: .float64),
                    grid.map { 0.5 * $0 * (1 + Foundation.tanh(0.7978845608028654 * ($0 + 0.044715 * $0 * $0 * $0))) },
                    tolerance: Tolerance(absolute: 1e-6, relative: 1e-6), "gelu tanh")
        #expect(Tensor([Float.nan]).tanh().item(as: Float.self).isNaN)
    }

    @Test func fusedGELUBackwardMatchesComposedDerivative() {
        for approximate in [false, true] {
            let x = Tensor(grid).requiringGrad()
            let g = Tensor(grid.map { 0.3 + 0.01 * $0 })
            let fused = gradients(of: [x.gelu(approximate: approximate)], withRespectTo: [x], seeds: [g])[0]
            // With createGraph the composed derivative runs instead.
            let composed = gradients(of: [x.gelu(approximate: approximate)], withRespectTo: [x], seeds: [g], createGraph: true)[0]
            expectClose(fused, composed.detached(), tolerance: Tolerance(absolute: 1e-12, relative: 1e-10), "approximate \(approximate)")
            let x32 = x.detached().cast(to: .float32).requiringGrad()
            let fused32 = gradients(of: [x32.gelu(approximate: approximate)], withRespectTo: [x32], seeds: [g.cast(to: .float32)])[0]
            expectClose(fused32.cast(to: .float64), fused, tolerance: Tolerance(absolute: 1e-6, relative: 1e-5), "float32")
        }
    }

    /// SiLU's float32 vector kernel against the float64 formula, and its fused backward
    /// (float64 and the float32 vector kernel, odd length for the scalar tail) against the
    /// composed derivative that double backward records.
    @Test func siluAndItsFusedBackwardMatchTheFormulas() {
        // One more than a multiple of 8: the vector loop and the scalar tail.
        let values = grid + [2.5]
        #expect(values.count % 8 == 1)
        let x64 = Tensor(values)
        expectClose(x64.cast(to: .float32).silu().cast(to: .float64), values.map { $0 / (1 + Foundation.exp(-$0)) },
                    tolerance: Tolerance(absolute: 1e-6, relative: 1e-6), "silu float32")
        let x = x64.requiringGrad(), g = Tensor(values.map { 0.3 + 0.01 * $0 })
        let fused = gradients(of: [x.silu()], withRespectTo: [x], seeds: [g])[0]
        let composed = gradients(of: [x.silu()], withRespectTo: [x], seeds: [g], createGraph: true)[0]
        expectClose(fused, composed.detached(), tolerance: Tolerance(absolute: 1e-12, relative: 1e-10), "float64")
        let x32 = x64.cast(to: .float32).requiringGrad()
        let fused32 = gradients(of: [x32.silu()], withRespectTo: [x32], seeds: [g.cast(to: .float32)])[0]
        expectClose(fused32.cast(to: .float64), fused, tolerance: Tolerance(absolute: 1e-6, relative: 1e-5), "float32")
        #expect(Tensor([Float.nan]).silu().item(as: Float.self).isNaN)
    }

    @Test func fusedLayerNormBackwardMatchesItsComposition() {
        for dtype in [DType.float64, .float32] {
            let x = (Tensor.randn([6, 37], dtype: .float64) * 3 + 1).cast(to: dtype)
            let g = Tensor.randn([6, 37], dtype: .float64).cast(to: dtype)
            let y = x.layerNormalized()
            let backend = Backends.backend(for: .cpu)
            let fused = Tensor.empty(like: x), composed = Tensor.empty(like: x)
            backend.layerNormBackward(x.operand, normalized: y.operand, gradient: g.operand, epsilon: 1e-5, into: fused.operand)
            backend.composedLayerNormBackward(x.operand, normalized: y.operand, gradient: g.operand, epsilon: 1e-5,
                                              into: composed.operand)
            expectClose(fused, composed, tolerance: dtype == .float64 ? Tolerance(absolute: 1e-12, relative: 1e-10) : nil, "\(dtype)")
        }
        GradientCheck.check([Tensor.randn([3, 5], dtype: .float64)], "layer norm, fused backward") { $0[0].layerNormalized() }
    }

    /// The contiguous arithmetic loops, split over the threads from 256 K elements: every
    /// element of a 300 001-element add, subtract, multiply, divide and ReLU backward equals
    /// the same operation in float64 rounded to float32 (each is one correctly rounded step).
    @Test func splitContiguousArithmeticIsExact() {
        let n = 300_001, g = RandomGenerator(seed: 5)
        let a = Tensor.randn([n], generator: g), b = Tensor.randn([n], generator: g) + 0.5
        let (x, y) = (a.scalars(as: Double.self), b.scalars(as: Double.self))
        let cases: [(String, Tensor, (Double, Double) -> Double)] = [
            ("add", a + b, { $0 + $1 }), ("subtract", a - b, { $0 - $1 }), ("multiply", a * b, { $0 * $1 }),
            ("divide", a / b, { $0 / $1 }), ("ReLU backward", a.passingWhere(positive: b), { $1 > 0 ? $0 : 0 }),
        ]
        for (name, result, f) in cases {
            let got = result.scalars(as: Float.self)
            let wrong = (0..<n).filter { got[$0] != Float(f(x[$0], y[$0])) }
            #expect(wrong.isEmpty, "\(name): \(wrong.count) elements differ, the first at \(wrong.first ?? -1)")
        }
    }
}
