import CTesseraKernels

/// Convolutions: float32 on the tap kernels (CPUBackend+TapConvolution) where they run, else
/// per-sample products on our GEMM (CPUBackend+SampleConvolution), else — float64, or a CPU
/// where OpenBLAS won the GEMM calibration — im2col + one OpenBLAS GEMM per group over the
/// batch: the column buffer holds `[C/g · kh · kw, N · Ho · Wo]` patches.
extension CPUBackend {
    struct Shape2D {
        let n, c, h, w, o, kh, kw, ho, wo: Int
        let g: ConvolutionGeometry
        var cg: Int { c / g.groups }
        var og: Int { o / g.groups }
        var patch: Int { cg * kh * kw }
        var spatial: Int { ho * wo }
    }

    /// Runs `body` with scratch memory from the caching allocator (these buffers are
    /// megabytes, and fresh mmaps would page-fault on every call); the block stays alive
    /// until `body` returns.
    func withScratch<T, R>(_ count: Int, _ t: T.Type, _ body: (UnsafeMutablePointer<T>) -> R) -> R {
        let storage = CPUAllocator.shared.allocate(byteCount: Swift.max(count, 1) * MemoryLayout<T>.stride, for: self)
        return withExtendedLifetime(storage) { body(storage.pointer.assumingMemoryBound(to: T.self)) }
    }

    /// Moves one group's channels between NCHW (`[n][group·per + k][spatial]`) and the
    /// batched layout `[k][n · spatial]` the GEMMs use, in either direction.
    private func regroup<T>(_ nchw: UnsafeMutablePointer<T>, _ batched: UnsafeMutablePointer<T>, s: Shape2D, group: Int,
                            perGroup: Int, channels: Int, toBatched: Bool) {
        let columns = s.n * s.spatial
        parallelChunks(count: s.n, cost: perGroup * s.spatial) { samples in
            for n in samples {
                for k in 0..<perGroup {
                    let a = nchw + (n * channels + group * perGroup + k) * s.spatial, b = batched + k * columns + n * s.spatial
                    if toBatched { b.update(from: a, count: s.spatial) } else { a.update(from: b, count: s.spatial) }
                }
            }
        }
    }

    func shape(_ x: [Int], _ weight: [Int], _ out: [Int], _ g: ConvolutionGeometry) -> Shape2D {
        Shape2D(n: x[0], c: x[1], h: x[2], w: x[3], o: weight[0], kh: weight[2], kw: weight[3], ho: out[2], wo: out[3], g: g)
    }

    private func floatType(_ op: StaticString, _ operands: Operand...) -> DType {
        for o in operands {
            tensorCheck(o.layout.isContiguous, "[\(op)] internal: operands must be contiguous")
            tensorCheck(o.dtype == .float32 || o.dtype == .float64, "[\(op)] supports float32 and float64, got \(o.dtype)")
        }
        return operands[0].dtype
    }

    /// `destination[i] += source[i]` eight lanes at a time (the compiler cannot vectorise the
    /// plain loop: it must assume the two rows overlap).
    @inline(__always)
    func addRow<T: BLASScalar>(_ destination: UnsafeMutablePointer<T>, _ source: UnsafePointer<T>, _ count: Int) {
        let d = UnsafeMutableRawPointer(destination), s = UnsafeRawPointer(source)
        let stride = MemoryLayout<T>.stride
        var i = 0
        while i + 8 <= count {
            let sum = d.loadUnaligned(fromByteOffset: i * stride, as: SIMD8<T>.self) + s.loadUnaligned(fromByteOffset: i * stride, as: SIMD8<T>.self)
            d.storeBytes(of: sum, toByteOffset: i * stride, as: SIMD8<T>.self)
            i += 8
        }
        while i < count { destination[i] += source[i]; i += 1 }
    }

    /// `destination[i] = source[i]` eight lanes at a time: the rows convolutions copy are often
    /// 8-32 floats, where a `memmove` call costs more than the copy.
    @inline(__always)
    static func copyRow<T: BLASScalar>(_ destination: UnsafeMutablePointer<T>, _ source: UnsafePointer<T>, _ count: Int) {
        let d = UnsafeMutableRawPointer(destination), s = UnsafeRawPointer(source)
        let stride = MemoryLayout<T>.stride
        var i = 0
        while i + 8 <= count {
            d.storeBytes(of: s.loadUnaligned(fromByteOffset: i * stride, as: SIMD8<T>.self), toByteOffset: i * stride, as: SIMD8<T>.self)
            i += 8
        }
        while i < count { destination[i] = source[i]; i += 1 }
    }

    /// The output columns `ox` whose input column `ox · stride - pad + offset` lies in `0..<width`.
    @inline(__always)
    private func validRange(_ outSize: Int, _ stride: Int, _ pad: Int, _ offset: Int, _ width: Int) -> Range<Int> {
        // ox · stride ≥ pad - offset  and  ox · stride ≤ width - 1 + pad - offset
        let low = pad - offset, high = width - 1 + pad - offset
        let start = low <= 0 ? 0 : (low + stride - 1) / stride
        let end = high < 0 ? 0 : Swift.min(outSize, high / stride + 1)
        return start < end ? start..<end : 0..<0
    }

    /// Copies the patches of one sample's channel group into `col`, whose rows are `ld`
    /// apart (zeros where padded). Bounds are worked out per row, so the inner loop is a
    /// plain (often contiguous) copy.
    func im2col<T: BLASScalar>(_ x: UnsafePointer<T>, _ s: Shape2D, _ col: UnsafeMutablePointer<T>, ld: Int) {
        let (sh, sw) = s.g.stride, (ph, pw) = s.g.padding, (dh, dw) = s.g.dilation
        var row = 0
        for c in 0..<s.cg {
            let plane = x + c * s.h * s.w
            for i in 0..<s.kh {
                for j in 0..<s.kw {
                    let out = col + row * ld
                    let columns = validRange(s.wo, sw, pw, j * dw, s.w)
                    for oy in 0..<s.ho {
                        let y = oy * sh - ph + i * dh
                        let line = out + oy * s.wo
                        if y < 0 || y >= s.h || columns.isEmpty {
                            line.update(repeating: 0, count: s.wo)
                            continue
                        }
                        line.update(repeating: 0, count: columns.lowerBound)
                        let source = plane + y * s.w - pw + j * dw
                        if sw == 1 {
                            (line + columns.lowerBound).update(from: source + columns.lowerBound, count: columns.count)
                        } else {
                            for ox in columns { line[ox] = source[ox * sw] }
                        }
                        (line + columns.upperBound).update(repeating: 0, count: s.wo - columns.upperBound)
                    }
                    row += 1
                }
            }
        }
    }

    /// Adds the patches in `col` (rows `ld` apart) back into one sample's channel group (the
    /// adjoint of im2col).
    func col2im<T: BLASScalar>(_ col: UnsafePointer<T>, _ s: Shape2D, _ x: UnsafeMutablePointer<T>, ld: Int) {
        let (sh, sw) = s.g.stride, (ph, pw) = s.g.padding, (dh, dw) = s.g.dilation
        var row = 0
        for c in 0..<s.cg {
            let plane = x + c * s.h * s.w
            for i in 0..<s.kh {
                for j in 0..<s.kw {
                    let source = col + row * ld
                    let columns = validRange(s.wo, sw, pw, j * dw, s.w)
                    for oy in 0..<s.ho where !columns.isEmpty {
                        let y = oy * sh - ph + i * dh
                        guard y >= 0 && y < s.h else { continue }
                        let line = plane + y * s.w - pw + j * dw, values = source + oy * s.wo
                        if sw == 1 {
                            addRow(line + columns.lowerBound, values + columns.lowerBound, columns.count)
                        } else {
                            for ox in columns { line[ox * sw] += values[ox] }
                        }
                    }
                    row += 1
                }
            }
        }
    }

    public func conv2d(_ x: Operand, weight: Operand, geometry: ConvolutionGeometry, into out: Operand) {
        let dtype = floatType("conv2d", x, weight, out)
        if dtype == .float32 && tapConvolution { return conv2dTaps(x, weight, geometry, out) }
        if dtype == .float32 && perSampleConvolution { return conv2dPerSample(x, weight, geometry, out) }
        if dtype == .float32 { conv2dTyped(x, weight, geometry, out, Float.self) }
        else { conv2dTyped(x, weight, geometry, out, Double.self) }
    }

    private func conv2dTyped<T: BLASScalar>(_ x: Operand, _ weight: Operand, _ g: ConvolutionGeometry, _ out: Operand, _ t: T.Type) {
        let s = shape(x.shape, weight.shape, out.shape, g)
        let (xp, wp, op) = (x.elements(T.self), weight.elements(T.self), out.elements(T.self))
        // One GEMM per group over the whole batch: col [patch, N · spatial] (samples side by
        // side), result [og, N · spatial], then scattered into NCHW. Thousands of tiny
        // per-sample GEMMs cost more in call overhead than in arithmetic.
        let columns = s.n * s.spatial
        withScratch(s.patch * columns, T.self) { col in
            withScratch(s.og * columns, T.self) { result in
                for group in 0..<g.groups {
                    batchedIm2col(xp, s, group, col)
                    T.gemm(false, false, s.og, columns, s.patch, wp + group * s.og * s.patch, s.patch, col, columns, result, columns, beta: 0)
                    regroup(op, result, s: s, group: group, perGroup: s.og, channels: s.o, toBatched: false)
                }
            }
        }
    }

    /// im2col of every sample of one group into `col [patch, N · spatial]`.
    private func batchedIm2col<T: BLASScalar>(_ xp: UnsafePointer<T>, _ s: Shape2D, _ group: Int, _ col: UnsafeMutablePointer<T>) {
        let columns = s.n * s.spatial
        // Samples fill disjoint column ranges, so they are gathered in parallel, each straight
        // into its columns (rows `columns` apart).
        parallelChunks(count: s.n, cost: s.patch * s.spatial) { samples in
            for n in samples { self.im2col(xp + (n * s.c + group * s.cg) * s.h * s.w, s, col + n * s.spatial, ld: columns) }
        }
    }

    public func conv2dInputGradient(_ gradient: Operand, weight: Operand, geometry: ConvolutionGeometry, into out: Operand) {
        let dtype = floatType("conv2dInputGradient", gradient, weight, out)
        if dtype == .float32 && tapConvolution { return conv2dInputGradientTaps(gradient, weight, geometry, out) }
        if dtype == .float32 && perSampleConvolution { return inputGradientPerSample(gradient, weight, geometry, out) }
        if dtype == .float32 { inputGradient(gradient, weight, geometry, out, Float.self) }
        else { inputGradient(gradient, weight, geometry, out, Double.self) }
    }

    private func inputGradient<T: BLASScalar>(_ gradient: Operand, _ weight: Operand, _ g: ConvolutionGeometry, _ out: Operand, _ t: T.Type) {
        let s = shape(out.shape, weight.shape, gradient.shape, g)
        let (gp, wp, op) = (gradient.elements(T.self), weight.elements(T.self), out.elements(T.self))
        op.update(repeating: 0, count: out.elementCount)
        let columns = s.n * s.spatial
        withScratch(s.og * columns, T.self) { gathered in
            withScratch(s.patch * columns, T.self) { col in
                for group in 0..<g.groups {
                    regroup(gp, gathered, s: s, group: group, perGroup: s.og, channels: s.o, toBatched: true)
                    // col [patch, N · spatial] = W_gᵀ [patch, og] · g [og, N · spatial]
                    T.gemm(true, false, s.patch, columns, s.og, wp + group * s.og * s.patch, s.patch, gathered, columns, col, columns, beta: 0)
                    parallelChunks(count: s.n, cost: s.patch * s.spatial) { samples in
                        for n in samples { self.col2im(col + n * s.spatial, s, op + (n * s.c + group * s.cg) * s.h * s.w, ld: columns) }
                    }
                }
            }
        }
    }

    public func conv2dWeightGradient(_ x: Operand, gradient: Operand, geometry: ConvolutionGeometry, into out: Operand) {
        let dtype = floatType("conv2dWeightGradient", x, gradient, out)
        if dtype == .float32 && tapConvolution { return conv2dWeightGradientTaps(x, gradient, geometry, out) }
        if dtype == .float32 && perSampleConvolution { return weightGradientPerSample(x, gradient, geometry, out) }
        if dtype == .float32 { weightGradient(x, gradient, geometry, out, Float.self) }
        else { weightGradient(x, gradient, geometry, out, Double.self) }
    }

    private func weightGradient<T: BLASScalar>(_ x: Operand, _ gradient: Operand, _ g: ConvolutionGeometry, _ out: Operand, _ t: T.Type) {
        let s = shape(x.shape, out.shape, gradient.shape, g)
        let (xp, gp, op) = (x.elements(T.self), gradient.elements(T.self), out.elements(T.self))
        if s.n == 0 { op.update(repeating: 0, count: out.elementCount); return }
        let columns = s.n * s.spatial
        withScratch(s.patch * columns, T.self) { col in
            withScratch(s.og * columns, T.self) { gathered in
                for group in 0..<g.groups {
                    batchedIm2col(xp, s, group, col)
                    regroup(gp, gathered, s: s, group: group, perGroup: s.og, channels: s.o, toBatched: true)
                    // dW_g [og, patch] = g [og, N · spatial] · colᵀ [N · spatial, patch]
                    T.gemm(false, true, s.og, s.patch, columns, gathered, columns, col, columns, op + group * s.og * s.patch, s.patch, beta: 0)
                }
            }
        }
    }

    public func maxPool2d(_ x: Operand, kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int),
                          into out: Operand, indices: Operand) {
        if floatType("maxPool2d", x, out) == .float32 { maxPoolTyped(x, kernel, stride, padding, out, indices, Float.self) }
        else { maxPoolTyped(x, kernel, stride, padding, out, indices, Double.self) }
    }

    /// Window bounds are clipped once per output (no per-element checks), and the 2×2
    /// stride-2 window without padding — most CNNs' pooling — has its own unrolled loop.
    /// Semantics as PyTorch: the first maximum wins, NaN wins over any number.
    private func maxPoolTyped<T: BLASScalar>(_ x: Operand, _ k: (Int, Int), _ st: (Int, Int), _ pad: (Int, Int),
                                             _ out: Operand, _ indices: Operand, _ t: T.Type) {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (ho, wo) = (out.shape[2], out.shape[3])
        let (kh, kw, sh, sw, ph, pw) = (k.0, k.1, st.0, st.1, pad.0, pad.1)
        let (xp, op, ip) = (x.elements(T.self), out.elements(T.self), indices.elements(Int64.self))
        // Branch-free `better`: `!(v <= best)` holds for v > best and for a NaN v; a NaN best stays.
        @inline(__always) func take(_ source: UnsafeMutablePointer<T>, _ i: Int, _ best: inout T, _ index: inout Int) {
            let v = source[i]
            let replace = !(v <= best) && best == best
            best = replace ? v : best
            index = replace ? i : index
        }
        let pairs = kh == 2 && kw == 2 && sh == 2 && sw == 2 && ph == 0 && pw == 0 && 2 * ho <= h && 2 * wo <= w
        if pairs && T.self == Float.self && tessera_kernels_have_avx2() != 0 {
            // Eight windows per step with vector blends (CTesseraKernels/pooling.c).
            let source = UnsafeRawPointer(xp).assumingMemoryBound(to: Float.self)
            let values = UnsafeMutableRawPointer(op).assumingMemoryBound(to: Float.self)
            return parallelChunks(count: n * c, cost: ho * wo * 4) { planes in
                tessera_max_pool_2x2_f32(source + planes.lowerBound * h * w, values + planes.lowerBound * ho * wo,
                                         ip + planes.lowerBound * ho * wo, planes.count, Int32(h), Int32(w), Int32(ho), Int32(wo))
            }
        }
        parallelChunks(count: n * c, cost: ho * wo * kh * kw) { planes in
            for plane in planes {
                let source = xp + plane * h * w
                let values = op + plane * ho * wo, where_ = ip + plane * ho * wo
                if pairs {
                    for oy in 0..<ho {
                        let top = 2 * oy * w, bottom = top + w
                        for ox in 0..<wo {
                            // Selects, not branches: which of four random values wins is
                            // unpredictable, and mispredictions cost more than the loads.
                            let a = top + 2 * ox, b = bottom + 2 * ox
                            var index = a, best = source[a]
                            take(source, a + 1, &best, &index)
                            take(source, b, &best, &index)
                            take(source, b + 1, &best, &index)
                            values[oy * wo + ox] = best
                            where_[oy * wo + ox] = Int64(index)
                        }
                    }
                    continue
                }
                for oy in 0..<ho {
                    let y0 = oy * sh - ph
                    let iLo = Swift.max(0, -y0), iHi = Swift.min(kh, h - y0)
                    for ox in 0..<wo {
                        let x0 = ox * sw - pw
                        let jLo = Swift.max(0, -x0), jHi = Swift.min(kw, w - x0)
                        var best = -T.infinity, bestIndex = -1
                        if iLo < iHi && jLo < jHi {
                            bestIndex = (y0 + iLo) * w + x0 + jLo
                            best = source[bestIndex]
                            for i in iLo..<iHi {
                                let row = (y0 + i) * w + x0
                                for j in jLo..<jHi { take(source, row + j, &best, &bestIndex) }
                            }
                        }
                        values[oy * wo + ox] = best
                        where_[oy * wo + ox] = Int64(bestIndex)
                    }
                }
            }
        }
    }
}
