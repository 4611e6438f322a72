import Testing
import TensorCore

/// The fused requirements: softmax, layer norm, cross-entropy, attention and the recurrent
/// cells and sequences, forward and backward. Softmax, layer norm and cross-entropy are held
/// to host formulas; the rest to their composed defaults run on the CPU in float64.
extension BackendConformance {
    func fused(_ loc: SourceLocation) {
        // Short rows, and long ones that spread over every thread of a GPU block (a row per
        // block: its warps' partial results must all reach the block's reduction).
        for (rows, length) in [(3, 4), (2, 600)] {
            fusedRows(rows, length, loc)
        }
    }

    private func fusedRows(_ rows: Int, _ length: Int, _ loc: SourceLocation) {
        let v = Self.values(rows * length, seed: 8).map { $0 * 5 }
        let x = upload(v, shape: [rows, length])
        let out = backend.makeOperand(shape: [rows, length], dtype: dtype)
        func row(_ r: Int) -> ArraySlice<Double> { v[(r * length)..<((r + 1) * length)] }
        let shape = "[\(rows), \(length)]"
        backend.softmax(x, axis: 1, log: false, into: out)
        var expected: [Double] = []
        for r in 0..<rows {
            let m = row(r).max()!
            let total = row(r).reduce(0.0) { $0 + Foundation_exp($1 - m) }
            expected += row(r).map { Foundation_exp($0 - m) / total }
        }
        expect(out, expected, "softmax \(shape)", sourceLocation: loc)
        backend.layerNorm(x, epsilon: 1e-5, into: out)
        expected = []
        for r in 0..<rows {
            let mean = row(r).reduce(0, +) / Double(length)
            let variance = row(r).reduce(0.0) { $0 + ($1 - mean) * ($1 - mean) } / Double(length)
            expected += row(r).map { ($0 - mean) / (variance + 1e-5).squareRoot() }
        }
        expect(out, expected, "layerNorm \(shape)", tolerance: Tolerance(absolute: 1e-4, relative: 1e-4), sourceLocation: loc)
        let classes = (0..<rows).map { ($0 * 2 + 1) % length }
        let targets = upload(classes.map(Double.init), shape: [rows], type: .int64)
        let losses = backend.makeOperand(shape: [rows], dtype: dtype)
        backend.crossEntropy(logits: x, targets: targets, into: losses)
        expected = (0..<rows).map { r in
            let m = row(r).max()!
            return Foundation_log(row(r).reduce(0.0) { $0 + Foundation_exp($1 - m) }) + m - v[r * length + classes[r]]
        }
        expect(losses, expected, "crossEntropy \(shape)", tolerance: Tolerance(absolute: 1e-4, relative: 1e-5), sourceLocation: loc)
    }

    /// Log-softmax over a middle axis and the layer-norm backward, against the composed
    /// defaults in float64.
    func fusedBackward(_ loc: SourceLocation) {
        let x = (Self.values(24, seed: 9).map { $0 * 4 }, [2, 3, 4], DType?.none)
        agree("log-softmax over axis 1", inputs: [x], outputs: [([2, 3, 4], nil)], loc) { b, reference, i, o in
            if reference { b.composedSoftmax(i[0], axis: 1, log: true, into: o[0]) }
            else { b.softmax(i[0], axis: 1, log: true, into: o[0]) }
        }
        agree("softmax over the last axis of a transposed view", inputs: [x], outputs: [([2, 4, 3], nil)], loc) { b, reference, i, o in
            let view = i[0].with(layout: Layout(shape: [2, 4, 3], strides: [12, 1, 4]))
            if reference { b.composedSoftmax(view, axis: 2, log: false, into: o[0]) }
            else { b.softmax(view, axis: 2, log: false, into: o[0]) }
        }
        let g = (Self.values(24, seed: 10), [6, 4], DType?.none)
        agree("layerNormBackward", inputs: [(x.0, [6, 4], nil), g], outputs: [([6, 4], nil), ([6, 4], nil)],
              tolerance: Tolerance(absolute: 1e-4, relative: 1e-4), loc) { b, reference, i, o in
            b.layerNorm(i[0], epsilon: 1e-5, into: o[0])
            if reference { b.composedLayerNormBackward(i[0], normalized: o[0], gradient: i[1], epsilon: 1e-5, into: o[1]) }
            else { b.layerNormBackward(i[0], normalized: o[0], gradient: i[1], epsilon: 1e-5, into: o[1]) }
        }
    }

    /// Batch norm forward (output, mean, variance) and backward (three gradients), on
    /// `[N, C, H, W]` with spatial runs shorter and longer than a vector, and on `[N, C]`.
    func batchNorm(_ loc: SourceLocation) {
        for shape in [[3, 4, 2, 5], [2, 3, 4, 7], [9, 5]] {
            let count = shape.reduce(1, *), c = shape[1]
            let x = (Self.values(count, seed: 31).map { $0 * 3 + 1 }, shape, DType?.none)
            let g = (Self.values(count, seed: 32), shape, DType?.none)
            let w = (Self.values(c, seed: 33).map { $0 + 1.5 }, [c], DType?.none), bias = (Self.values(c, seed: 34), [c], DType?.none)
            agree("batchNorm \(shape) and its backward", inputs: [x, w, bias, g],
                  outputs: [(shape, nil), ([c], nil), ([c], nil), (shape, nil), ([c], nil), ([c], nil)],
                  tolerance: Tolerance(absolute: 1e-4, relative: 1e-4), loc) { b, reference, i, o in
                if reference {
                    b.composedBatchNorm(i[0], weight: i[1], bias: i[2], epsilon: 1e-5, into: o[0], mean: o[1], variance: o[2])
                    b.composedBatchNormBackward(i[0], gradient: i[3], weight: i[1], epsilon: 1e-5, into: o[3],
                                                weightGradient: o[4], biasGradient: o[5])
                } else {
                    b.batchNorm(i[0], weight: i[1], bias: i[2], epsilon: 1e-5, into: o[0], mean: o[1], variance: o[2])
                    b.batchNormBackward(i[0], gradient: i[3], mean: o[1], variance: o[2], weight: i[1], epsilon: 1e-5,
                                        into: o[3], weightGradient: o[4], biasGradient: o[5])
                }
            }
        }
    }

    /// Attention forward and backward, causal and not, more keys than queries and fewer.
    func attention(_ loc: SourceLocation) {
        for (l, s, causal) in [(5, 7, false), (6, 4, true), (5, 5, true)] {
            let (batch, d, dv) = (2, 3, 4)
            let q = (Self.values(batch * l * d, seed: 21), [batch, l, d], DType?.none)
            let k = (Self.values(batch * s * d, seed: 22), [batch, s, d], DType?.none)
            let v = (Self.values(batch * s * dv, seed: 23), [batch, s, dv], DType?.none)
            let g = (Self.values(batch * l * dv, seed: 24), [batch, l, dv], DType?.none)
            agree("attention L=\(l) S=\(s) causal \(causal) and its backward", inputs: [q, k, v, g],
                  outputs: [([batch, l, dv], nil), ([batch, l, s], nil), ([batch, l, d], nil), ([batch, s, d], nil), ([batch, s, dv], nil)],
                  tolerance: Tolerance(absolute: 1e-5, relative: 1e-4), loc) { b, reference, i, o in
                if reference {
                    b.composedAttention(query: i[0], key: i[1], value: i[2], scale: 0.6, causal: causal, into: o[0], probabilities: o[1])
                    b.composedAttentionBackward(query: i[0], key: i[1], value: i[2], probabilities: o[1], gradient: i[3], scale: 0.6, causal: causal,
                                                gradQuery: o[2], gradKey: o[3], gradValue: o[4])
                } else {
                    b.attention(query: i[0], key: i[1], value: i[2], scale: 0.6, causal: causal, into: o[0], probabilities: o[1])
                    b.attentionBackward(query: i[0], key: i[1], value: i[2], probabilities: o[1], gradient: i[3], scale: 0.6,
                                        causal: causal, gradQuery: o[2], gradKey: o[3], gradValue: o[4])
                }
            }
        }
    }

    /// LSTM and GRU cells and the whole-sequence LSTM (both directions), forward and backward.
    func recurrent(_ loc: SourceLocation) {
        let (b, h, t, inputs) = (3, 5, 4, 2)
        let gates = (Self.values(b * 4 * h, seed: 31).map { $0 * 2 }, [b, 4 * h], DType?.none)
        let cell = (Self.values(b * h, seed: 32), [b, h], DType?.none)
        let gradient = (Self.values(2 * b * h, seed: 33), [2, b, h], DType?.none)
        agree("lstmCell and lstmCellBackward", inputs: [gates, cell, gradient],
              outputs: [([2, b, h], nil), ([b, 4 * h], nil), ([b, h], nil)], tolerance: Tolerance(absolute: 1e-5, relative: 1e-4), loc) { k, reference, i, o in
            let newCell = o[0].with(layout: Layout(shape: [b, h], strides: [h, 1], offset: b * h))
            if reference {
                k.composedLSTMCell(gates: i[0], cell: i[1], into: o[0])
                k.composedLSTMCellBackward(gates: i[0], cell: i[1], newCell: newCell, gradient: i[2], gatesGradient: o[1], cellGradient: o[2])
            } else {
                k.lstmCell(gates: i[0], cell: i[1], into: o[0])
                k.lstmCellBackward(gates: i[0], cell: i[1], newCell: newCell, gradient: i[2], gatesGradient: o[1], cellGradient: o[2])
            }
        }
        let inputGates = (Self.values(b * 3 * h, seed: 34).map { $0 * 2 }, [b, 3 * h], DType?.none)
        let hiddenGates = (Self.values(b * 3 * h, seed: 35).map { $0 * 2 }, [b, 3 * h], DType?.none)
        let hidden = (Self.values(b * h, seed: 36), [b, h], DType?.none)
        let gradHidden = (Self.values(b * h, seed: 37), [b, h], DType?.none)
        agree("gruCell and gruCellBackward", inputs: [inputGates, hiddenGates, hidden, gradHidden],
              outputs: [([b, h], nil), ([b, 3 * h], nil), ([b, 3 * h], nil), ([b, h], nil)],
              tolerance: Tolerance(absolute: 1e-5, relative: 1e-4), loc) { k, reference, i, o in
            if reference {
                k.composedGRUCell(inputGates: i[0], hiddenGates: i[1], hidden: i[2], into: o[0])
                k.composedGRUCellBackward(inputGates: i[0], hiddenGates: i[1], hidden: i[2], gradient: i[3],
                                          inputGatesGradient: o[1], hiddenGatesGradient: o[2], hiddenGradient: o[3])
            } else {
                k.gruCell(inputGates: i[0], hiddenGates: i[1], hidden: i[2], into: o[0])
                k.gruCellBackward(inputGates: i[0], hiddenGates: i[1], hidden: i[2], gradient: i[3],
                                  inputGatesGradient: o[1], hiddenGatesGradient: o[2], hiddenGradient: o[3])
            }
        }
        for reverse in [false, true] {
            let sequenceGates = (Self.values(t * b * 4 * h, seed: 41), [t, b, 4 * h], DType?.none)
            let weightHH = (Self.values(4 * h * h, seed: 42).map { $0 * 0.5 }, [4 * h, h], DType?.none)
            let h0 = (Self.values(b * h, seed: 43), [b, h], DType?.none)
            let c0 = (Self.values(b * h, seed: 44), [b, h], DType?.none)
            let gradOutputs = (Self.values(t * b * h, seed: 45), [t, b, h], DType?.none)
            let gradLast = (Self.values(b * h, seed: 46), [b, h], DType?.none)
            let x = (Self.values(t * b * inputs, seed: 47), [t, b, inputs], DType?.none)
            let weightIH = (Self.values(4 * h * inputs, seed: 48), [4 * h, inputs], DType?.none)
            agree("lstmSequence and lstmSequenceBackward (reverse \(reverse))",
                  inputs: [sequenceGates, weightHH, h0, c0, gradOutputs, gradLast, gradLast, x, weightIH],
                  outputs: [([t, b, h], nil), ([t + 1, b, h], nil), ([t, b, h], nil), ([t, b, 4 * h], nil), ([b, h], nil),
                            ([b, h], nil), ([t, b, inputs], nil), ([4 * h, inputs], nil), ([4 * h, h], nil), ([4 * h], nil)],
                  tolerance: Tolerance(absolute: 1e-4, relative: 1e-4), loc) { k, reference, i, o in
                let cells = o[1]
                k.copy(i[3], into: cells.with(layout: Layout(shape: [b, h], strides: [h, 1])))
                let weights = LSTMWeightGradients(input: i[7], weightIH: i[8], previous: o[2], gradInput: o[6],
                                                  gradWeightIH: o[7], gradWeightHH: o[8], gradBias: o[9])
                if reference {
                    k.composedLSTMSequence(gates: i[0], weightHH: i[1], h0: i[2], cells: cells, outputs: o[0], previous: o[2], reverse: reverse)
                    k.composedLSTMSequenceBackward(gates: i[0], cells: cells, weightHH: i[1], gradOutputs: i[4], gradHidden: i[5],
                                                   gradCell: i[6], reverse: reverse, gradGates: o[3], gradH0: o[4], gradC0: o[5])
                    k.composedLSTMWeightGradients(gradGates: o[3], weights)
                } else {
                    k.lstmSequence(gates: i[0], weightHH: i[1], h0: i[2], cells: cells, outputs: o[0], previous: o[2], reverse: reverse)
                    k.lstmSequenceBackward(gates: i[0], cells: cells, weightHH: i[1], gradOutputs: i[4], gradHidden: i[5],
                                           gradCell: i[6], reverse: reverse, gradGates: o[3], gradH0: o[4], gradC0: o[5],
                                           weights: weights)
                }
            }
        }
    }
}
