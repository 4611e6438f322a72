import TensorCore

/// What the forward pass of one layer-direction keeps for its backward pass, in processing
/// order (step `s` is time `T-1-s` when reversed).
private final class RecurrentTape {
    /// The input projection `x W_ihᵀ + b_ih`, `[T, b, G·h]`.
    var projection: Tensor?
    /// Hidden state before each step.
    var hidden: [Tensor] = []
    /// Cell state before each step, then the final one (LSTM).
    var cells: [Tensor] = []
    /// LSTM: pre-activation gates; GRU: hidden gates `h W_hhᵀ + b_hh`; RNN: unused.
    var gates: [Tensor] = []
    /// Output (new hidden state) of each step.
    var outputs: [Tensor] = []
    /// LSTM: the whole sequence's tape from the backend's `lstmSequence`.
    var lstm: Tensor.LSTMSequenceTape?
    /// LSTM: the input made contiguous (time-major) for the projection, which the backward's
    /// weight gradient reads again (a batch-first input would otherwise be copied twice).
    var input: Tensor?
}

extension RecurrentWeights {
    /// The whole sequence of one layer and direction as a single autograd node: the forward
    /// runs unrecorded step kernels, the backward runs backpropagation through time by hand
    /// and computes the weight gradients as one GEMM each over all steps (cuDNN's structure).
    /// Recording a node per step instead would make each step's slice gradient a full-size
    /// zero-padded tensor: O(T²) memory traffic.
    ///
    /// `x [T, b, in]`, `h0`/`c0 [b, h]`; returns the outputs `[T, b, h]` and final states.
    func sequence(_ kind: RecurrentKind, _ x: Tensor, h0: Tensor, c0: Tensor?, reverse: Bool)
        -> (output: Tensor, hidden: Tensor, cell: Tensor?) {
        let steps = x.shape[0], batch = x.shape[1], hiddenSize = weightHH.shape[1]
        let parameters = [weightIH, weightHH] + [biasIH, biasHH].compactMap { $0 }
        let inputs = [x, h0] + (c0.map { [$0] } ?? []) + parameters.map(\.value)
        let tape = RecurrentTape()
        let hasCell = c0 != nil, hasBias = biasIH != nil
        let packed = Tensor.custom(inputs, forward: { v in
            let (x, h0) = (v[0], v[1])
            let c0: Tensor? = hasCell ? v[2] : nil
            let w = Array(v[(hasCell ? 3 : 2)...])
            return Self.forwardSteps(kind, x, h0, c0, w, hasBias: hasBias, reverse: reverse, tape: tape)
        }, backward: { g, inputs, _ in
            if isRecordingGradients {
                return Self.recordedGradients(kind, inputs, seed: g, hasCell: hasCell, hasBias: hasBias, reverse: reverse)
            }
            return Self.backwardSteps(kind, g, inputs, tape, hasCell: hasCell, hasBias: hasBias, reverse: reverse)
        })
        let n = steps * batch * hiddenSize, m = batch * hiddenSize
        let output = packed.narrowed(axis: 0, start: 0, length: n).reshaped(to: [steps, batch, hiddenSize])
        let hidden = packed.narrowed(axis: 0, start: n, length: m).reshaped(to: [batch, hiddenSize])
        let cell = hasCell ? packed.narrowed(axis: 0, start: n + m, length: m).reshaped(to: [batch, hiddenSize]) : nil
        return (output, hidden, cell)
    }

    /// Unrecorded forward; returns outputs, final hidden and final cell flattened into one vector.
    private static func forwardSteps(_ kind: RecurrentKind, _ x: Tensor, _ h0: Tensor, _ c0: Tensor?, _ w: [Tensor],
                                     hasBias: Bool, reverse: Bool, tape: RecurrentTape) -> Tensor {
        let steps = x.shape[0]
        let weightIH = w[0], weightHH = w[1], biasIH = hasBias ? w[2] : nil, biasHH = hasBias ? w[3] : nil
        if case .lstm = kind {
            // One backend call for the whole sequence; both biases folded into the projection.
            let bias = hasBias ? biasIH! + biasHH! : nil
            let input = x.contiguous()
            let run = Tensor.lstmSequence(projection: input.linear(weight: weightIH, bias: bias), weightHH: weightHH,
                                          h0: h0, c0: c0!, reverse: reverse)
            tape.lstm = run
            tape.input = input
            return run.flat
        }
        let projection = x.linear(weight: weightIH, bias: biasIH)
        tape.projection = projection
        var h = h0, c = c0
        var outputs = [Tensor?](repeating: nil, count: steps)
        for s in 0..<steps {
            let t = reverse ? steps - 1 - s : s
            tape.hidden.append(h)
            let hp = h.linear(weight: weightHH, bias: biasHH)
            switch kind {
            case .rnn(let f):
                let pre = projection[t] + hp
                h = f == .tanh ? pre.tanh() : pre.relu()
            case .lstm:
                let gates = projection[t] + hp
                tape.gates.append(gates)
                tape.cells.append(c!)
                (h, c) = { let r = Tensor.lstmCell(gates: gates, cell: c!); return (r.hidden, r.cell) }()
            case .gru:
                tape.gates.append(hp)
                h = Tensor.gruCell(inputGates: projection[t], hiddenGates: hp, hidden: h)
            }
            tape.outputs.append(h)
            outputs[t] = h
        }
        if let c { tape.cells.append(c) }
        let parts = [Tensor.stacked(outputs.map { $0! }, axis: 0), h] + (c.map { [$0] } ?? [])
        return Tensor.concatenated(parts.map { $0.reshaped(to: [-1]) }, axis: 0)
    }

    /// Backpropagation through time from the packed output gradient.
    private static func backwardSteps(_ kind: RecurrentKind, _ g: Tensor, _ inputs: [Tensor], _ tape: RecurrentTape,
                                      hasCell: Bool, hasBias: Bool, reverse: Bool) -> [Tensor?] {
        let x = inputs[0].detached(), h0 = inputs[1]
        let wIndex = hasCell ? 3 : 2
        let weightIH = inputs[wIndex].detached(), weightHH = inputs[wIndex + 1].detached()
        let steps = x.shape[0], batch = h0.shape[0], hiddenSize = h0.shape[1]
        let n = steps * batch * hiddenSize, m = batch * hiddenSize
        let gradOutput = g.narrowed(axis: 0, start: 0, length: n).reshaped(to: [steps, batch, hiddenSize])
        var dh = g.narrowed(axis: 0, start: n, length: m).reshaped(to: [batch, hiddenSize])
        var dc = hasCell ? g.narrowed(axis: 0, start: n + m, length: m).reshaped(to: [batch, hiddenSize]) : nil
        if let run = tape.lstm {
            let wantBias = hasBias && (inputs[wIndex + 2].requiresGrad || inputs[wIndex + 3].requiresGrad)
            let r = Tensor.lstmSequenceBackward(run, input: tape.input!, weightIH: weightIH, weightHH: weightHH,
                                                gradOutputs: gradOutput, gradHidden: dh, gradCell: dc!,
                                                want: (inputs[0].requiresGrad, inputs[wIndex].requiresGrad,
                                                       inputs[wIndex + 1].requiresGrad, wantBias))
            var grads: [Tensor?] = [r.input, inputs[1].requiresGrad ? r.hidden : nil, inputs[2].requiresGrad ? r.cell : nil,
                                    r.weightIH, r.weightHH]
            if hasBias {
                grads.append(inputs[wIndex + 2].requiresGrad ? r.bias : nil)
                grads.append(inputs[wIndex + 3].requiresGrad ? r.bias : nil)
            }
            return grads
        }
        var gradProjection = [Tensor?](repeating: nil, count: steps)   // by time
        var gradHiddenGates = [Tensor?](repeating: nil, count: steps)  // by processing step
        for s in stride(from: steps - 1, through: 0, by: -1) {
            let t = reverse ? steps - 1 - s : s
            dh = dh + gradOutput[t]
            switch kind {
            case .rnn(let f):
                let out = tape.outputs[s]
                let pre = f == .tanh ? dh * (1 - out * out) : dh.passingWhere(positive: out)
                gradProjection[t] = pre
                gradHiddenGates[s] = pre
                dh = pre.matmul(weightHH)
            case .lstm:
                let r = Tensor.lstmCellBackward(gates: tape.gates[s], cell: tape.cells[s], newCell: tape.cells[s + 1],
                                                gradient: Tensor.stacked([dh, dc!], axis: 0))
                gradProjection[t] = r.gates
                gradHiddenGates[s] = r.gates
                dh = r.gates.matmul(weightHH)
                dc = r.cell
            case .gru:
                let r = Tensor.gruCellBackward(inputGates: tape.projection![t], hiddenGates: tape.gates[s],
                                               hidden: tape.hidden[s], gradient: dh)
                gradProjection[t] = r.inputGates
                gradHiddenGates[s] = r.hiddenGates
                dh = r.hidden + r.hiddenGates.matmul(weightHH)
            }
        }
        let rows = steps * batch
        let dP = Tensor.stacked(gradProjection.map { $0! }, axis: 0).reshaped(to: [rows, -1])
        let dHG = Tensor.stacked(gradHiddenGates.map { $0! }, axis: 0).reshaped(to: [rows, -1])
        let previous = Tensor.stacked(tape.hidden, axis: 0).reshaped(to: [rows, hiddenSize])
        let flatX = x.reshaped(to: [rows, -1])
        var grads: [Tensor?] = [
            inputs[0].requiresGrad ? dP.matmul(weightIH).reshaped(to: x.shape) : nil,
            inputs[1].requiresGrad ? dh : nil,
        ]
        if hasCell { grads.append(inputs[2].requiresGrad ? dc : nil) }
        grads.append(inputs[wIndex].requiresGrad ? dP.transposed().matmul(flatX) : nil)
        grads.append(inputs[wIndex + 1].requiresGrad ? dHG.transposed().matmul(previous) : nil)
        if hasBias {
            grads.append(inputs[wIndex + 2].requiresGrad ? dP.sum(axes: [0]) : nil)
            grads.append(inputs[wIndex + 3].requiresGrad ? dHG.sum(axes: [0]) : nil)
        }
        return grads
    }

    /// Under `createGraph`: the same gradients from a recorded step-by-step recomputation,
    /// so they can be differentiated again.
    private static func recordedGradients(_ kind: RecurrentKind, _ inputs: [Tensor], seed: Tensor, hasCell: Bool,
                                          hasBias: Bool, reverse: Bool) -> [Tensor?] {
        let wIndex = hasCell ? 3 : 2
        let w = Array(inputs[wIndex...])
        let x = inputs[0], steps = x.shape[0]
        var h = inputs[1], c: Tensor? = hasCell ? inputs[2] : nil
        let projection = x.linear(weight: w[0], bias: hasBias ? w[2] : nil)
        var outputs = [Tensor?](repeating: nil, count: steps)
        for s in 0..<steps {
            let t = reverse ? steps - 1 - s : s
            let hp = h.linear(weight: w[1], bias: hasBias ? w[3] : nil)
            switch kind {
            case .rnn(let f):
                let pre = projection[t] + hp
                h = f == .tanh ? pre.tanh() : pre.relu()
            case .lstm:
                let r = Tensor.composedLSTMCell(gates: projection[t] + hp, cell: c!)
                h = r.hidden
                c = r.cell
            case .gru:
                h = Tensor.composedGRUCell(inputGates: projection[t], hiddenGates: hp, hidden: h)
            }
            outputs[t] = h
        }
        let parts = [Tensor.stacked(outputs.map { $0! }, axis: 0), h] + (c.map { [$0] } ?? [])
        let packed = Tensor.concatenated(parts.map { $0.reshaped(to: [-1]) }, axis: 0)
        let wanted = inputs.indices.filter { inputs[$0].requiresGrad }
        let grads = gradients(of: [packed], withRespectTo: wanted.map { inputs[$0] }, seeds: [seed], createGraph: true)
        var result = [Tensor?](repeating: nil, count: inputs.count)
        for (k, i) in wanted.enumerated() { result[i] = grads[k] }
        return result
    }
}
