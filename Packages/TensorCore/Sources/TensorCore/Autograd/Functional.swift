/// Function transforms built on the tape: gradients, vector-Jacobian and Jacobian-vector
/// products, Jacobians and Hessian-vector products (as `torch.func`).

/// The value of `f` at `x` and its gradient (`f` must return a scalar).
public func valueWithGradient(at x: Tensor, of f: (Tensor) -> Tensor) -> (value: Tensor, gradient: Tensor) {
    let input = x.requiringGrad()
    let y = withGradients(enabled: true) { f(input) }
    tensorCheck(y.elementCount == 1, "[valueWithGradient] f must return a scalar, got shape \(shapeText(y.shape))")
    guard y.requiresGrad else { return (y, Tensor.zeros(like: x)) }
    return (y.detached(), gradients(of: [y], withRespectTo: [input])[0])
}

/// The gradient of scalar `f` at `x`.
public func gradient(at x: Tensor, of f: (Tensor) -> Tensor) -> Tensor {
    valueWithGradient(at: x, of: f).gradient
}

/// `f(x)` and `vᵀ J_f(x)`; with `createGraph` the result can be differentiated again.
public func vjp(at x: Tensor, vector v: Tensor, createGraph: Bool = false,
                of f: (Tensor) -> Tensor) -> (value: Tensor, vjp: Tensor) {
    let input = createGraph && x.requiresGrad ? x : x.requiringGrad()
    let y = withGradients(enabled: true) { f(input) }
    tensorCheck(v.shape == y.shape, "[vjp] vector \(shapeText(v.shape)) does not match output \(shapeText(y.shape))")
    guard y.requiresGrad else { return (y, Tensor.zeros(like: x)) }
    let g = gradients(of: [y], withRespectTo: [input], seeds: [v], createGraph: createGraph)[0]
    return (createGraph ? y : y.detached(), g)
}

/// `f(x)` and `J_f(x) v`, by the double-vjp trick: `u ↦ vᵀ... ` is linear in a dummy
/// cotangent `u`, so differentiating `uᵀ J` with respect to `u` along `v` gives `J v`.
public func jvp(at x: Tensor, vector v: Tensor, of f: (Tensor) -> Tensor) -> (value: Tensor, jvp: Tensor) {
    tensorCheck(v.shape == x.shape, "[jvp] vector \(shapeText(v.shape)) does not match input \(shapeText(x.shape))")
    let input = x.requiringGrad()
    let y = withGradients(enabled: true) { f(input) }
    guard y.requiresGrad else { return (y, Tensor.zeros(like: y)) }
    let u = Tensor.zeros(like: y).requiringGrad()
    let g = withGradients(enabled: true) {
        gradients(of: [y], withRespectTo: [input], seeds: [u], createGraph: true)[0]
    }
    guard g.requiresGrad else { return (y.detached(), Tensor.zeros(like: y)) }
    let jv = gradients(of: [g], withRespectTo: [u], seeds: [v])[0]
    return (y.detached(), jv)
}

/// The Jacobian of `f` at `x`: shape `f(x).shape + x.shape`, one vjp per output element.
public func jacobian(at x: Tensor, of f: (Tensor) -> Tensor) -> Tensor {
    let input = x.requiringGrad()
    let y = withGradients(enabled: true) { f(input) }
    let n = y.elementCount
    var rows: [Tensor] = []
    for i in 0..<n {
        var seed = Tensor.zeros([n], dtype: y.dtype, device: y.device)
        seed[i] = Tensor.ones([], dtype: y.dtype, device: y.device)
        if y.requiresGrad {
            rows.append(gradients(of: [y], withRespectTo: [input], seeds: [seed.reshaped(to: y.shape)])[0])
        } else {
            rows.append(Tensor.zeros(like: x))
        }
    }
    if rows.isEmpty { return Tensor.zeros(y.shape + x.shape, dtype: x.dtype, device: x.device) }
    return Tensor.stacked(rows).reshaped(to: y.shape + x.shape)
}

/// `H v` for scalar `f`, where `H` is the Hessian at `x`: the gradient of `∇f · v`.
public func hessianVectorProduct(at x: Tensor, vector v: Tensor, of f: (Tensor) -> Tensor) -> Tensor {
    tensorCheck(v.shape == x.shape, "[hessianVectorProduct] vector \(shapeText(v.shape)) does not match input \(shapeText(x.shape))")
    let input = x.requiringGrad()
    let y = withGradients(enabled: true) { f(input) }
    tensorCheck(y.elementCount == 1, "[hessianVectorProduct] f must return a scalar, got shape \(shapeText(y.shape))")
    guard y.requiresGrad else { return Tensor.zeros(like: x) }
    let g = withGradients(enabled: true) { gradients(of: [y], withRespectTo: [input], createGraph: true)[0] }
    guard g.requiresGrad else { return Tensor.zeros(like: x) }
    return gradients(of: [(g * v).sum()], withRespectTo: [input])[0]
}

extension Tensor {
    /// A differentiable operation defined by the user: `forward` computes the value from
    /// the inputs (without recording), `backward` maps the output gradient to input
    /// gradients. Write `backward` with Tensor operations to keep higher-order gradients.
    public static func custom(_ inputs: [Tensor], forward: ([Tensor]) -> Tensor,
                              backward: @escaping (_ gradient: Tensor, _ inputs: [Tensor], _ output: Tensor) -> [Tensor?]) -> Tensor {
        let plain = inputs.map { $0.detached() }
        let value = withoutGradients { forward(plain) }.detached()
        return value.recorded("custom", inputs, saveOutput: true) { g, y in
            let grads = backward(g, inputs, y)
            tensorCheck(grads.count == inputs.count,
                        "[custom] backward returned \(grads.count) gradients for \(inputs.count) inputs")
            for (g, x) in zip(grads, inputs) {
                if let g { tensorCheck(g.shape == x.shape, "[custom] gradient \(shapeText(g.shape)) for input \(shapeText(x.shape))") }
            }
            return grads
        }
    }
}
