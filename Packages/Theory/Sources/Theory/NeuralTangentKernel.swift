import Foundation
import NN
import TensorCore

/// A ReLU multilayer perceptron in the NTK parametrisation (Jacot et al.): weights are
/// standard normal and each layer scales by `√(2 / fan_in)` in the forward pass (1/√fan_in for
/// the linear output), no biases, one output. As the width grows its empirical NTK tends to
/// `NeuralTangentKernel.reluNetwork` and stays there during training.
public final class NTKPerceptron: Module {
    /// The hidden layers' weights, `[width, fan_in]`, standard normal.
    public let hidden: [Parameter]
    /// The output weights `[1, width]`.
    public let output: Parameter

    /// `depth` hidden layers of `width` units on `inputSize` inputs.
    public init(inputSize: Int, width: Int, depth: Int = 1, dtype: DType = .float64, generator: RandomGenerator) {
        tensorCheck(inputSize > 0 && width > 0 && depth >= 1, "[NTKPerceptron] needs positive sizes and depth ≥ 1")
        var sizes = [inputSize]
        for _ in 0..<depth { sizes.append(width) }
        hidden = (0..<depth).map { l in Parameter(Tensor.randn([sizes[l + 1], sizes[l]], dtype: dtype, generator: generator)) }
        output = Parameter(Tensor.randn([1, width], dtype: dtype, generator: generator))
        super.init()
    }

    /// `[n, inputSize] -> [n]`.
    public override func forward(_ x: Tensor) -> Tensor {
        var a = x
        for w in hidden {
            a = (a.matmul(w.value.transposed()) * (2 / Double(w.value.shape[1])).squareRoot()).relu()
        }
        return (a.matmul(output.value.transposed()) / Double(output.value.shape[1]).squareRoot()).squeezed(axis: 1)
    }
}

/// Neural tangent kernels `Θ(x, x') = ⟨∂f(x)/∂θ, ∂f(x')/∂θ⟩` and kernel regression with them.
public enum NeuralTangentKernel {
    /// The empirical NTK of `model` (one output per point, `[n]` or `[n, 1]`) between the rows
    /// of `x1` and `x2` (default `x1`): `[n1, n2]`. Per-point parameter gradients are formed
    /// in chunks sized to `memoryBudget` bytes and recomputed for `x2`'s chunks when both sets
    /// do not fit, so wide networks run in bounded memory.
    public static func empirical(of model: Module, _ x1: Tensor, _ x2: Tensor? = nil, memoryBudget: Int = 1 << 30) -> Tensor {
        let parameters = model.parameters()
        let count = parameters.reduce(0) { $0 + $1.value.elementCount }
        let bytes = Swift.max(count * x1.dtype.byteSize, 1)
        let chunk = Swift.max(1, memoryBudget / (2 * bytes))
        let second = x2 ?? x1
        func jacobianRows(_ x: Tensor, _ start: Int, _ length: Int) -> Tensor {
            let rows = (start..<(start + length)).map { i -> Tensor in
                let y = model(x.narrowed(axis: 0, start: i, length: 1)).sum()
                let grads = gradients(of: [y], withRespectTo: parameters.map(\.value))
                return Tensor.concatenated(grads.map { $0.reshaped(to: [-1]) }, axis: 0)
            }
            return Tensor.stacked(rows)
        }
        let n1 = x1.shape[0], n2 = second.shape[0]
        var blocks: [Tensor] = []
        for a in stride(from: 0, to: n1, by: chunk) {
            let ja = jacobianRows(x1, a, Swift.min(chunk, n1 - a))
            var row: [Tensor] = []
            for b in stride(from: 0, to: n2, by: chunk) {
                let jb = x2 == nil && a == b ? ja : jacobianRows(second, b, Swift.min(chunk, n2 - b))
                row.append(withoutGradients { ja.matmul(jb.transposed()) })
            }
            blocks.append(Tensor.concatenated(row, axis: 1))
        }
        return Tensor.concatenated(blocks, axis: 0)
    }

    /// The infinite-width NTK of `NTKPerceptron` with `depth` hidden layers (Jacot et al.;
    /// Arora et al. 2019): with `Σ¹ = 2 xᵀx'/d`, each ReLU layer maps
    /// `Σ ↦ c κ₁(Σ)`, `Σ̇ = c κ₀(Σ)` (c = 2 hidden, 1 at the output), κ₁ and κ₀ the arc-cosine
    /// kernels of degree 1 and 0, and `Θ ↦ Σ_next + Θ Σ̇`. `[n1, n2]`, float64.
    public static func reluNetwork(_ x1: Tensor, _ x2: Tensor? = nil, depth: Int = 1) -> Tensor {
        withoutGradients {
            let a = x1.cast(to: .float64), b = (x2 ?? x1).cast(to: .float64)
            let d = Double(a.shape[1])
            var cross = 2 * a.matmul(b.transposed()) / d
            var left = 2 * a.squared().sum(axes: [1]) / d, right = 2 * b.squared().sum(axes: [1]) / d
            var theta = cross
            for layer in 1...depth {
                let c = layer == depth ? 1.0 : 2.0
                let norms = (left.unsqueezed(axis: 1) * right.unsqueezed(axis: 0)).sqrt()
                let cosine = (cross / norms.clamped(min: 1e-300)).clamped(min: -1, max: 1)
                let angle = Tensor.arccos(cosine)
                let kappa1 = norms * ((1 - cosine.squared()).clamped(min: 0).sqrt() + (Double.pi - angle) * cosine) / (2 * Double.pi)
                let kappa0 = (Double.pi - angle) / (2 * Double.pi)
                let next = c * kappa1
                theta = next + theta * (c * kappa0)
                cross = next
                // κ₁ on the diagonal (θ = 0) is Σ/2: the variances double back under c = 2.
                left = c * left / 2; right = c * right / 2
            }
            return theta
        }
    }

    /// Kernel (ridge) regression: `K_test,train (K_train + ridge I)⁻¹ y`.
    public static func regression(trainKernel: Tensor, targets: Tensor, testKernel: Tensor, ridge: Double = 0) throws -> Tensor {
        let n = trainKernel.shape[0]
        let alpha = try Linalg.solve(trainKernel + ridge * Tensor.eye(n, dtype: trainKernel.dtype), targets)
        return testKernel.matmul(alpha)
    }
}

extension Tensor {
    /// Element-wise arccos on the host (not recorded; the analytic kernels need no gradient).
    static func arccos(_ x: Tensor) -> Tensor {
        let values = x.scalars(as: Double.self).map { Foundation.acos($0) }
        return Tensor(values, shape: x.shape, device: x.device).cast(to: x.dtype)
    }
}
