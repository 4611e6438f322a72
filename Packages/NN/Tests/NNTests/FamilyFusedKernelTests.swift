import Testing
import TensorCore
import TensorCoreTesting
@testable import NN

// A model family's own fused kernel, declared and implemented here without touching TensorCore:
// RMS normalisation over the last axis, `x / sqrt(mean(x²) + ε)`.

/// The kernel a backend may offer.
protocol RMSNormKernel {
    func rmsNormalized(_ x: Tensor, epsilon: Double) -> Tensor
}

/// The CPU's implementation: one pass per row over the operand (float32 and float64, contiguous).
extension CPUBackend: RMSNormKernel {
    func rmsNormalized(_ x: Tensor, epsilon: Double) -> Tensor {
        var out = Tensor.empty(like: x)
        let n = x.shape.last ?? 1, destination = out.uniqueOperand()
        x.contiguous().withOperand { source in
            func rows<T: BinaryFloatingPoint>(_: T.Type) {
                let s = source.elements(T.self), d = destination.elements(T.self)
                for row in 0..<(x.elementCount / Swift.max(n, 1)) {
                    var total: T = 0
                    for i in 0..<n { total += s[row * n + i] * s[row * n + i] }
                    let scale = 1 / (total / T(n) + T(epsilon)).squareRoot()
                    for i in 0..<n { d[row * n + i] = s[row * n + i] * scale }
                }
            }
            if x.dtype == .float64 { rows(Double.self) } else { rows(Float.self) }
        }
        return out
    }
}

/// The family's operation: the kernel where the backend has it, the formula elsewhere.
func rmsNormalized(_ x: Tensor, epsilon: Double = 1e-6) -> Tensor {
    Tensor.fused((any RMSNormKernel).self, [x],
                 kernel: { kernel, x in kernel.rmsNormalized(x[0], epsilon: epsilon) },
                 formula: { x in x[0] * (x[0].squared().mean(axes: [-1], keepDims: true) + epsilon).rsqrt() })
}

@Suite("A fused kernel added by a model family")
struct FamilyFusedKernelTests {
    @Test(arguments: [DType.float32, .float64])
    func theKernelAndTheFormulaAgree(dtype: DType) {
        ForwardingBackend.register()
        let x = Tensor.randn([5, 7], dtype: dtype, generator: RandomGenerator(seed: 4))
        let onCPU = rmsNormalized(x)                                                 // the kernel
        let elsewhere = rmsNormalized(x.moved(to: Device(kind: ForwardingBackend.kind)))  // the formula
        let reference = x.cast(to: .float64) / ((x.cast(to: .float64).squared().mean(axes: [-1], keepDims: true) + 1e-6).sqrt())
        expectClose(onCPU.cast(to: .float64), reference, tolerance: .default(for: dtype))
        expectClose(elsewhere.moved(to: .cpu).cast(to: .float64), reference, tolerance: Tolerance(absolute: 1e-5, relative: 1e-5))
    }

    @Test func gradientsAreTheFormulasToSecondOrder() {
        let x = Tensor.randn([3, 4], dtype: .float64, generator: RandomGenerator(seed: 5))
        GradientCheck.check([x]) { rmsNormalized($0[0]).sin() }
        GradientCheck.checkSecondOrder([x]) { rmsNormalized($0[0]).sin() }
    }
}
