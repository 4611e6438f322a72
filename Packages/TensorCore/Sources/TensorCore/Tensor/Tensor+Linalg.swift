extension Tensor {
    /// Matrix product with NumPy semantics: batched over leading axes (broadcast), 1-D
    /// operands promoted to a row (lhs) or column (rhs) vector and the axis removed after.
    ///
    /// Shape: `[..., m, k] x [..., k, n] -> [..., m, n]`.
    public func matmul(_ other: Tensor) -> Tensor {
        tensorCheck(rank >= 1 && other.rank >= 1,
                    "[matmul] operands need at least one axis, got \(shapeText(shape)) and \(shapeText(other.shape))")
        tensorCheck(dtype == other.dtype, "[matmul] lhs dtype \(dtype) does not match rhs dtype \(other.dtype)")
        tensorCheck(device == other.device, "[matmul] lhs on \(device) and rhs on \(other.device)")
        if rank == 1 && other.rank == 1 {
            tensorCheck(shape == other.shape, "[matmul] vectors \(shapeText(shape)) and \(shapeText(other.shape)) differ in length")
            return unsqueezed(axis: 0).matmul(other.unsqueezed(axis: 1)).reshaped(to: [])
        }
        if rank == 1 { return unsqueezed(axis: 0).matmul(other).squeezed(axis: -2) }
        if other.rank == 1 { return matmul(other.unsqueezed(axis: 1)).squeezed(axis: -1) }
        let m = shape[rank - 2], k = shape[rank - 1], k2 = other.shape[other.rank - 2], n = other.shape[other.rank - 1]
        tensorCheck(k == k2, "[matmul] lhs \(shapeText(shape)) incompatible with rhs \(shapeText(other.shape))")
        guard let batch = broadcastShapes(Array(shape.dropLast(2)), Array(other.shape.dropLast(2))) else {
            tensorFailure("[matmul] batch axes of lhs \(shapeText(shape)) and rhs \(shapeText(other.shape)) cannot be broadcast")
        }
        let out = Tensor(uninitializedShape: batch + [m, n], dtype: dtype, backend: backend)
        backend.matmul(operand.with(layout: layout.broadcast(to: batch + [m, k])),
                       other.operand.with(layout: other.layout.broadcast(to: batch + [k, n])), into: out.operand)
        let a = self, b = other
        return out.recorded("matmul", a, b) { g, _ in
            [a.requiresGrad ? g.matmul(b.transposed()).sumToShape(a.shape) : nil,
             b.requiresGrad ? a.transposed().matmul(g).sumToShape(b.shape) : nil]
        }
    }

    /// `self Wᵀ + b`, a fully connected layer, as one GEMM with the bias preloaded into the
    /// output; the weight gradient comes out contiguous in `W`'s layout.
    ///
    /// Shape: `[..., in] x [out, in] (+ [out]) -> [..., out]`.
    public func linear(weight: Tensor, bias: Tensor? = nil) -> Tensor {
        linear(weight: weight, bias: bias, relu: false, op: "linear")
    }

    /// `relu(linear(weight:bias:))` with the bias and ReLU applied in the GEMM's epilogue (one
    /// pass over the output instead of three), and one backward node.
    public func linearReLU(weight: Tensor, bias: Tensor? = nil) -> Tensor {
        linear(weight: weight, bias: bias, relu: true, op: "linearReLU")
    }

    private func linear(weight: Tensor, bias: Tensor?, relu: Bool, op: StaticString) -> Tensor {
        tensorCheck(weight.rank == 2 && rank >= 1 && shape.last == weight.shape[1],
                    "[\(op)] input \(shapeText(shape)) does not fit weight \(shapeText(weight.shape))")
        tensorCheck(dtype == weight.dtype, "[\(op)] input dtype \(dtype) does not match weight dtype \(weight.dtype)")
        tensorCheck(device == weight.device, "[\(op)] input on \(device) and weight on \(weight.device)")
        let outFeatures = weight.shape[0], inFeatures = weight.shape[1]
        if let bias {
            tensorCheck(bias.shape == [outFeatures] && bias.dtype == dtype,
                        "[\(op)] bias \(shapeText(bias.shape)) \(bias.dtype) should be [\(outFeatures)] \(dtype)")
            tensorCheck(bias.device == device, "[\(op)] input on \(device) and bias on \(bias.device)")
        }
        let x2 = reshaped(to: [-1, inFeatures]).detached()
        let rows = x2.shape[0]
        let out = Tensor(uninitializedShape: [rows, outFeatures], dtype: dtype, backend: backend)
        let w = weight.detached()
        backend.linear(x2.operand, w.transposed().operand, bias: bias?.detached().operand, relu: relu, into: out.operand)
        let x = self, leadShape = Array(shape.dropLast())
        let result = out.reshaped(to: leadShape + [outFeatures])
        let inputs = [x, weight] + (bias.map { [$0] } ?? [])
        return result.recorded(op, inputs, saveOutput: relu) { g, y in
            // ReLU's mask is constant where it is differentiable, so the saved output serves
            // every order.
            let g2 = (relu ? g.passingWhere(positive: y) : g).reshaped(to: [-1, outFeatures])
            var grads: [Tensor?] = [
                x.requiresGrad ? g2.matmul(weight).reshaped(to: x.shape) : nil,
                weight.requiresGrad ? g2.transposed().matmul(x.reshaped(to: [-1, inFeatures])) : nil,
            ]
            if let bias { grads.append(bias.requiresGrad ? g2.sum(axes: [0]) : nil) }
            return grads
        }
    }

    /// Inner product of two vectors.
    public func dot(_ other: Tensor) -> Tensor {
        tensorCheck(rank == 1 && other.rank == 1 && shape == other.shape,
                    "[dot] needs two vectors of one length, got \(shapeText(shape)) and \(shapeText(other.shape))")
        return matmul(other)
    }
}
