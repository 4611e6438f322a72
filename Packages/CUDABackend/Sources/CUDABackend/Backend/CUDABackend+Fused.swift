import TensorCore

extension CUDABackend {
    /// Threads per row for the row kernels: whole warps (their block reductions need them),
    /// fewer for short rows.
    func rowThreads(_ length: Int) -> Int { length <= 64 ? 32 : (length <= 1024 ? 128 : 256) }

    private func rowsFit(_ operands: [Operand]) -> Bool {
        operands.allSatisfy { $0.layout.isContiguous && $0.dtype.isFloatingPoint && $0.dtype == operands[0].dtype }
    }

    public func softmax(_ x: Operand, axis: Int, log: Bool, into out: Operand) {
        let rank = x.shape.count
        guard rank > 0, axis == rank - 1 || axis == -1, rowsFit([x, out]) else {
            return composedSoftmax(x, axis: axis, log: log, into: out)
        }
        let length = x.shape[rank - 1], rows = x.elementCount / max(length, 1)
        launch(.softmaxRows, x.dtype, count: rows, blocks: min(rows, 65_535), threads: rowThreads(length)) { a in
            a.append(x); a.append(out); a.append(Int64(rows)); a.append(Int64(length)); a.append(Int32(log ? 1 : 0))
        }
    }

    public func layerNorm(_ x: Operand, epsilon: Double, into out: Operand) {
        guard let length = x.shape.last, rowsFit([x, out]) else { return composedLayerNorm(x, epsilon: epsilon, into: out) }
        let rows = x.elementCount / max(length, 1)
        launch(.layerNormRows, x.dtype, count: rows, blocks: min(rows, 65_535), threads: rowThreads(length)) { a in
            a.append(x); a.append(out); a.append(Int64(rows)); a.append(Int64(length)); a.append(epsilon)
        }
    }

    public func layerNormBackward(_ x: Operand, normalized y: Operand, gradient g: Operand, epsilon: Double, into out: Operand) {
        guard let length = x.shape.last, rowsFit([x, y, g, out]) else {
            return composedLayerNormBackward(x, normalized: y, gradient: g, epsilon: epsilon, into: out)
        }
        let rows = x.elementCount / max(length, 1)
        launch(.layerNormBackwardRows, x.dtype, count: rows, blocks: min(rows, 65_535), threads: rowThreads(length)) { a in
            a.append(x); a.append(y); a.append(g); a.append(out); a.append(Int64(rows)); a.append(Int64(length)); a.append(epsilon)
        }
    }

    public func crossEntropy(logits: Operand, targets: Operand, into out: Operand) {
        guard logits.shape.count == 2, rowsFit([logits]), out.dtype == logits.dtype, targets.dtype == .int64 else {
            return composedCrossEntropy(logits: logits, targets: targets, into: out)
        }
        let rows = logits.shape[0], classes = logits.shape[1]
        launch(.crossEntropyRows, logits.dtype, count: rows, blocks: min(rows, 65_535), threads: rowThreads(classes)) { a in
            a.append(logits); a.append(targets); a.append(Int64(targets.layout.strides.first ?? 1))
            a.append(out); a.append(Int64(out.layout.strides.first ?? 1)); a.append(Int64(rows)); a.append(Int64(classes))
        }
    }

    // MARK: OptimizerOps

    public func adamUpdate(parameter: Operand, gradient: Operand, firstMoment: Operand, secondMoment: Operand,
                           maxSecondMoment: Operand?, hyperparameters h: AdamHyperparameters, into newParameter: Operand) {
        let operands = [parameter, gradient, firstMoment, secondMoment, newParameter] + (maxSecondMoment.map { [$0] } ?? [])
        guard rowsFit(operands) else {
            return composedAdamUpdate(parameter: parameter, gradient: gradient, firstMoment: firstMoment, secondMoment: secondMoment,
                                      maxSecondMoment: maxSecondMoment, hyperparameters: h, into: newParameter)
        }
        let t = Double(h.step)
        let bias1 = 1 - Double._pow(h.beta1, t), bias2 = 1 - Double._pow(h.beta2, t)
        let n = parameter.elementCount
        launch(.adamUpdate, parameter.dtype, count: n) { a in
            a.append(parameter); a.append(gradient); a.append(firstMoment); a.append(secondMoment)
            if let vmax = maxSecondMoment { a.append(vmax) } else { a.append(UInt64(0)) }
            a.append(newParameter); a.append(Int64(n))
            a.append(h.learningRate); a.append(h.beta1); a.append(h.beta2); a.append(h.epsilon); a.append(h.weightDecay)
            a.append(Int32(h.decoupledWeightDecay ? 1 : 0)); a.append(bias1); a.append(bias2.squareRoot())
        }
    }

    public func sgdUpdate(parameter: Operand, gradient: Operand, momentumBuffer: Operand?, firstStep: Bool,
                          hyperparameters h: SGDHyperparameters, into newParameter: Operand) {
        let operands = [parameter, gradient, newParameter] + (momentumBuffer.map { [$0] } ?? [])
        guard rowsFit(operands) else {
            return composedSGDUpdate(parameter: parameter, gradient: gradient, momentumBuffer: momentumBuffer, firstStep: firstStep,
                                     hyperparameters: h, into: newParameter)
        }
        let n = parameter.elementCount
        launch(.sgdUpdate, parameter.dtype, count: n) { a in
            a.append(parameter); a.append(gradient)
            if let buffer = momentumBuffer { a.append(buffer) } else { a.append(UInt64(0)) }
            a.append(newParameter); a.append(Int64(n)); a.append(h.learningRate); a.append(h.momentum); a.append(h.dampening)
            a.append(Int32(h.nesterov ? 1 : 0)); a.append(h.weightDecay); a.append(Int32(firstStep ? 1 : 0))
        }
    }
}
