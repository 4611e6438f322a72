import TensorCore

/// Scaled dot-product attention as cuBLAS products around one fused row kernel each way: the
/// scores `Q·Kᵀ`, their scaled (causal) softmax into the saved probabilities, then `P·V`; the
/// backward `dV = Pᵀ·dO`, `dP = dO·Vᵀ`, the softmax's backward with the scale, `dQ = dS·K`,
/// `dK = dSᵀ·Q`. Other layouts and dtypes take the composed default.
extension CUDABackend {
    /// `operand` with its last two axes swapped (a view).
    private func swappingLastTwo(_ operand: Operand) -> Operand { operand.with(layout: operand.layout.transposingLastTwo()) }

    /// Same floating dtype, rank ≥ 2, and contiguous where the row kernels read or write rows.
    private func attentionFits(_ inputs: [Operand], rows: [Operand]) -> Bool {
        let all = inputs + rows
        return all.allSatisfy { $0.dtype.isFloatingPoint && $0.dtype == all[0].dtype && $0.shape.count >= 2 }
            && rows.allSatisfy { $0.layout.isContiguous }
    }

    public func attention(query: Operand, key: Operand, value: Operand, scale: Double, causal: Bool,
                          into out: Operand, probabilities: Operand) {
        guard attentionFits([query, key, value], rows: [out, probabilities]), let length = probabilities.shape.last, length > 0 else {
            return composedAttention(query: query, key: key, value: value, scale: scale, causal: causal, into: out, probabilities: probabilities)
        }
        let scores = makeOperand(shape: probabilities.shape, dtype: probabilities.dtype)
        matmul(query, swappingLastTwo(key), into: scores, accumulate: false)
        let rows = probabilities.elementCount / length, queries = probabilities.shape[probabilities.shape.count - 2]
        launch(.attentionSoftmaxRows, scores.dtype, count: rows, blocks: min(rows, 65_535), threads: rowThreads(length)) { a in
            a.append(scores); a.append(probabilities); a.append(Int64(rows)); a.append(Int64(length)); a.append(Int64(queries))
            a.append(scale); a.append(Int32(causal ? 1 : 0))
        }
        matmul(probabilities, value, into: out, accumulate: false)
    }

    public func attentionBackward(query: Operand, key: Operand, value: Operand, probabilities: Operand,
                                  gradient: Operand, scale: Double, causal: Bool,
                                  gradQuery: Operand, gradKey: Operand, gradValue: Operand) {
        guard attentionFits([query, key, value, gradient], rows: [probabilities, gradQuery, gradKey, gradValue]),
              let length = probabilities.shape.last, length > 0 else {
            return composedAttentionBackward(query: query, key: key, value: value, probabilities: probabilities, gradient: gradient,
                                             scale: scale, causal: causal, gradQuery: gradQuery, gradKey: gradKey, gradValue: gradValue)
        }
        // Masked probabilities are zero, so their score gradients come out zero with no mask.
        matmul(swappingLastTwo(probabilities), gradient, into: gradValue, accumulate: false)
        let gradProbabilities = makeOperand(shape: probabilities.shape, dtype: probabilities.dtype)
        matmul(gradient, swappingLastTwo(value), into: gradProbabilities, accumulate: false)
        let gradScores = makeOperand(shape: probabilities.shape, dtype: probabilities.dtype)
        let rows = probabilities.elementCount / length
        launch(.attentionSoftmaxBackwardRows, probabilities.dtype, count: rows, blocks: min(rows, 65_535), threads: rowThreads(length)) { a in
            a.append(probabilities); a.append(gradProbabilities); a.append(gradScores); a.append(Int64(rows)); a.append(Int64(length))
            a.append(scale)
        }
        matmul(gradScores, key, into: gradQuery, accumulate: false)
        matmul(swappingLastTwo(gradScores), query, into: gradKey, accumulate: false)
    }
}
