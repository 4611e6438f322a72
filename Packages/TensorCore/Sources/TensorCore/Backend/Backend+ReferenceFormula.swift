/// How a fused requirement's default derives from its single reference formula, the Tensor-level
/// composition (MLX's primitives do the same with their vjp): the forward default evaluates the
/// formula on the operands, the backward default is the formula's vector-Jacobian product from
/// autograd, and the higher-order path records the same formula. A model family adding a fused
/// kernel writes its formula once, over Tensors, and its defaults with these two calls.
extension MemoryOps {
    /// Evaluates `formula` on `inputs` (as constant tensors of this backend) and copies its
    /// results into `outputs`, in order and of the same shapes.
    public func evaluateReferenceFormula(_ inputs: [Operand], into outputs: [Operand],
                                         _ formula: ([Tensor]) -> [Tensor]) {
        let results = withoutGradients { formula(inputs.map { Tensor(operand: $0) }) }
        tensorCheck(results.count == outputs.count, "[reference formula] \(results.count) results for \(outputs.count) outputs")
        for (result, out) in zip(results, outputs) {
            tensorCheck(result.shape == out.shape,
                        "[reference formula] result \(shapeText(result.shape)) for an output \(shapeText(out.shape))")
            copy(result.operand, into: out)
        }
    }

    /// The gradients of `formula`'s results, seeded with `seeds`, with respect to the inputs
    /// whose entry in `gradients` is an output operand (nil: not wanted), written there.
    public func evaluateReferenceGradients(_ inputs: [Operand], seeds: [Operand], into gradients: [Operand?],
                                           _ formula: ([Tensor]) -> [Tensor]) {
        let wanted = gradients.indices.filter { gradients[$0] != nil }
        let results: [Tensor] = withGradients(enabled: true) {
            let tensors = inputs.enumerated().map { i, o in
                wanted.contains(i) ? Tensor(operand: o).requiringGrad() : Tensor(operand: o)
            }
            let outputs = formula(tensors)
            return TensorCore.gradients(of: outputs, withRespectTo: wanted.map { tensors[$0] },
                                        seeds: seeds.map { Tensor(operand: $0) })
        }
        for (k, i) in wanted.enumerated() { copy(results[k].operand, into: gradients[i]!) }
    }
}
