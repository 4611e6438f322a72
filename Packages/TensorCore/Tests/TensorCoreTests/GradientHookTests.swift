import TensorCore
import TensorCoreTesting
import Testing

/// `Parameter.registerGradientAccumulatedHook`: after the pass's whole contribution (a
/// parameter used twice), once per pass, in registration order, removable.
@Suite("Gradient-accumulated hooks")
struct GradientHookTests {
    @Test func runsOncePerPassWithTheFinalGradient() {
        let w = Parameter(Tensor([1, 2, 3], shape: [3]))
        let other = Parameter(Tensor([4, 5, 6], shape: [3]))
        var seen: [(String, [Double])] = []
        let first = w.registerGradientAccumulatedHook { p in seen.append(("first", p.grad!.cast(to: .float64).scalars(as: Double.self))) }
        w.registerGradientAccumulatedHook { p in seen.append(("second", p.grad!.cast(to: .float64).scalars(as: Double.self))) }
        // w appears twice: d/dw of sum(w * w + w * other) = 2w + other.
        ((w.value * w.value) + (w.value * other.value)).sum().backward()
        #expect(seen.map(\.0) == ["first", "second"])
        #expect(seen[0].1 == [6, 9, 12])
        // A second pass accumulates; the hook sees the sum.
        seen = []
        (w.value * 2).sum().backward()
        #expect(seen.count == 2)
        #expect(seen[0].1 == [8, 11, 14])
        first.remove()
        first.remove()
        seen = []
        w.value.sum().backward()
        #expect(seen.map(\.0) == ["second"])
        // gradients(of:withRespectTo:) leaves grad alone and runs no hook.
        seen = []
        _ = gradients(of: [w.value.sum()], withRespectTo: [w.value])
        #expect(seen.isEmpty)
    }

    /// Hooks fire leaf by leaf as backward reaches them: a later layer's parameter is final
    /// before an earlier one's (what lets a bucket's all-reduce start mid-backward).
    @Test func laterLayersAreReadyFirst() {
        let a = Parameter(Tensor([2], shape: [1])), b = Parameter(Tensor([3], shape: [1]))
        var order: [String] = []
        a.registerGradientAccumulatedHook { _ in order.append("a") }
        b.registerGradientAccumulatedHook { _ in order.append("b") }
        let x = Tensor([1.5], shape: [1])
        (((x * a.value).exp() * b.value).sum()).backward()
        #expect(order == ["b", "a"])
    }
}
