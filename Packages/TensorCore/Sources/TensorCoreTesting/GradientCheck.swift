import Testing
import TensorCore

/// Numerical gradient checking in Float64 (central differences), as `torch.autograd.gradcheck`.
public enum GradientCheck {
    /// PyTorch's gradcheck defaults.
    public static let defaultTolerance = Tolerance(absolute: 1e-5, relative: 1e-3)

    /// Deterministic projection weights so that non-scalar outputs reduce to one scalar
    /// without symmetric cancellations.
    static func projection(like y: Tensor) -> Tensor {
        let n = y.elementCount
        let values = (0..<n).map { i in 0.5 + Double((i * 7919) % 13) / 13.0 }
        return Tensor(values, shape: y.shape).cast(to: y.dtype)
    }

    /// Compares the analytical gradients of `f` at `inputs` (float64) with central differences.
    /// A non-scalar output is reduced with fixed weights first.
    public static func check(_ inputs: [Tensor], epsilon: Double = 1e-6, tolerance: Tolerance = defaultTolerance,
                             _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation,
                             of f: @escaping ([Tensor]) -> Tensor) {
        for x in inputs where x.dtype != .float64 {
            Issue.record("gradient checks need float64 inputs, got \(x.dtype)", sourceLocation: sourceLocation)
            return
        }
        let leaves = inputs.map { $0.requiringGrad() }
        let y = f(leaves)
        let weights = projection(like: y)
        func scalar(_ xs: [Tensor]) -> Double {
            withoutGradients { (f(xs) * weights).sum().item(as: Double.self) }
        }
        guard y.requiresGrad else {
            Issue.record("output does not depend on any input", sourceLocation: sourceLocation)
            return
        }
        let analytic = gradients(of: [(y * weights).sum()], withRespectTo: leaves)
        for (k, x) in inputs.enumerated() {
            var base = x.scalars(as: Double.self)
            var numeric = [Double](repeating: 0, count: base.count)
            for i in 0..<base.count {
                let original = base[i]
                base[i] = original + epsilon
                var plus = inputs
                plus[k] = Tensor(base, shape: x.shape)
                let fp = scalar(plus)
                base[i] = original - epsilon
                var minus = inputs
                minus[k] = Tensor(base, shape: x.shape)
                let fm = scalar(minus)
                base[i] = original
                numeric[i] = (fp - fm) / (2 * epsilon)
            }
            let a = analytic[k].scalars(as: Double.self)
            if let m = findMismatch(a, numeric, shape: x.shape, tolerance: tolerance) {
                Issue.record(Comment(rawValue: "gradient of input \(k) \(x.shape): analytic vs numeric: \(m)" + (comment.map { " — " + $0.rawValue } ?? "")),
                             sourceLocation: sourceLocation)
            }
        }
    }

    /// Checks second derivatives: the gradient of `∇(f · w) · v` (a Hessian-vector product)
    /// against central differences of the first gradient.
    public static func checkSecondOrder(_ inputs: [Tensor], epsilon: Double = 1e-6,
                                        tolerance: Tolerance = defaultTolerance, _ comment: Comment? = nil,
                                        sourceLocation: SourceLocation = #_sourceLocation,
                                        of f: @escaping ([Tensor]) -> Tensor) {
        check(inputs, epsilon: epsilon, tolerance: tolerance, comment, sourceLocation: sourceLocation) { xs in
            // The numeric pass calls this with plain tensors and recording off; the first
            // gradient still needs a graph, so make leaves where needed.
            withGradients(enabled: true) {
                let leaves = xs.map { $0.requiresGrad ? $0 : $0.requiringGrad() }
                let y = f(leaves)
                let g = gradients(of: [(y * projection(like: y)).sum()], withRespectTo: leaves,
                                  createGraph: isRecordingGradients && xs.contains { $0.requiresGrad })
                return Tensor.concatenated(g.map { $0.reshaped(to: [-1]) }, axis: 0)
            }
        }
    }

    /// Checks the gradients of a scalar `loss` with respect to parameters held by modules
    /// (whose values keep their identity, so they cannot be swapped for leaves): analytic
    /// gradients from `backward()` against central differences taken by perturbing each
    /// parameter's value in place.
    public static func checkParameters(_ parameters: [Parameter], epsilon: Double = 1e-6,
                                       tolerance: Tolerance = defaultTolerance, _ comment: Comment? = nil,
                                       sourceLocation: SourceLocation = #_sourceLocation, loss: () -> Tensor) {
        for p in parameters where p.dtype != .float64 {
            Issue.record("gradient checks need float64 parameters, got \(p.dtype)", sourceLocation: sourceLocation)
            return
        }
        for p in parameters { p.grad = nil }
        loss().backward()
        for (k, p) in parameters.enumerated() {
            let analytic = p.grad?.scalars(as: Double.self) ?? [Double](repeating: 0, count: p.value.elementCount)
            let shape = p.shape
            var base = p.value.scalars(as: Double.self)
            var numeric = [Double](repeating: 0, count: base.count)
            for i in 0..<base.count {
                let original = base[i]
                base[i] = original + epsilon
                p.value = Tensor(base, shape: shape)
                let fp = withoutGradients { loss().item(as: Double.self) }
                base[i] = original - epsilon
                p.value = Tensor(base, shape: shape)
                let fm = withoutGradients { loss().item(as: Double.self) }
                base[i] = original
                numeric[i] = (fp - fm) / (2 * epsilon)
            }
            p.value = Tensor(base, shape: shape)
            if let m = findMismatch(analytic, numeric, shape: shape, tolerance: tolerance) {
                Issue.record(Comment(rawValue: "gradient of parameter \(k) \(shape): analytic vs numeric: \(m)" + (comment.map { " — " + $0.rawValue } ?? "")),
                             sourceLocation: sourceLocation)
            }
        }
    }
}
