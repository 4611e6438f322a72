import CTesseraKernels

/// Direct float32 convolution (C kernels vectorised over output channels) for the layers where
/// im2col + GEMM is slowest: few channels, no groups, no dilation, an AVX2/FMA CPU.
/// The input gradient is the same kernel run on the zero-stuffed, padded output gradient with
/// flipped, transposed weights; the weight gradient reads a channels-last copy of it.
///
/// Measured here (LeNet's two convolutions, a ResNet-20 16-channel layer): the forward is
/// 1.3-2x faster than im2col + GEMM, the input gradient up to 1.5x when there are at least 4
/// input channels (its eight lanes run over input channels), the weight gradient faster only
/// for single-channel inputs — elsewhere it stays on GEMM unless asked for
/// (`directWeightGradient`).
extension CPUBackend {
    /// Off sends every convolution through im2col + GEMM. Internal: the tests compare the two
    /// paths (`@testable`); a user cannot turn a kernel choice off by accident. Task-local, so a
    /// test that switches it changes no test running beside it (a global was a data race under
    /// ThreadSanitizer).
    @TaskLocal static var directConvolutionEnabled = true

    /// Output channels up to which the direct kernels win over im2col + GEMM on this machine
    /// (LeNet's 6 and 16, ResNet-20's first stage's 16: the GEMMs there have 6-16 rows).
    static let directConvolutionMaxChannels = 16

    /// The weight gradient through the direct kernel (internal: tests turn it on to check it).
    @TaskLocal static var directWeightGradient = false

    enum ConvolutionPass { case forward, inputGradient, weightGradient }

    func directConvolutionApplies(_ pass: ConvolutionPass, _ dtype: DType, _ g: ConvolutionGeometry,
                                  outputChannels: Int, inputChannels: Int) -> Bool {
        guard CPUBackend.directConvolutionEnabled, dtype == .float32, g.groups == 1, g.dilation == (1, 1),
              outputChannels <= CPUBackend.directConvolutionMaxChannels, inputChannels <= CPUBackend.directConvolutionMaxChannels,
              tessera_kernels_have_avx2() != 0 else { return false }
        switch pass {
        case .forward: return true
        case .inputGradient: return inputChannels >= 4
        // With one input channel the GEMM is [O, k·k] x [k·k, N·H·W]ᵀ: a few dozen rows and
        // columns over a huge inner dimension, which OpenBLAS runs slowly (LeNet's first
        // layer: the step went from 8.0 to 10.8 thousand samples/s). With three (ResNet's
        // RGB input) the GEMM was faster again.
        case .weightGradient: return inputChannels < 2 || CPUBackend.directWeightGradient
        }
    }

    /// Float scratch from the caching allocator (the convolutions' `withScratch`).
    private func scratch<R>(_ count: Int, _ body: (UnsafeMutablePointer<Float>) -> R) -> R {
        withScratch(count, Float.self, body)
    }

    /// Copies `channels` planes `[h][w]` into `[hp][wp]` with `top`/`left` zero rows/columns
    /// before them (and zeros after).
    private func padPlanes(_ source: UnsafePointer<Float>, channels: Int, h: Int, w: Int,
                           into destination: UnsafeMutablePointer<Float>, hp: Int, wp: Int, top: Int, left: Int) {
        destination.update(repeating: 0, count: channels * hp * wp)
        for c in 0..<channels {
            for y in 0..<h where y + top >= 0 && y + top < hp {
                let columns = Swift.max(0, -left)..<Swift.min(w, wp - left)
                guard !columns.isEmpty else { continue }
                (destination + (c * hp + y + top) * wp + left + columns.lowerBound)
                    .update(from: source + (c * h + y) * w + columns.lowerBound, count: columns.count)
            }
        }
    }

    /// `out [N, O, Ho, Wo] = x ⋆ weight`.
    func conv2dDirect(_ x: Operand, _ weight: Operand, _ g: ConvolutionGeometry, _ out: Operand) {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (o, kh, kw) = (weight.shape[0], weight.shape[2], weight.shape[3])
        let (ho, wo) = (out.shape[2], out.shape[3])
        let hp = h + 2 * g.padding.0, wp = w + 2 * g.padding.1
        let (xp, wp0, op) = (x.elements(Float.self), weight.elements(Float.self), out.elements(Float.self))
        scratch((o + 7) / 8 * 8 * c * kh * kw) { packed in
            tessera_conv_pack_weight_f32(wp0, packed, Int32(o), Int32(c), Int32(kh), Int32(kw))
            parallelChunks(count: n, cost: o * c * kh * kw * ho * wo) { images in
                self.scratch(c * hp * wp) { padded in
                    for image in images {
                        self.padPlanes(xp + image * c * h * w, channels: c, h: h, w: w, into: padded, hp: hp, wp: wp,
                                       top: g.padding.0, left: g.padding.1)
                        tessera_conv2d_direct_f32(padded, Int32(c), Int32(hp), Int32(wp), packed, Int32(o), Int32(kh), Int32(kw),
                                                  Int32(g.stride.0), Int32(g.stride.1), op + image * o * ho * wo, Int32(ho), Int32(wo))
                    }
                }
            }
        }
    }

    /// `out [N, C, H, W]`: the gradient with respect to the input, as a stride-1 convolution of
    /// the output gradient (zero-stuffed by the stride, padded by `k - 1 - p`) with the weights
    /// flipped and their channel axes swapped.
    func conv2dInputGradientDirect(_ gradient: Operand, _ weight: Operand, _ g: ConvolutionGeometry, _ out: Operand) {
        let (n, c, h, w) = (out.shape[0], out.shape[1], out.shape[2], out.shape[3])
        let (o, kh, kw) = (weight.shape[0], weight.shape[2], weight.shape[3])
        let (ho, wo) = (gradient.shape[2], gradient.shape[3])
        let (sh, sw) = g.stride
        let hp = h + kh - 1, wp = w + kw - 1
        let top = kh - 1 - g.padding.0, left = kw - 1 - g.padding.1
        let (gp, w0, op) = (gradient.elements(Float.self), weight.elements(Float.self), out.elements(Float.self))
        // Wt [c][o][kh][kw] = W [o][c][kh-1-i][kw-1-j].
        scratch(c * o * kh * kw) { flipped in
            for oc in 0..<o {
                for ic in 0..<c {
                    for i in 0..<kh {
                        for j in 0..<kw {
                            flipped[((ic * o + oc) * kh + i) * kw + j] = w0[((oc * c + ic) * kh + (kh - 1 - i)) * kw + (kw - 1 - j)]
                        }
                    }
                }
            }
            scratch((c + 7) / 8 * 8 * o * kh * kw) { packed in
                tessera_conv_pack_weight_f32(flipped, packed, Int32(c), Int32(o), Int32(kh), Int32(kw))
                parallelChunks(count: n, cost: o * c * kh * kw * h * w) { images in
                    self.scratch(o * hp * wp) { stuffed in
                        for image in images {
                            let source = gp + image * o * ho * wo
                            if sh == 1 && sw == 1 {
                                self.padPlanes(source, channels: o, h: ho, w: wo, into: stuffed, hp: hp, wp: wp, top: top, left: left)
                            } else {
                                stuffed.update(repeating: 0, count: o * hp * wp)
                                for ch in 0..<o {
                                    for y in 0..<ho where y * sh + top >= 0 && y * sh + top < hp {
                                        for x in 0..<wo where x * sw + left >= 0 && x * sw + left < wp {
                                            stuffed[(ch * hp + y * sh + top) * wp + x * sw + left] = source[(ch * ho + y) * wo + x]
                                        }
                                    }
                                }
                            }
                            tessera_conv2d_direct_f32(stuffed, Int32(o), Int32(hp), Int32(wp), packed, Int32(c), Int32(kh), Int32(kw),
                                                      1, 1, op + image * c * h * w, Int32(h), Int32(w))
                        }
                    }
                }
            }
        }
    }

    /// `out [O, C, kh, kw]`: the gradient with respect to the weight.
    func conv2dWeightGradientDirect(_ x: Operand, _ gradient: Operand, _ g: ConvolutionGeometry, _ out: Operand) {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (o, kh, kw) = (out.shape[0], out.shape[2], out.shape[3])
        let (ho, wo) = (gradient.shape[2], gradient.shape[3])
        let hp = h + 2 * g.padding.0, wp = w + 2 * g.padding.1
        let lanes = (o + 7) / 8 * 8
        let (xp, gp, op) = (x.elements(Float.self), gradient.elements(Float.self), out.elements(Float.self))
        scratch(n * c * hp * wp) { padded in
            scratch(n * ho * wo * lanes) { transposed in
                parallelChunks(count: n, cost: (c + o) * ho * wo) { images in
                    for image in images {
                        self.padPlanes(xp + image * c * h * w, channels: c, h: h, w: w, into: padded + image * c * hp * wp,
                                       hp: hp, wp: wp, top: g.padding.0, left: g.padding.1)
                        let t = transposed + image * ho * wo * lanes, source = gp + image * o * ho * wo
                        t.update(repeating: 0, count: ho * wo * lanes)
                        for ch in 0..<o { for p in 0..<(ho * wo) { t[p * lanes + ch] = source[ch * ho * wo + p] } }
                    }
                }
                parallelChunks(count: c, cost: n * o * kh * kw * ho * wo) { channels in
                    tessera_conv2d_weight_gradient_f32(padded, Int32(n), Int32(c), Int32(hp), Int32(wp), transposed, Int32(o),
                                                       Int32(ho), Int32(wo), Int32(kh), Int32(kw), Int32(g.stride.0), Int32(g.stride.1),
                                                       Int32(channels.lowerBound), Int32(channels.upperBound), op)
                }
            }
        }
    }
}
