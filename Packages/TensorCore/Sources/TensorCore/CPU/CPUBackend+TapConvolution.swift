import CTesseraKernels
#if canImport(Glibc)
import Glibc
#endif

/// float32 convolutions on the tap kernels (CTesseraKernels/tap_convolution.c): no patch
/// matrix. Each image's input is copied once into a padded, stride-phase-split layout in which
/// output position `q = oy · wq + ox` of a padded output grid reads tap `(c, i, j)` at
/// `x[q + offset]`; the kernels then run GEMM-like tiles straight over the input.
///
/// - forward: tiles of 8 output channels (or one channel for depthwise groups) over the grid,
///   then the valid `ox < wo` columns are copied out;
/// - input gradient: for each stride phase `(ry, rx)` of the input, a stride-1 correlation of
///   the output gradient with the taps whose offsets land on that phase (no zero-stuffing: a
///   stride-2 layer does a quarter of the taps per phase);
/// - weight gradient: dot products over positions of the gradient grid with the shifted inputs,
///   summed over a chunk of images before one reduction per weight.
///
/// Any stride, padding, dilation and groups; the vector width follows the GEMM's choice on the
/// calling thread (`tessera_sgemm_kernel`), passed down so pool threads agree with it.
extension CPUBackend {
    /// true or false forces the tap kernels on or off for float32 convolutions (nil: chosen as
    /// below; off: the per-sample or batched GEMM paths). Internal: the tests compare the paths, and force them on because a debug build's
    /// unoptimised kernels lose the GEMM calibration; task-local, so that a test switching it
    /// changes no test running beside it.
    @TaskLocal static var tapConvolutionForced: Bool? = nil

    /// The tap kernels run where our GEMM kernels won the calibration against OpenBLAS on this
    /// CPU (`GEMMChoice`: they stand or fall on the same FMA throughput, and where OpenBLAS is
    /// faster im2col + OpenBLAS stays), unless `TESSERA_CONV=taps` or `=gemm` decides.
    var tapConvolution: Bool {
        guard tessera_kernels_have_avx2() != 0 else { return false }
        if let forced = CPUBackend.tapConvolutionForced { return forced }
        switch CPUBackend.convolutionSetting {
        case "taps": return true
        case "gemm": return false
        default: return CPUBackend.ownGEMM
        }
    }

    static let convolutionSetting = getenv("TESSERA_CONV").map { String(cString: $0) }

    /// An image's channels padded and split into stride phases: padded pixel `(Y, X)` (source
    /// pixel `(Y - top, X - left)`, zero outside the source) of channel `c` sits at
    /// `lead + c · channelStride + ((Y % sh) · sw + X % sw) · plane + (Y / sh) · wq + X / sw - shift`.
    ///
    /// With `shared` (stride 1 in the columns) rows are `wq` apart and hold the source row then
    /// zeros: a row's left padding is the previous row's right padding (`shift = left`, and
    /// `lead = left` zeros before the first channel stand in for the first row's). A 3×3
    /// convolution over 8×8 images then computes 9 grid columns per row instead of 10.
    struct TapLayout {
        let channels, h, w, top, left, sh, sw, hq, wq: Int
        let shared: Bool
        /// Grid positions the kernels compute, rounded up to the tile.
        let positions: Int
        /// Where source row `y` starts in a channel (nil: cropped), and where source column `x`
        /// sits from there: worked out once, so that `fill` divides by no stride.
        let rowStart: [Int?], columnOffset: [Int?]

        init(channels: Int, h: Int, w: Int, top: Int, left: Int, sh: Int, sw: Int, hq: Int, wq: Int, shared: Bool = false,
             positions: Int) {
            (self.channels, self.h, self.w, self.top, self.left, self.sh, self.sw, self.hq, self.wq, self.shared, self.positions) =
                (channels, h, w, top, left, sh, sw, hq, wq, shared, positions)
            let plane = hq * wq, lead = shared ? left : 0
            rowStart = (0..<h).map { y in
                let row = y + top
                return row >= 0 && row < sh * hq ? lead + (row % sh) * sw * plane + (row / sh) * wq : nil
            }
            columnOffset = (0..<w).map { x in
                if shared { return x < wq ? x : nil }
                let column = x + left
                return column >= 0 && column < sw * wq ? (column % sw) * plane + column / sw : nil
            }
        }

        var plane: Int { hq * wq }
        var channelStride: Int { sh * sw * plane }
        var lead: Int { shared ? left : 0 }
        /// Floats per image: the lead, every channel, then room for the reads of the last tile past it.
        var imageStride: Int { lead + channels * channelStride + positions + 64 }

        func offset(channel: Int, row: Int, column: Int) -> Int {
            lead + channel * channelStride + ((row % sh) * sw + column % sw) * plane + (row / sh) * wq + column / sw - (shared ? left : 0)
        }

        /// Writes one image (`[channels][h][w]`) into `destination` (`imageStride` floats).
        func fill(_ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float>) {
            if sh == 1 && sw == 1 && top >= 0 && left >= 0 && top + h <= hq && (shared ? 0 : left) + w <= wq {
                return fillPadded(source, into: destination)
            }
            destination.update(repeating: 0, count: imageStride)
            // Stride 1 in the columns: one run per row from the first kept column.
            let kept = columnOffset.indices.filter { columnOffset[$0] != nil }
            guard let first = kept.first, let last = kept.last else { return }
            columnOffset.withUnsafeBufferPointer { columns in
                for c in 0..<channels {
                    for y in 0..<h {
                        guard let start = rowStart[y] else { continue }
                        let from = source + (c * h + y) * w, to = destination + c * channelStride + start
                        if sw == 1 {
                            CPUBackend.copyRow(to + columns[first]!, from + first, last - first + 1)
                        } else {
                            for x in first...last { to[columns[x]!] = from[x] }
                        }
                    }
                }
            }
        }

        /// `fill` without strides or cropping: zeros written only around the copied rows (the
        /// buffer is written once, not zeroed and then copied over).
        private func fillPadded(_ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float>) {
            let before = shared ? 0 : left, after = wq - before - w
            destination.update(repeating: 0, count: lead)
            for c in 0..<channels {
                let plane = destination + lead + c * channelStride
                plane.update(repeating: 0, count: top * wq)
                for y in 0..<h {
                    let row = plane + (top + y) * wq
                    row.update(repeating: 0, count: before)
                    CPUBackend.copyRow(row + before, source + (c * h + y) * w, w)
                    (row + before + w).update(repeating: 0, count: after)
                }
                (plane + (top + h) * wq).update(repeating: 0, count: (hq - top - h) * wq)
            }
            let end = lead + channels * channelStride
            (destination + end).update(repeating: 0, count: imageStride - end)
        }
    }

    /// The kernels for one convolution: the vector width the GEMM uses on this thread, and the
    /// forward tiling: wide tiles (8 rows × 2 vectors), or the narrow tiling (4 rows × 4
    /// vectors, then vectors, then a half vector) where whole wide tiles would compute more
    /// than 4 % past the grid (ResNet's 8×8 stage: 72 positions, 96 in wide tiles).
    struct TapTiling {
        let bits: Int32
        let narrow: Bool
        var tile: Int { tessera_conv_taps_tile(bits, narrow ? 1 : 0) }

        init(gridLength: Int) {
            bits = Int32(tessera_sgemm_kernel())
            let (wide, half) = (tessera_conv_taps_tile(bits, 0), tessera_conv_taps_tile(bits, 1) / 2)
            narrow = Double(roundUp(gridLength, wide)) > 1.04 * Double(roundUp(gridLength, half))
        }

        /// Grid rows' length in the buffers: whole tiles.
        func positions(_ gridLength: Int) -> Int { roundUp(gridLength, tile) }

        /// Positions the 8-row kernel computes: the narrow one stops at a half vector.
        func computed(_ gridLength: Int) -> Int { roundUp(gridLength, narrow ? tile / 2 : tile) }
    }

    /// The forward layout of `x [n, c, h, w]` for output `[ho, wo]`.
    private func forwardLayout(_ s: Shape2D) -> (TapLayout, TapTiling) {
        let (sh, sw) = s.g.stride, (ph, pw) = s.g.padding
        // Shared padding columns need stride 1 across and a padding within the kernel's span
        // (then every read of a valid output lands on its row or the zeros after a row).
        let shared = sw == 1 && pw <= (s.kw - 1) * s.g.dilation.1
        let hq = (s.h + 2 * ph + sh - 1) / sh, wq = shared ? s.w + pw : (s.w + 2 * pw + sw - 1) / sw
        let tiling = TapTiling(gridLength: s.ho * wq)
        return (TapLayout(channels: s.c, h: s.h, w: s.w, top: ph, left: pw, sh: sh, sw: sw, hq: hq, wq: wq, shared: shared,
                          positions: tiling.positions(s.ho * wq)), tiling)
    }

    /// Offsets of one group's taps `(c, i, j)` in weight order, relative to the group's first channel.
    private func forwardOffsets(_ s: Shape2D, _ layout: TapLayout) -> [Int] {
        let (dh, dw) = s.g.dilation
        var offsets = [Int]()
        offsets.reserveCapacity(s.patch)
        for c in 0..<s.cg { for i in 0..<s.kh { for j in 0..<s.kw { offsets.append(layout.offset(channel: c, row: i * dh, column: j * dw)) } } }
        return offsets
    }

    /// Groups whose output rows run one at a time on the row kernel (depthwise: a block of
    /// eight rows would be seven-eighths zeros).
    private func rowKernel(_ rows: Int) -> Bool { rows <= 2 }

    /// Packs rows `[rows][taps]` (element `weight(row, tap)`) into blocks `[ceil(rows/8)][taps][8]`.
    private func packTapBlocks(rows: Int, taps: Int, into packed: UnsafeMutablePointer<Float>, _ weight: (Int, Int) -> Float) {
        let blocks = (rows + 7) / 8
        packed.update(repeating: 0, count: blocks * taps * 8)
        for r in 0..<rows { for t in 0..<taps { packed[((r / 8) * taps + t) * 8 + r % 8] = weight(r, t) } }
    }

    /// Runs `rows` output rows of taps `offsets` over `input`: `block(b)` gives the packed block
    /// of rows `8b..<8b+8` (8-row kernel), `row(r)` row `r`'s `[taps]` weights (row kernel);
    /// results land in `grid` rows `positions` apart.
    private func runTaps(_ tiling: TapTiling, input: UnsafePointer<Float>, offsets: UnsafePointer<Int>, taps: Int, rows: Int,
                         positions: Int, gridLength: Int, grid: UnsafeMutablePointer<Float>, block: (Int) -> UnsafePointer<Float>,
                         row: (Int) -> UnsafePointer<Float>) {
        if rowKernel(rows) {
            for r in 0..<rows { tessera_conv_taps_row_f32(tiling.bits, input, offsets, taps, row(r), grid + r * positions, positions) }
        } else {
            for b in 0..<(rows + 7) / 8 {
                tessera_conv_taps_f32(tiling.bits, tiling.narrow ? 1 : 0, input, offsets, taps, block(b), grid + b * 8 * positions, positions,
                                      tiling.computed(gridLength))
            }
        }
    }

    func conv2dTaps(_ x: Operand, _ weight: Operand, _ g: ConvolutionGeometry, _ out: Operand) {
        let s = shape(x.shape, weight.shape, out.shape, g)
        let (layout, tiling) = forwardLayout(s)
        let offsets = forwardOffsets(s, layout)
        let (xp, wp, op) = (x.elements(Float.self), weight.elements(Float.self), out.elements(Float.self))
        let groupRows = roundUp(s.og, 8), blockSize = s.patch * 8
        let packedPerGroup = (groupRows / 8) * blockSize
        withScratch(rowKernel(s.og) ? 1 : g.groups * packedPerGroup, Float.self) { packed in
            if !rowKernel(s.og) {
                for group in 0..<g.groups {
                    let w0 = wp + group * s.og * s.patch
                    packTapBlocks(rows: s.og, taps: s.patch, into: packed + group * packedPerGroup) { w0[$0 * s.patch + $1] }
                }
            }
            let gridSize = g.groups * groupRows * layout.positions
            offsets.withUnsafeBufferPointer { offsets in
                sampleChunks(s.n, scratch: layout.imageStride + gridSize) { samples, _, scratch in
                    let input = scratch, grid = scratch + layout.imageStride
                    for n in samples {
                        layout.fill(xp + n * s.c * s.h * s.w, into: input)
                        for group in 0..<g.groups {
                            let w0 = wp + group * s.og * s.patch, p0 = packed + group * packedPerGroup
                            runTaps(tiling, input: input + group * s.cg * layout.channelStride, offsets: offsets.baseAddress!,
                                    taps: s.patch, rows: s.og, positions: layout.positions, gridLength: s.ho * layout.wq,
                                    grid: grid + group * groupRows * layout.positions,
                                    block: { UnsafePointer(p0 + $0 * blockSize) }, row: { UnsafePointer(w0 + $0 * s.patch) })
                        }
                        // The valid columns of each grid row, into NCHW.
                        let target = op + n * s.o * s.spatial
                        for o in 0..<s.o {
                            let source = grid + ((o / s.og) * groupRows + o % s.og) * layout.positions
                            for oy in 0..<s.ho {
                                CPUBackend.copyRow(target + (o * s.ho + oy) * s.wo, source + oy * layout.wq, s.wo)
                            }
                        }
                    }
                }
            }
        }
    }

    /// One stride phase `(ry, rx)` of the input gradient: the taps `(o, i, j)` whose input
    /// position `oy · s - p + i · d` has that phase, as offsets into the padded gradient.
    private struct GradientPhase {
        let ry, rx, hs, ws: Int
        var taps: [(o: Int, i: Int, j: Int)] = []
        var offsets: [Int] = []
    }

    func conv2dInputGradientTaps(_ gradient: Operand, _ weight: Operand, _ g: ConvolutionGeometry, _ out: Operand) {
        let s = shape(out.shape, weight.shape, gradient.shape, g)
        let (sh, sw) = g.stride, (ph, pw) = g.padding, (dh, dw) = g.dilation
        // dx[c][sh·y + ry] gathers g[o][y + e] · W[o][c][i] for the taps i with
        // ry + ph - dh·i ≡ 0 (mod sh), e = (ry + ph - dh·i) / sh.
        func shifts(_ r: Int, _ stride: Int, _ pad: Int, _ dilation: Int, _ k: Int) -> [(index: Int, e: Int)] {
            (0..<k).compactMap { i in
                let numerator = r + pad - dilation * i
                return ((numerator % stride) + stride) % stride == 0 ? (i, numerator >= 0 ? numerator / stride : -((-numerator) / stride)) : nil
            }
        }
        let rowShifts = (0..<sh).map { shifts($0, sh, ph, dh, s.kh) }, columnShifts = (0..<sw).map { shifts($0, sw, pw, dw, s.kw) }
        let allRows = rowShifts.flatMap { $0.map(\.e) }, allColumns = columnShifts.flatMap { $0.map(\.e) }
        let top = Swift.max(0, -(allRows.min() ?? 0)), left = Swift.max(0, -(allColumns.min() ?? 0))
        let hsMax = (s.h + sh - 1) / sh, wsMax = (s.w + sw - 1) / sw
        // Shared padding columns: reads left of a row land in the previous row's zeros.
        let wq = Swift.max(s.wo + left, wsMax + (allColumns.max() ?? 0))
        let hq = top + Swift.max(s.ho, hsMax + (allRows.max() ?? 0)) + 1
        let tiling = TapTiling(gridLength: hsMax * wq), positions = tiling.positions(hsMax * wq)
        let layout = TapLayout(channels: s.o, h: s.ho, w: s.wo, top: top, left: left, sh: 1, sw: 1, hq: hq, wq: wq, shared: true,
                               positions: positions)
        var phases = [GradientPhase]()
        for ry in 0..<sh {
            for rx in 0..<sw {
                var phase = GradientPhase(ry: ry, rx: rx, hs: (s.h - ry + sh - 1) / sh, ws: (s.w - rx + sw - 1) / sw)
                for o in 0..<s.og {
                    for (i, ei) in rowShifts[ry] {
                        for (j, ej) in columnShifts[rx] {
                            phase.taps.append((o, i, j))
                            phase.offsets.append(layout.offset(channel: o, row: ei + top, column: ej + left))
                        }
                    }
                }
                phases.append(phase)
            }
        }
        let (gp, wp, op) = (gradient.elements(Float.self), weight.elements(Float.self), out.elements(Float.self))
        let groupRows = roundUp(s.cg, 8), maxTaps = phases.map(\.taps.count).max() ?? 0
        // Per phase and group: the 8-row blocks, or plain rows `[taps]` for the row kernel.
        let perGroup = rowKernel(s.cg) ? s.cg * maxTaps : groupRows * maxTaps
        withScratch(Swift.max(1, phases.count * g.groups * perGroup), Float.self) { packed in
            for (index, phase) in phases.enumerated() {
                for group in 0..<g.groups {
                    let w0 = wp + group * s.og * s.patch, target = packed + (index * g.groups + group) * perGroup
                    let value: (Int, Int) -> Float = { c, t in
                        let tap = phase.taps[t]
                        return w0[((tap.o * s.cg + c) * s.kh + tap.i) * s.kw + tap.j]
                    }
                    if rowKernel(s.cg) {
                        for c in 0..<s.cg { for t in 0..<phase.taps.count { target[c * phase.taps.count + t] = value(c, t) } }
                    } else {
                        packTapBlocks(rows: s.cg, taps: phase.taps.count, into: target, value)
                    }
                }
            }
            let gridSize = g.groups * groupRows * positions
            sampleChunks(s.n, scratch: layout.imageStride + gridSize) { samples, _, scratch in
                let input = scratch, grid = scratch + layout.imageStride
                for n in samples {
                    layout.fill(gp + n * s.o * s.spatial, into: input)
                    let dx = op + n * s.c * s.h * s.w
                    for (index, phase) in phases.enumerated() {
                        let taps = phase.taps.count
                        if taps == 0 {
                            for c in 0..<s.c { for y in 0..<phase.hs { for x in 0..<phase.ws { dx[(c * s.h + y * sh + phase.ry) * s.w + x * sw + phase.rx] = 0 } } }
                            continue
                        }
                        phase.offsets.withUnsafeBufferPointer { offsets in
                            for group in 0..<g.groups {
                                let p0 = packed + (index * g.groups + group) * perGroup
                                runTaps(tiling, input: input + group * s.og * layout.channelStride, offsets: offsets.baseAddress!,
                                        taps: taps, rows: s.cg, positions: positions, gridLength: phase.hs * wq,
                                        grid: grid + group * groupRows * positions,
                                        block: { UnsafePointer(p0 + $0 * 8 * taps) }, row: { UnsafePointer(p0 + $0 * taps) })
                            }
                        }
                        for c in 0..<s.c {
                            let source = grid + ((c / s.cg) * groupRows + c % s.cg) * positions
                            for y in 0..<phase.hs {
                                let line = dx + (c * s.h + y * sh + phase.ry) * s.w + phase.rx, values = source + y * wq
                                if sw == 1 { CPUBackend.copyRow(line, values, phase.ws) } else { for x in 0..<phase.ws { line[x * sw] = values[x] } }
                            }
                        }
                    }
                }
            }
        }
    }

    func conv2dWeightGradientTaps(_ x: Operand, _ gradient: Operand, _ g: ConvolutionGeometry, _ out: Operand) {
        let s = shape(x.shape, out.shape, gradient.shape, g)
        let (layout, tiling) = forwardLayout(s)
        let bits = tiling.bits
        let row = rowKernel(s.og)
        // Rows and taps rounded to the kernels' tiles; the extra taps read offset 0 and the
        // extra rows are zero gradients, and both are dropped.
        let groupRows = row ? s.og : roundUp(s.og, 4), taps = roundUp(s.patch, row ? 3 : 6)
        var offsets = forwardOffsets(s, layout)
        offsets += Array(repeating: 0, count: taps - s.patch)
        let (xp, gp, op) = (x.elements(Float.self), gradient.elements(Float.self), out.elements(Float.self))
        let gridImage = g.groups * groupRows * layout.positions, partial = g.groups * groupRows * taps
        let (chunks, per) = chunking(s.n)
        withScratch(chunks * partial, Float.self) { partials in
            partials.update(repeating: 0, count: chunks * partial)
            offsets.withUnsafeBufferPointer { offsets in
                // Every image of a chunk at once: the kernel sums over them before reducing.
                sampleChunks(s.n, scratch: per * (layout.imageStride + gridImage)) { samples, chunk, inputs in
                    let grids = inputs + per * layout.imageStride
                    for (k, n) in samples.enumerated() {
                        layout.fill(xp + n * s.c * s.h * s.w, into: inputs + k * layout.imageStride)
                        let grid = grids + k * gridImage
                        grid.update(repeating: 0, count: gridImage)
                        for o in 0..<s.o {
                            let line = grid + ((o / s.og) * groupRows + o % s.og) * layout.positions
                            for oy in 0..<s.ho {
                                CPUBackend.copyRow(line + oy * layout.wq, gp + ((n * s.o + o) * s.ho + oy) * s.wo, s.wo)
                            }
                        }
                    }
                    let dw = partials + chunk * partial
                    for group in 0..<g.groups {
                        let input = inputs + group * s.cg * layout.channelStride
                        let grid = grids + group * groupRows * layout.positions, target = dw + group * groupRows * taps
                        if row {
                            for r in 0..<s.og {
                                tessera_conv_taps_gradient_row_f32(bits, input, layout.imageStride, grid + r * layout.positions, gridImage,
                                                                   samples.count, offsets.baseAddress!, taps, layout.positions, target + r * taps)
                            }
                        } else {
                            tessera_conv_taps_gradient_f32(bits, input, layout.imageStride, grid, layout.positions, gridImage,
                                                           samples.count, offsets.baseAddress!, taps, groupRows, layout.positions, target, taps)
                        }
                    }
                }
            }
            for chunk in 1..<Swift.max(1, chunks) { addRow(partials, partials + chunk * partial, partial) }
            for o in 0..<s.o {
                let source = partials + ((o / s.og) * groupRows + o % s.og) * taps
                (op + o * s.patch).update(from: source, count: s.patch)
            }
        }
    }
}

/// `n` rounded up to a multiple of `unit`.
private func roundUp(_ n: Int, _ unit: Int) -> Int { (n + unit - 1) / unit * unit }
