import Testing
import TensorCore

/// The Taylor and adjoint tests tell right derivatives from wrong ones.
@Suite("Taylor and adjoint tests")
struct DerivativeTestTests {
    /// Softmax regression's loss as a function of its weights.
    static func softmaxRegression(_ w: Tensor) -> Tensor {
        let x = Tensor.randn([40, 4], dtype: .float64, generator: RandomGenerator(seed: 3))
        let labels = Tensor((0..<40).map { Int64($0 % 3) }, shape: [40])
        return Tensor.crossEntropyFormula(logits: x.matmul(w.reshaped(to: [4, 3])), targets: labels).mean()
    }

    @Test func taylorSlopesAreOneAndTwo() {
        let w = Tensor.randn([12], dtype: .float64, generator: RandomGenerator(seed: 4))
        let report = DerivativeTest.taylor(Self.softmaxRegression, at: w)
        #expect(Swift.abs(report.zerothOrderSlope - 1) < 0.1, "\(report)")
        #expect(Swift.abs(report.firstOrderSlope - 2) < 0.1, "\(report)")
    }

    /// `x²` summed, with a backward that is off by a factor (a bug the tests must see).
    static func wrongSquare(_ x: Tensor) -> Tensor {
        Tensor.custom([x], forward: { $0[0].squared() }, backward: { g, inputs, _ in [3 * g * inputs[0]] })
    }

    @Test func aWrongGradientShowsAFirstOrderSlopeOfOne() {
        let x = Tensor.randn([5], dtype: .float64, generator: RandomGenerator(seed: 5))
        let report = DerivativeTest.taylor({ Self.wrongSquare($0).sum() }, at: x)
        #expect(Swift.abs(report.firstOrderSlope - 1) < 0.1, "\(report)")
    }

    @Test func adjointTest() {
        let x = Tensor.randn([3, 4], dtype: .float64, generator: RandomGenerator(seed: 6))
        let w = Tensor.randn([4, 5], dtype: .float64, generator: RandomGenerator(seed: 7))
        let right = DerivativeTest.adjoint({ ($0.matmul(w)).tanh().softmax(axis: -1) }, at: x)
        #expect(right.relativeError < 1e-8, "\(right)")
        let wrong = DerivativeTest.adjoint({ Self.wrongSquare($0) }, at: x)
        #expect(wrong.relativeError > 0.1, "\(wrong)")
        // An operator pair: A and Aᵀ pass, A and a perturbed transpose do not.
        let a = Tensor.randn([6, 4], dtype: .float64, generator: RandomGenerator(seed: 8))
        let u = Tensor.randn([6], dtype: .float64, generator: RandomGenerator(seed: 9))
        let v = Tensor.randn([4], dtype: .float64, generator: RandomGenerator(seed: 10))
        #expect(DerivativeTest.adjoint(apply: { a.matmul($0) }, applyTransposed: { a.transposed().matmul($0) }, u: u, v: v)
            .relativeError < 1e-14)
        #expect(DerivativeTest.adjoint(apply: { a.matmul($0) }, applyTransposed: { 1.01 * a.transposed().matmul($0) },
                                       u: u, v: v).relativeError > 1e-3)
    }
}
