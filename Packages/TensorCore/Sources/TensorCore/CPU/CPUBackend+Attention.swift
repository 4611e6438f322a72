import CTesseraKernels

/// Attention on CTesseraKernels' fused float32 kernel (attention.c): one pool task per batch
/// matrix, scores and softmax kept in cache, key blocks past a causal mask skipped. Other
/// dtypes and layouts take the composed defaults.
extension CPUBackend {
    public func attention(query: Operand, key: Operand, value: Operand, scale: Double, causal: Bool,
                          into out: Operand, probabilities: Operand) {
        guard fusedAttentionApplies([query, key, value, out]), probabilities.layout.isContiguous else {
            return composedAttention(query: query, key: key, value: value, scale: scale, causal: causal,
                                     into: out, probabilities: probabilities)
        }
        let operands = [query, key, value, out]
        withAttentionArguments(operands, scale: scale, causal: causal, probabilities: probabilities) { args in
            tessera_attention_f32(&args)
        }
    }

    public func attentionBackward(query: Operand, key: Operand, value: Operand, probabilities: Operand,
                                  gradient: Operand, scale: Double, causal: Bool,
                                  gradQuery: Operand, gradKey: Operand, gradValue: Operand) {
        let operands = [query, key, value, gradient, gradQuery, gradKey, gradValue]
        guard fusedAttentionApplies(operands), probabilities.layout.isContiguous else {
            return composedAttentionBackward(query: query, key: key, value: value, probabilities: probabilities,
                                             gradient: gradient, scale: scale, causal: causal, gradQuery: gradQuery,
                                             gradKey: gradKey, gradValue: gradValue)
        }
        withAttentionArguments(operands, scale: scale, causal: causal, probabilities: probabilities) { args in
            tessera_attention_backward_f32(&args)
        }
    }

    /// float32, our GEMM available, and every matrix with contiguous rows (the fused kernel
    /// takes a row stride and per-matrix offsets, so head views of a packed QKV need no copy).
    private func fusedAttentionApplies(_ operands: [Operand]) -> Bool {
        CPUBackend.fusedKernels && operands.allSatisfy { o in
            let r = o.shape.count
            return o.dtype == .float32 && r >= 2 && (o.layout.strides[r - 1] == 1 || o.shape[r - 1] == 1)
        }
    }

    /// Fills the kernel's argument struct: `operands` are q, k, v, then out (forward) or
    /// g, dq, dk, dv (backward).
    private func withAttentionArguments(_ operands: [Operand], scale: Double, causal: Bool, probabilities: Operand,
                                        _ body: (inout tessera_attention_args) -> Void) {
        let p = probabilities, r = p.shape.count
        let batchShape = Array(p.shape.prefix(r - 2))
        let batch = batchShape.reduce(1, *)
        // Element offsets of every matrix of the batch, operand after operand in one array.
        var offsets: [Int] = []
        offsets.reserveCapacity(batch * operands.count)
        for o in operands {
            let layout = Layout(shape: batchShape, strides: Array(o.layout.strides.prefix(r - 2)), offset: o.layout.offset)
            let plan = StridedPlan(shape: batchShape, layouts: [layout])
            let step = plan.innerStrides[0]
            plan.forEachRow(in: 0..<plan.elementCount) { start, n in
                for i in 0..<n { offsets.append(start[0] + i * step) }
            }
        }
        func pointer(_ o: Operand) -> UnsafeMutablePointer<Float> { o.storage.pointer.assumingMemoryBound(to: Float.self) }
        func rowStride(_ o: Operand) -> Int { o.layout.strides[o.shape.count - 2] }
        var args = tessera_attention_args()
        args.batch = batch
        args.l = p.shape[r - 2]
        args.s = p.shape[r - 1]
        args.d = operands[0].shape[r - 1]
        args.dv = operands[2].shape[r - 1]
        args.scale = Float(scale)
        args.causal = causal ? 1 : 0
        args.p = pointer(p) + p.layout.offset
        offsets.withUnsafeBufferPointer { all in
            func at(_ k: Int) -> UnsafePointer<Int> { all.baseAddress! + k * batch }
            let q = operands[0], k = operands[1], v = operands[2]
            args.q = UnsafePointer(pointer(q)); args.q_offsets = at(0); args.q_row = rowStride(q)
            args.k = UnsafePointer(pointer(k)); args.k_offsets = at(1); args.k_row = rowStride(k)
            args.v = UnsafePointer(pointer(v)); args.v_offsets = at(2); args.v_row = rowStride(v)
            if operands.count == 4 {
                let out = operands[3]
                args.out = pointer(out); args.out_offsets = at(3); args.out_row = rowStride(out)
            } else {
                let g = operands[3], dq = operands[4], dk = operands[5], dv = operands[6]
                args.g = UnsafePointer(pointer(g)); args.g_offsets = at(3); args.g_row = rowStride(g)
                args.dq = pointer(dq); args.dq_offsets = at(4); args.dq_row = rowStride(dq)
                args.dk = pointer(dk); args.dk_offsets = at(5); args.dk_row = rowStride(dk)
                args.dvalue = pointer(dv); args.dv_offsets = at(6); args.dv_row = rowStride(dv)
            }
            body(&args)
        }
    }
}
