import CTesseraKernels

/// float32 convolutions as one product per sample on `tessera_sgemm`, the samples spread over
/// the threads (each product on one thread). Against one batched GEMM over all samples: a
/// sample's patch matrix is still in the core's cache when the GEMM packs it, the products
/// read and write NCHW in place (no regrouping copies between layouts), a 1×1 stride-1
/// convolution needs no patch matrix at all, and the weights are packed once for every
/// sample. Where `tessera_sgemm` does not run (no AVX2), and for float64, the batched GEMM
/// on OpenBLAS stays.
extension CPUBackend {
    /// Off sends float32 convolutions through the batched GEMM. Internal: the tests compare the
    /// two paths; task-local, like `tapConvolutionForced`.
    @TaskLocal static var perSampleConvolutionEnabled = true

    var perSampleConvolution: Bool { CPUBackend.ownGEMM && CPUBackend.perSampleConvolutionEnabled }

    /// Whether the patch matrix of a sample is its input itself (1×1, stride 1, no padding).
    private func patchesAreInput(_ s: Shape2D) -> Bool {
        s.kh == 1 && s.kw == 1 && s.g.stride == (1, 1) && s.g.padding == (0, 0)
    }

    /// `n` samples in contiguous chunks, one per thread at most, none empty.
    func chunking(_ n: Int) -> (chunks: Int, per: Int) {
        let per = Swift.max(1, (n + CPUThreads.count - 1) / CPUThreads.count)
        return (Swift.max(1, (n + per - 1) / per), per)
    }

    /// Runs `body(samples, chunk, scratch)` on every chunk of `chunking(n)` concurrently, each
    /// with its own `floats` of scratch.
    func sampleChunks(_ n: Int, scratch floats: Int, _ body: (Range<Int>, Int, UnsafeMutablePointer<Float>) -> Void) {
        let (chunks, per) = chunking(n)
        withScratch(chunks * floats, Float.self) { scratch in
            parallelTasks(count: chunks) { chunk in
                body(Swift.min(n, chunk * per)..<Swift.min(n, (chunk + 1) * per), chunk, scratch + chunk * floats)
            }
        }
    }

    /// Packs each group's `rows × depth` matrix (element strides `rs`, `cs` from the group's
    /// weights) for `tessera_sgemm_packed_a`; `body` gets the packed block of a group.
    private func withPackedWeights<R>(_ weight: UnsafePointer<Float>, groups: Int, groupStride: Int, rows: Int, depth: Int,
                                      rs: Int, cs: Int, _ body: ((Int) -> UnsafePointer<Float>) -> R) -> R {
        // Rounded to 16 floats so that every group's block starts 64-byte aligned.
        let size = (tessera_sgemm_packed_a_size(rows, depth) + 15) / 16 * 16
        return withScratch(size * groups, Float.self) { packed in
            for group in 0..<groups { tessera_sgemm_pack_a(rows, depth, weight + group * groupStride, rs, cs, packed + group * size) }
            return body { UnsafePointer(packed + $0 * size) }
        }
    }

    func conv2dPerSample(_ x: Operand, _ weight: Operand, _ g: ConvolutionGeometry, _ out: Operand) {
        let s = shape(x.shape, weight.shape, out.shape, g)
        let (xp, wp, op) = (x.elements(Float.self), weight.elements(Float.self), out.elements(Float.self))
        let direct = patchesAreInput(s)
        withPackedWeights(wp, groups: g.groups, groupStride: s.og * s.patch, rows: s.og, depth: s.patch, rs: s.patch, cs: 1) { packed in
            sampleChunks(s.n, scratch: direct ? 0 : s.patch * s.spatial) { samples, _, col in
                for n in samples {
                    for group in 0..<g.groups {
                        let input = xp + (n * s.c + group * s.cg) * s.h * s.w
                        if !direct { im2col(input, s, col, ld: s.spatial) }
                        // out[n][group's channels] [og, spatial] = W_g [og, patch] · col [patch, spatial]
                        tessera_sgemm_packed_a(s.og, s.spatial, s.patch, 1, packed(group), direct ? UnsafePointer(input) : UnsafePointer(col),
                                               s.spatial, 1, 0, op + (n * s.o + group * s.og) * s.spatial, s.spatial, 1, 1)
                    }
                }
            }
        }
    }

    func inputGradientPerSample(_ gradient: Operand, _ weight: Operand, _ g: ConvolutionGeometry, _ out: Operand) {
        let s = shape(out.shape, weight.shape, gradient.shape, g)
        let (gp, wp, op) = (gradient.elements(Float.self), weight.elements(Float.self), out.elements(Float.self))
        let direct = patchesAreInput(s)
        // A = W_gᵀ [patch, og]: element (p, o) of the group's [og, patch] weights.
        withPackedWeights(wp, groups: g.groups, groupStride: s.og * s.patch, rows: s.patch, depth: s.og, rs: 1, cs: s.patch) { packed in
            sampleChunks(s.n, scratch: direct ? 0 : s.patch * s.spatial) { samples, _, col in
                for n in samples {
                    let dx = op + n * s.c * s.h * s.w
                    if !direct { dx.update(repeating: 0, count: s.c * s.h * s.w) }
                    for group in 0..<g.groups {
                        let target = dx + group * s.cg * s.h * s.w
                        // col [patch, spatial] = W_gᵀ · g[n][group's channels] [og, spatial], then
                        // added back into the input's positions (straight into dx for 1×1).
                        tessera_sgemm_packed_a(s.patch, s.spatial, s.og, 1, packed(group), gp + (n * s.o + group * s.og) * s.spatial,
                                               s.spatial, 1, 0, direct ? target : col, s.spatial, 1, 1)
                        if !direct { col2im(col, s, target, ld: s.spatial) }
                    }
                }
            }
        }
    }

    func weightGradientPerSample(_ x: Operand, _ gradient: Operand, _ g: ConvolutionGeometry, _ out: Operand) {
        let s = shape(x.shape, out.shape, gradient.shape, g)
        let (xp, gp, op) = (x.elements(Float.self), gradient.elements(Float.self), out.elements(Float.self))
        let weights = s.o * s.patch
        if s.n == 0 { op.update(repeating: 0, count: weights); return }
        let direct = patchesAreInput(s)
        // Each chunk of samples sums its products into its own copy of dW (the first chunk's
        // is the output), added together at the end.
        let chunks = chunking(s.n).chunks
        withScratch((chunks - 1) * weights, Float.self) { partials in
            sampleChunks(s.n, scratch: direct ? 0 : s.patch * s.spatial) { samples, chunk, col in
                let dw = chunk == 0 ? op : partials + (chunk - 1) * weights
                for n in samples {
                    for group in 0..<g.groups {
                        let input = xp + (n * s.c + group * s.cg) * s.h * s.w
                        if !direct { im2col(input, s, col, ld: s.spatial) }
                        let patches = direct ? UnsafePointer(input) : UnsafePointer(col)
                        // dW_g [og, patch] (+)= g[n][group's channels] [og, spatial] · colᵀ [spatial, patch]
                        tessera_sgemm(s.og, s.patch, s.spatial, 1, gp + (n * s.o + group * s.og) * s.spatial, s.spatial, 1,
                                      patches, 1, s.spatial, n == samples.lowerBound ? 0 : 1, dw + group * s.og * s.patch,
                                      s.patch, 1, nil, 0, 1)
                    }
                }
            }
            for chunk in 1..<chunks { addRow(op, partials + (chunk - 1) * weights, weights) }
        }
    }
}
