/// Padding of a convolution or pooling window.
public enum ConvolutionPadding: Sendable, ExpressibleByIntegerLiteral {
    /// Zeros added on each side: rows, columns.
    case explicit(Int, Int)
    /// Output size equals input size (stride 1), zeros split as PyTorch's `padding="same"`.
    case same

    public init(integerLiteral value: Int) { self = .explicit(value, value) }
}

extension Tensor {
    /// 2-D cross-correlation over NCHW, as `torch.nn.functional.conv2d`.
    ///
    /// Shape: `[N, C, H, W] ⋆ [O, C / groups, kh, kw] (+ [O]) -> [N, O, Ho, Wo]`.
    public func conv2d(weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1), padding: ConvolutionPadding = 0,
                       dilation: (Int, Int) = (1, 1), groups: Int = 1) -> Tensor {
        tensorCheck(rank == 4, "[conv2d] input \(shapeText(shape)) should be [N, C, H, W]")
        tensorCheck(weight.rank == 4, "[conv2d] weight \(shapeText(weight.shape)) should be [O, C / groups, kh, kw]")
        tensorCheck(dtype == weight.dtype, "[conv2d] input dtype \(dtype) does not match weight dtype \(weight.dtype)")
        tensorCheck(device == weight.device, "[conv2d] input on \(device), weight on \(weight.device)")
        tensorCheck(groups > 0 && shape[1] % groups == 0 && weight.shape[0] % groups == 0,
                    "[conv2d] \(groups) groups do not divide input channels \(shape[1]) and output channels \(weight.shape[0])")
        tensorCheck(shape[1] == weight.shape[1] * groups,
                    "[conv2d] input \(shapeText(shape)) has \(shape[1]) channels, weight expects \(weight.shape[1] * groups)")
        tensorCheck(stride.0 > 0 && stride.1 > 0 && dilation.0 > 0 && dilation.1 > 0,
                    "[conv2d] stride \(stride) and dilation \(dilation) must be positive")
        let (kh, kw) = (weight.shape[2], weight.shape[3])
        let pad: (Int, Int)
        switch padding {
        case .explicit(let ph, let pw):
            tensorCheck(ph >= 0 && pw >= 0, "[conv2d] negative padding (\(ph), \(pw))")
            pad = (ph, pw)
        case .same:
            tensorCheck(stride == (1, 1), "[conv2d] padding .same needs stride 1, got \(stride)")
            let th = dilation.0 * (kh - 1), tw = dilation.1 * (kw - 1)
            tensorCheck(th % 2 == 0 && tw % 2 == 0, "[conv2d] padding .same needs an odd effective kernel here")
            pad = (th / 2, tw / 2)
        }
        let geometry = ConvolutionGeometry(stride: stride, padding: pad, dilation: dilation, groups: groups)
        let ho = ConvolutionGeometry.outputSize(shape[2], kernel: kh, stride: stride.0, padding: pad.0, dilation: dilation.0)
        let wo = ConvolutionGeometry.outputSize(shape[3], kernel: kw, stride: stride.1, padding: pad.1, dilation: dilation.1)
        tensorCheck(ho > 0 && wo > 0,
                    "[conv2d] kernel \(kh)x\(kw) (dilation \(dilation)) is larger than the padded input \(shape[2] + 2 * pad.0)x\(shape[3] + 2 * pad.1)")
        var y = Tensor.convolution(self, weight, geometry, outputShape: [shape[0], weight.shape[0], ho, wo])
        if let bias {
            tensorCheck(bias.shape == [weight.shape[0]], "[conv2d] bias \(shapeText(bias.shape)) should be [\(weight.shape[0])]")
            y = y + bias.reshaped(to: [1, weight.shape[0], 1, 1])
        }
        return y
    }

    /// 1-D convolution over `[N, C, L]` (a 2-D convolution of height 1).
    public func conv1d(weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0, dilation: Int = 1,
                       groups: Int = 1) -> Tensor {
        tensorCheck(rank == 3 && weight.rank == 3, "[conv1d] input \(shapeText(shape)) and weight \(shapeText(weight.shape)) should be [N, C, L] and [O, C / groups, k]")
        return unsqueezed(axis: 2).conv2d(weight: weight.unsqueezed(axis: 2), bias: bias, stride: (1, stride),
                                          padding: .explicit(0, padding), dilation: (1, dilation), groups: groups)
            .squeezed(axis: 2)
    }

    /// 2-D transposed convolution over NCHW, as `torch.nn.functional.conv_transpose2d`: the
    /// adjoint of `conv2d` with the same weight, so its forward is conv2d's input gradient.
    ///
    /// Shape: `[N, C, H, W] ⋆ᵀ [C, O / groups, kh, kw] (+ [O]) -> [N, O, Ho, Wo]` with
    /// `Ho = (H - 1)·stride - 2·padding + dilation·(kh - 1) + outputPadding + 1`.
    public func convTranspose2d(weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1),
                                padding: (Int, Int) = (0, 0), outputPadding: (Int, Int) = (0, 0),
                                dilation: (Int, Int) = (1, 1), groups: Int = 1) -> Tensor {
        let op = "[convTranspose2d]"
        tensorCheck(rank == 4, "\(op) input \(shapeText(shape)) should be [N, C, H, W]")
        tensorCheck(weight.rank == 4, "\(op) weight \(shapeText(weight.shape)) should be [C, O / groups, kh, kw]")
        tensorCheck(dtype == weight.dtype, "\(op) input dtype \(dtype) does not match weight dtype \(weight.dtype)")
        tensorCheck(device == weight.device, "\(op) input on \(device), weight on \(weight.device)")
        tensorCheck(groups > 0 && shape[1] % groups == 0, "\(op) \(groups) groups do not divide input channels \(shape[1])")
        tensorCheck(shape[1] == weight.shape[0],
                    "\(op) input \(shapeText(shape)) has \(shape[1]) channels, weight expects \(weight.shape[0])")
        tensorCheck(stride.0 > 0 && stride.1 > 0 && dilation.0 > 0 && dilation.1 > 0,
                    "\(op) stride \(stride) and dilation \(dilation) must be positive")
        tensorCheck(padding.0 >= 0 && padding.1 >= 0, "\(op) negative padding \(padding)")
        tensorCheck(outputPadding.0 >= 0 && outputPadding.1 >= 0
                    && (outputPadding.0 < stride.0 || outputPadding.0 < dilation.0)
                    && (outputPadding.1 < stride.1 || outputPadding.1 < dilation.1),
                    "\(op) output padding \(outputPadding) must be smaller than stride \(stride) or dilation \(dilation)")
        let (kh, kw) = (weight.shape[2], weight.shape[3])
        let ho = (shape[2] - 1) * stride.0 - 2 * padding.0 + dilation.0 * (kh - 1) + outputPadding.0 + 1
        let wo = (shape[3] - 1) * stride.1 - 2 * padding.1 + dilation.1 * (kw - 1) + outputPadding.1 + 1
        tensorCheck(ho > 0 && wo > 0, "\(op) padding \(padding) leaves no output for input \(shapeText(shape))")
        let outChannels = weight.shape[1] * groups
        let geometry = ConvolutionGeometry(stride: stride, padding: padding, dilation: dilation, groups: groups)
        var y = Tensor.convolutionInputGradient(self, weight, geometry, inputShape: [shape[0], outChannels, ho, wo])
        if let bias {
            tensorCheck(bias.shape == [outChannels], "\(op) bias \(shapeText(bias.shape)) should be [\(outChannels)]")
            y = y + bias.reshaped(to: [1, outChannels, 1, 1])
        }
        return y
    }

    // The three linear maps of a convolution, each differentiable through the other two,
    // so that second derivatives (gradient penalties, Hessian-vector products) work.

    static func convolution(_ x: Tensor, _ w: Tensor, _ g: ConvolutionGeometry, outputShape: [Int]) -> Tensor {
        let xc = x.contiguous(), wc = w.contiguous()
        let out = Tensor(uninitializedShape: outputShape, dtype: x.dtype, backend: x.backend)
        out.backend.conv2d(xc.operand, weight: wc.operand, geometry: g, into: out.operand)
        let inputShape = x.shape
        return out.recorded("conv2d", x, w) { gy, _ in
            [x.requiresGrad ? Tensor.convolutionInputGradient(gy, w, g, inputShape: inputShape) : nil,
             w.requiresGrad ? Tensor.convolutionWeightGradient(x, gy, g, weightShape: w.shape) : nil]
        }
    }

    static func convolutionInputGradient(_ gy: Tensor, _ w: Tensor, _ g: ConvolutionGeometry, inputShape: [Int]) -> Tensor {
        let gc = gy.contiguous(), wc = w.contiguous()
        let out = Tensor(uninitializedShape: inputShape, dtype: gy.dtype, backend: gy.backend)
        out.backend.conv2dInputGradient(gc.operand, weight: wc.operand, geometry: g, into: out.operand)
        let outputShape = gy.shape
        return out.recorded("conv2dInputGradient", gy, w) { gg, _ in
            [gy.requiresGrad ? Tensor.convolution(gg, w, g, outputShape: outputShape) : nil,
             w.requiresGrad ? Tensor.convolutionWeightGradient(gg, gy, g, weightShape: w.shape) : nil]
        }
    }

    static func convolutionWeightGradient(_ x: Tensor, _ gy: Tensor, _ g: ConvolutionGeometry, weightShape: [Int]) -> Tensor {
        let xc = x.contiguous(), gc = gy.contiguous()
        let out = Tensor(uninitializedShape: weightShape, dtype: x.dtype, backend: x.backend)
        out.backend.conv2dWeightGradient(xc.operand, gradient: gc.operand, geometry: g, into: out.operand)
        let inputShape = x.shape, outputShape = gy.shape
        return out.recorded("conv2dWeightGradient", x, gy) { gw, _ in
            [x.requiresGrad ? Tensor.convolutionInputGradient(gy, gw, g, inputShape: inputShape) : nil,
             gy.requiresGrad ? Tensor.convolution(x, gw, g, outputShape: outputShape) : nil]
        }
    }
}

extension Tensor {
    /// Max pooling over NCHW; the gradient goes to each window's (first) maximum.
    public func maxPool2d(kernelSize: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0)) -> Tensor {
        let st = stride ?? kernelSize
        tensorCheck(rank == 4, "[maxPool2d] input \(shapeText(shape)) should be [N, C, H, W]")
        tensorCheck(kernelSize.0 > 0 && kernelSize.1 > 0 && st.0 > 0 && st.1 > 0,
                    "[maxPool2d] kernel \(kernelSize) and stride \(st) must be positive")
        tensorCheck(padding.0 >= 0 && padding.1 >= 0 && padding.0 * 2 <= kernelSize.0 && padding.1 * 2 <= kernelSize.1,
                    "[maxPool2d] padding \(padding) must be non-negative and at most half the kernel \(kernelSize)")
        let ho = ConvolutionGeometry.outputSize(shape[2], kernel: kernelSize.0, stride: st.0, padding: padding.0, dilation: 1)
        let wo = ConvolutionGeometry.outputSize(shape[3], kernel: kernelSize.1, stride: st.1, padding: padding.1, dilation: 1)
        tensorCheck(ho > 0 && wo > 0, "[maxPool2d] kernel \(kernelSize) is larger than the padded input \(shapeText(shape))")
        let x = contiguous()
        let out = Tensor(uninitializedShape: [shape[0], shape[1], ho, wo], dtype: dtype, backend: backend)
        let indices = Tensor(uninitializedShape: out.shape, dtype: .int64, backend: backend)
        backend.maxPool2d(x.operand, kernel: kernelSize, stride: st, padding: padding, into: out.operand, indices: indices.operand)
        let inputShape = shape
        return out.recorded("maxPool2d", self) { g, _ in
            let (n, c) = (inputShape[0], inputShape[1])
            let flat = Tensor.zeros([n, c, inputShape[2] * inputShape[3]], dtype: g.dtype, device: g.device)
            return [flat.scatterAdding(axis: 2, index: indices.reshaped(to: [n, c, -1]), source: g.reshaped(to: [n, c, -1]))
                .reshaped(to: inputShape)]
        }
    }

    /// `maxPool2d` with a square window, stride and padding.
    public func maxPool2d(kernelSize: Int, stride: Int? = nil, padding: Int = 0) -> Tensor {
        maxPool2d(kernelSize: (kernelSize, kernelSize), stride: stride.map { ($0, $0) }, padding: (padding, padding))
    }

    /// Average pooling over NCHW (zeros in the padding count, as PyTorch's default): a
    /// depthwise convolution with weights 1 / (kh kw), so its gradients come for free.
    public func avgPool2d(kernelSize: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0)) -> Tensor {
        tensorCheck(rank == 4, "[avgPool2d] input \(shapeText(shape)) should be [N, C, H, W]")
        tensorCheck(padding.0 * 2 <= kernelSize.0 && padding.1 * 2 <= kernelSize.1,
                    "[avgPool2d] padding \(padding) must be at most half the kernel \(kernelSize)")
        let c = shape[1]
        let weight = Tensor.full([c, 1, kernelSize.0, kernelSize.1], value: 1 / Double(kernelSize.0 * kernelSize.1),
                                 dtype: dtype, device: device)
        return conv2d(weight: weight, stride: stride ?? kernelSize, padding: .explicit(padding.0, padding.1), groups: c)
    }

    /// `avgPool2d` with a square window, stride and padding.
    public func avgPool2d(kernelSize: Int, stride: Int? = nil, padding: Int = 0) -> Tensor {
        avgPool2d(kernelSize: (kernelSize, kernelSize), stride: stride.map { ($0, $0) }, padding: (padding, padding))
    }

    /// Max pooling over `[N, C, L]` (2-D pooling of height 1).
    public func maxPool1d(kernelSize: Int, stride: Int? = nil, padding: Int = 0) -> Tensor {
        asHeightOne("maxPool1d") { $0.maxPool2d(kernelSize: (1, kernelSize), stride: (1, stride ?? kernelSize), padding: (0, padding)) }
    }

    /// Average pooling over `[N, C, L]` (zeros in the padding count).
    public func avgPool1d(kernelSize: Int, stride: Int? = nil, padding: Int = 0) -> Tensor {
        asHeightOne("avgPool1d") { $0.avgPool2d(kernelSize: (1, kernelSize), stride: (1, stride ?? kernelSize), padding: (0, padding)) }
    }

    /// A 2-D operation on `[N, C, L]` seen as `[N, C, 1, L]`.
    private func asHeightOne(_ op: StaticString, _ body: (Tensor) -> Tensor) -> Tensor {
        tensorCheck(rank == 3, "[\(op)] input \(shapeText(shape)) should be [N, C, L]")
        return body(unsqueezed(axis: 2)).squeezed(axis: 2)
    }
}
