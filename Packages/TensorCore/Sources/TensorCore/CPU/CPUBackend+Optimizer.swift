/// One pass per parameter for SGD and Adam on contiguous float tensors, instead of the
/// ~10 passes of the composed defaults.
extension CPUBackend {
    private func fusable(_ operands: Operand?...) -> DType? {
        let present = operands.compactMap { $0 }
        guard let first = present.first, first.dtype == .float32 || first.dtype == .float64 else { return nil }
        for o in present where !o.layout.isContiguous || o.dtype != first.dtype || o.shape != first.shape { return nil }
        return first.dtype
    }

    public func sgdUpdate(parameter: Operand, gradient: Operand, momentumBuffer: Operand?, firstStep: Bool,
                          hyperparameters h: SGDHyperparameters, into newParameter: Operand) {
        switch fusable(parameter, gradient, momentumBuffer, newParameter) {
        case .float32?: sgdKernel(parameter, gradient, momentumBuffer, firstStep, h, newParameter, Float.self)
        case .float64?: sgdKernel(parameter, gradient, momentumBuffer, firstStep, h, newParameter, Double.self)
        default:
            composedSGDUpdate(parameter: parameter, gradient: gradient, momentumBuffer: momentumBuffer, firstStep: firstStep,
                              hyperparameters: h, into: newParameter)
        }
    }

    private func sgdKernel<T: TensorFloat>(_ p: Operand, _ g: Operand, _ b: Operand?, _ first: Bool,
                                           _ h: SGDHyperparameters, _ out: Operand, _ t: T.Type) {
        func ptr(_ o: Operand) -> UnsafeMutablePointer<T> { o.elements(T.self) }
        let pp = ptr(p), gp = ptr(g), op = ptr(out), bp = b.map(ptr)
        let lr = T(h.learningRate), wd = T(h.weightDecay), mu = T(h.momentum), damp = 1 - T(h.dampening)
        let nesterov = h.nesterov, useMomentum = bp != nil && h.momentum != 0
        // Eight lanes at a time with the branches hoisted: the compiler will not vectorise the
        // plain loop (four pointers it cannot prove apart), and the scalar loop was an eighth of
        // an MLP training step. Same operations in the same order, so the same numbers.
        @inline(__always) func load(_ base: UnsafeMutablePointer<T>, _ i: Int) -> SIMD8<T> {
            UnsafeRawPointer(base + i).loadUnaligned(as: SIMD8<T>.self)
        }
        @inline(__always) func store(_ v: SIMD8<T>, _ base: UnsafeMutablePointer<T>, _ i: Int) {
            UnsafeMutableRawPointer(base + i).storeBytes(of: v, as: SIMD8<T>.self)
        }
        // In place (no fresh pages to fault in), so large updates gain from both threads.
        parallelChunks(count: p.elementCount, cost: 4) { range in
            var i = range.lowerBound
            if useMomentum, let bp {
                while i + 8 <= range.upperBound {
                    let d = load(gp, i) + wd * load(pp, i)
                    let buf = first ? d : mu * load(bp, i) + damp * d
                    store(buf, bp, i)
                    store(load(pp, i) - lr * (nesterov ? d + mu * buf : buf), op, i)
                    i += 8
                }
            } else {
                while i + 8 <= range.upperBound {
                    store(load(pp, i) - lr * (load(gp, i) + wd * load(pp, i)), op, i)
                    i += 8
                }
            }
            for i in i..<range.upperBound {
                var d = gp[i] + wd * pp[i]
                if useMomentum, let bp {
                    let buf = first ? d : mu * bp[i] + damp * d
                    bp[i] = buf
                    d = nesterov ? d + mu * buf : buf
                }
                op[i] = pp[i] - lr * d
            }
        }
    }

    public func adamUpdate(parameter: Operand, gradient: Operand, firstMoment: Operand, secondMoment: Operand,
                           maxSecondMoment: Operand?, hyperparameters h: AdamHyperparameters, into newParameter: Operand) {
        switch fusable(parameter, gradient, firstMoment, secondMoment, maxSecondMoment, newParameter) {
        case .float32?: adamKernel(parameter, gradient, firstMoment, secondMoment, maxSecondMoment, h, newParameter, Float.self)
        case .float64?: adamKernel(parameter, gradient, firstMoment, secondMoment, maxSecondMoment, h, newParameter, Double.self)
        default:
            composedAdamUpdate(parameter: parameter, gradient: gradient, firstMoment: firstMoment, secondMoment: secondMoment,
                               maxSecondMoment: maxSecondMoment, hyperparameters: h, into: newParameter)
        }
    }

    private func adamKernel<T: TensorFloat>(_ p: Operand, _ g: Operand, _ m: Operand, _ v: Operand, _ vmax: Operand?,
                                            _ h: AdamHyperparameters, _ out: Operand, _ t: T.Type) {
        func ptr(_ o: Operand) -> UnsafeMutablePointer<T> { o.elements(T.self) }
        let pp = ptr(p), gp = ptr(g), mp = ptr(m), vp = ptr(v), op = ptr(out), xp = vmax.map(ptr)
        let step = Double(h.step)
        let bias1 = 1 - power(h.beta1, step), bias2 = 1 - power(h.beta2, step)
        let stepSize = T(h.learningRate / bias1), inverseBias2Root = T(1 / bias2.squareRoot())
        let b1 = T(h.beta1), b2 = T(h.beta2), eps = T(h.epsilon)
        let l2 = h.decoupledWeightDecay ? 0 : T(h.weightDecay)
        let shrink = h.decoupledWeightDecay ? 1 - T(h.learningRate * h.weightDecay) : 1
        parallelChunks(count: p.elementCount, cost: 8) { range in
            for i in range {
                let gi = gp[i] + l2 * pp[i]
                let mi = b1 * mp[i] + (1 - b1) * gi
                let vi = b2 * vp[i] + (1 - b2) * gi * gi
                mp[i] = mi
                vp[i] = vi
                var vHat = vi
                if let xp { vHat = Swift.max(xp[i], vi); xp[i] = vHat }
                op[i] = pp[i] * shrink - stepSize * mi / (vHat.squareRoot() * inverseBias2Root + eps)
            }
        }
    }
}
