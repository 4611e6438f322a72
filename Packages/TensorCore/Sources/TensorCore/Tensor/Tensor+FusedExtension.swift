extension Tensor {
    /// A fused operation that a package outside TensorCore adds, with no change to TensorCore.
    ///
    /// The package declares its kernel as a protocol (`protocol RMSNormKernel { func rmsNorm(…) }`)
    /// and makes the backends that have one conform, CPUBackend included (`extension CPUBackend:
    /// RMSNormKernel`); it writes the operation once over Tensors as `formula`. Where the inputs'
    /// backend conforms, `kernel` runs; elsewhere the formula does. Gradients are the formula's
    /// (recomputed, so every order is exact), so a kernel is a forward speed-up that cannot change
    /// what is differentiated. Pass `Kernel` as the existential (`(any RMSNormKernel).self`).
    ///
    /// ```swift
    /// let y = Tensor.fused((any RMSNormKernel).self, [x],
    ///                      kernel: { k, x in k.rmsNorm(x[0]) },
    ///                      formula: { x in x[0] * (x[0].squared().mean(axes: [-1], keepDims: true) + 1e-6).rsqrt() })
    /// ```
    public static func fused<Kernel>(_ kernelType: Kernel.Type, _ inputs: [Tensor],
                                     kernel: (Kernel, [Tensor]) -> Tensor,
                                     formula: @escaping ([Tensor]) -> Tensor) -> Tensor {
        tensorCheck(!inputs.isEmpty, "[fused] needs at least one input")
        let plain = inputs.map { $0.detached() }
        let value = withoutGradients {
            if let implementation = inputs[0].backend as? Kernel { return kernel(implementation, plain) }
            return formula(plain)
        }.detached()
        return value.recorded("fused", inputs) { g, _ in
            // Recorded backward (createGraph): differentiate the formula on the inputs themselves.
            if isRecordingGradients { return recomputedGradients(inputs, seeds: [g]) { [formula($0)] } }
            // First order: on fresh leaves, with a graph just for this product.
            let wanted = inputs.indices.filter { inputs[$0].requiresGrad }
            let leaves = inputs.enumerated().map { i, x in wanted.contains(i) ? x.detached().requiringGrad() : x.detached() }
            let grads = withGradients(enabled: true) {
                gradients(of: [formula(leaves)], withRespectTo: wanted.map { leaves[$0] }, seeds: [g])
            }
            var result = [Tensor?](repeating: nil, count: inputs.count)
            for (k, i) in wanted.enumerated() { result[i] = grads[k] }
            return result
        }
    }
}
