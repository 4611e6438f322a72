import Testing
import TensorCore
import TensorCoreTesting

/// The README's example must keep working: linear regression by hand-written gradient descent.
@Suite("README example")
struct ReadmeExampleTests {
    @Test func linearRegressionRecoversTheWeights() {
        Tensor.manualSeed(0)
        let x = Tensor.randn([64, 3])
        let trueW = Tensor([2, -1, 0.5], shape: [3, 1])
        let y = x.matmul(trueW) + 0.3

        let w = Parameter(Tensor.zeros([3, 1])), b = Parameter(Tensor.zeros([1]))
        var losses: [Float] = []
        for _ in 1...200 {
            let loss = (x.matmul(w.value) + b.value - y).squared().mean()
            w.grad = nil; b.grad = nil
            loss.backward()
            withoutGradients {
                w.value = w.value - w.grad! * 0.1
                b.value = b.value - b.grad! * 0.1
            }
            losses.append(loss.item())
        }
        expectClose(w.value, trueW, tolerance: Tolerance(absolute: 1e-3, relative: 0))
        expectClose(b.value, [0.3], tolerance: Tolerance(absolute: 1e-3, relative: 0))
        #expect(losses.last! < 1e-5)
    }
}
